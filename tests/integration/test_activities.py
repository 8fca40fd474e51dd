"""Activities that must be recorded, through the real command line on real SQLite and
PostgreSQL ledgers: the list imported all or nothing, the report's unrecorded activities, and
Qidong's patrol footage taking its 6-month class (002:18(1)) with the chain intact and
expiry at the new date. Expected shares and states are written out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dockd.app import build, load_config
from tests.conftest import Dockd
from tests.integration.test_policy_packs_e2e import (
    SHANGHAI,
    audit_ok,
    ingest,
    local_now,
    months_later,
    mp4,
    name,
    recorder,
    recordings,
    use_pack,
    when,
)
from tests.integration.test_supervision import deadlines
from tests.support.ledgers import on_both_ledgers  # noqa: F401  (the `dockd` fixture)

HEADER = "id,type,badges,unit,start,end,place\n"


def csv_file(path: Path, *rows: tuple[str, str, str, datetime, datetime]) -> Path:
    lines = [f"{i},{kind},{badges},Patrol,{a.isoformat()},{b.isoformat()},harbour\n"
             for i, kind, badges, a, b in rows]  # fmt: skip
    path.write_text(HEADER + "".join(lines), "utf-8")
    return path


def test_import_is_all_or_nothing_and_the_report_lists_what_lacks_footage(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")  # complaint must be recorded (002:9(四))
    t0 = local_now() - timedelta(hours=3)
    clip = name("QD11", "3311", t0, 1, "MP4")
    ingest(dockd, recorder(tmp_path / "rec", {clip: mp4(600, 1)}), "QD11")  # t0 .. t0+10 min
    rid = recordings(dockd)[clip]["id"]

    bad = tmp_path / "bad.csv"
    later, naive = (t0 + timedelta(minutes=30)).isoformat(), t0.replace(tzinfo=None).isoformat()
    bad.write_text(
        HEADER
        + f"D-1,complaint,3399,Patrol,{t0.isoformat()},{later},pier\n"
        + f"D-2,complaint,3311,Patrol,{t0.isoformat()},{naive},pier\n",
        "utf-8",
    )
    refused = dockd.run("activities", "import", str(bad))
    assert refused.returncode == 2
    assert "ACTIVITIES_INVALID" in refused.stderr
    assert (
        "line 3: end " in refused.stderr and "has no UTC offset: add one (+08:00)" in refused.stderr
    )
    assert "nothing was imported" in refused.stderr
    assert deadlines(dockd)["unrecorded_activities"] == []
    assert dockd.custody_events("activities-imported") == []

    good = csv_file(
        tmp_path / "good.csv",
        ("D-1", "complaint", "3399", t0, t0 + timedelta(minutes=30)),
        ("D-2", "complaint", "3311", t0, t0 + timedelta(minutes=20)),
        ("D-3", "complaint", "3398", t0, t0 + timedelta(minutes=15)),
        ("D-4", "meeting", "3397", t0, t0 + timedelta(minutes=15)),
    )
    added = dockd.run(
        "exemptions", "add", "--badge", "3398",
        "--from", (t0 - timedelta(minutes=1)).isoformat(),
        "--to", (t0 + timedelta(minutes=16)).isoformat(),
        "--reason", "explosion risk", "--basis", "002:12", "--reported-to", "9001",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = dockd.run("activities", "import", str(good), "--by", "dispatcher")
    assert done.returncode == 0, done.stderr
    assert "4 activities imported, 0 already there" in done.stdout

    items = {i["activity"]: i for i in deadlines(dockd)["unrecorded_activities"]}
    assert sorted(items) == ["D-1", "D-2", "D-3"]  # a meeting need not be recorded
    assert (items["D-1"]["state"], items["D-1"]["covered_share"], items["D-1"]["recordings"]) == (
        "unrecorded",
        0.0,
        [],
    )
    assert (items["D-2"]["state"], items["D-2"]["covered_share"], items["D-2"]["recordings"]) == (
        "partial",
        0.5,
        [rid],
    )
    assert (items["D-3"]["state"], items["D-3"]["covered_share"]) == ("covered", 0.0)
    assert len(items["D-3"]["covered_by"]) == 1
    shown = recordings(dockd)[clip]
    assert shown["retention_class"] == "routine"  # a complaint: routine
    assert shown["activity_types"] == ["complaint"], "D-2 gave its recording its type"

    again = dockd.run("activities", "import", str(good))
    assert again.returncode == 0, again.stderr
    assert "0 activities imported, 4 already there" in again.stdout
    moved = csv_file(
        tmp_path / "moved.csv", ("D-1", "complaint", "3399", t0, t0 + timedelta(hours=1))
    )
    clash = dockd.run("activities", "import", str(moved))
    assert clash.returncode == 2
    assert "id D-1 was imported before with other facts" in clash.stderr
    assert len(dockd.custody_events("activities-imported")) == 1
    audit_ok(dockd)


def test_qidong_patrol_footage_takes_six_months_and_expires_at_the_new_date(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")
    t0 = local_now() - timedelta(days=240)  # past 6 months, within 12
    patrol, other = (
        name("QD12", "3312", t0, 1, "MP4"),
        name("QD12", "3312", t0 + timedelta(hours=2), 2, "MP4"),
    )
    ingest(dockd, recorder(tmp_path / "rec", {patrol: mp4(300, 1), other: mp4(300, 2)}), "QD12")
    before = recordings(dockd)
    end = when(before[patrol]["end"]).astimezone(SHANGHAI)
    assert end == t0 + timedelta(minutes=5)
    assert when(before[patrol]["retain_until"]) == months_later(end, 12)

    assert before[patrol]["activity_types"] == []
    listed = csv_file(
        tmp_path / "patrol.csv", ("P-1", "patrol", "3312", t0, t0 + timedelta(minutes=5))
    )
    done = dockd.run("activities", "import", str(listed), "--by", "dispatcher")
    assert done.returncode == 0, done.stderr
    after = recordings(dockd)
    assert after[patrol]["retention_class"] == "patrol-inspection"
    assert (after[patrol]["activity_types"], after[other]["activity_types"]) == (["patrol"], [])
    new_date = when(after[patrol]["retain_until"])
    assert new_date == months_later(end, 6)
    assert after[other]["retention_class"] == "routine"  # outside the window
    assert after[other]["retain_until"] == before[other]["retain_until"]
    (event,) = dockd.custody_events("recording-reclassified")
    assert event["subject"] == str(after[patrol]["id"]) and event["actor"] == "dispatcher"
    assert event["details"]["before"]["retention_class"] == "routine"
    audit_ok(dockd)

    app = build(load_config(dockd.config))
    try:
        assert app.retention.due(new_date - timedelta(seconds=1)) == []
        (due,) = app.retention.due(new_date + timedelta(seconds=1))
        assert due.item.key == after[patrol]["object"]
    finally:
        app.close()
    expired = dockd.run("retention", "expire", "--by", "admin")
    assert expired.returncode == 0, expired.stderr
    assert "1 object(s) expired" in expired.stdout
    final = recordings(dockd)
    assert final[patrol]["expired_at"] is not None and final[other]["expired_at"] is None
    audit_ok(dockd)
