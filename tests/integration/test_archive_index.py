"""The archive index of Mingshan 003/E:17-18 through the real command line: a subject /
time / matter tree of links (or checked copies) and the index table at its root."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import Dockd
from tests.integration.test_policy_packs_e2e import ingest, local_now, name, recorder, use_pack

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_archive_index_files_every_recording_with_its_label(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "mingshan-emergency")
    start = local_now() - timedelta(hours=3)
    first, second = name("MS01", "5101", start, 1), name("MS01", "5101", start, 2)
    ingest(dockd, recorder(tmp_path / "rec", {first: b"first", second: b"second"}), "MS01")
    by_path = {r["path"]: r for r in dockd.json("recordings")}
    one, two = by_path[first], by_path[second]
    dockd.run("holds", "add", str(one["id"]), "--case", "MS-2026-17", check=True)
    phrase = dockd.add_operator("K1", "records keeper")
    labelled = dockd.run(
        "archive",
        "classify",
        str(two["id"]),
        "--as",
        "秘密",
        "--subject",
        "大连某化工企业",
        "--matter",
        "安全检查",
        "--by",
        "K1",
        "--passphrase-stdin",
        input=phrase + "\n",
    )
    assert labelled.returncode == 0, labelled.stderr
    bad = dockd.run(
        "archive",
        "classify",
        str(two["id"]),
        "--as",
        "top secret",
        "--by",
        "K1",
        "--passphrase-stdin",
        input=phrase + "\n",
    )
    assert (bad.returncode, "公开, 内部, 秘密, 机密, 绝密" in bad.stderr) == (2, True)
    (event,) = dockd.custody_events("recording-classified")
    assert (event["subject"], event["actor"]) == (str(two["id"]), "K1")
    assert event["details"]["before"]["classification"] == "内部"
    assert event["details"]["after"] == {
        "classification": "秘密",
        "subject": "大连某化工企业",
        "matter": "安全检查",
    }

    out = tmp_path / "archive"
    dockd.run("archive", "index", "--out", str(out), "--by", "K1", check=True)
    table = list(csv.reader(io.StringIO((out / "存储信息明细表.csv").read_text("utf-8-sig"))))
    assert table[0] == ["编号", "题名", "时间", "密级", "保管期限", "文件"]
    day = start.astimezone(SHANGHAI).date().isoformat()
    rows = {r[0]: r for r in table[1:]}
    assert rows[f"{one['id']:08d}"][1:5] == [
        "MS-2026-17",
        start.astimezone(SHANGHAI).isoformat(),
        "内部",
        "随案卷保存",
    ]
    labelled_row = rows[f"{two['id']:08d}"]
    assert labelled_row[1] == "大连某化工企业" and labelled_row[3] == "秘密"
    assert labelled_row[4].startswith("至 "), "routine: kept until its retain-until date"
    assert labelled_row[5] == f"大连某化工企业/{day}/安全检查/{two['id']:08d}-{second}"
    assert (
        rows[f"{one['id']:08d}"][5] == f"MS-2026-17/{day}/执法记录仪 MS01/{one['id']:08d}-{first}"
    )
    for row in table[1:]:
        filed = out / row[5]
        assert (
            filed.is_symlink()
            and filed.resolve()
            == (
                dockd.store / by_path[first if row[0] == f"{one['id']:08d}" else second]["object"]
            ).resolve()
        )
    page = (out / "存储信息明细表.html").read_text("utf-8")
    assert "<th>密级</th>" in page and "大连某化工企业" in page
    (indexed,) = dockd.custody_events("archive-indexed")
    assert sorted(indexed["details"]["recordings"]) == sorted([one["id"], two["id"]])

    copies = tmp_path / "copies"
    dockd.run("archive", "index", "--out", str(copies), "--copy", check=True)
    copy = copies / labelled_row[5]
    assert not copy.is_symlink()
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == two["sha256"]
    again = dockd.run("archive", "index", "--out", str(copies))
    assert (again.returncode, "not an empty folder" in again.stderr) == (2, True)
    # a classification is evidence: the changed recording row is on its custody event
    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
