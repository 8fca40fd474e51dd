"""Supervision through the real command line on a real SQLite ledger and on a real
PostgreSQL one: one scenario per duty (spot checks, interruptions, work records, lending,
media return, devices), each ending with `dockd audit verify` intact. Expected values are
written out by hand."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import update
from sqlalchemy.sql.dml import Update

from dockd.adapters.ledger.schema import InterruptionRow, SpotCheckItemRow
from dockd.adapters.ledger.supervision import LedgerSupervision
from tests.conftest import REPO, Dockd
from tests.integration.test_policy_packs_e2e import (
    audit_ok,
    ingest,
    ledger_api,
    local_now,
    mp4,
    name,
    recorder,
    recordings,
    use_pack,
)
from tests.support.ledgers import on_both_ledgers  # noqa: F401  (the `dockd` fixture)

#: Lists of the report that are not problems: they alone do not make it exit 1.
NOT_PROBLEMS = {"work_records", "exports"}


@cache
def validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((REPO / "schemas" / schema).read_text("utf-8")))


def conforms(document: Any, schema: str) -> None:
    """The output is what its committed schema says (DESIGN: every --json has one)."""
    errors = [e.message for e in validator(schema).iter_errors(document)]
    assert errors == [], errors


def deadlines(dockd: Dockd) -> dict[str, Any]:
    """The report of the last 24 h; it exits 1 exactly when it lists a problem."""
    result = dockd.run("report", "deadlines", "--since", "24h", "--json")
    rep: dict[str, Any] = json.loads(result.stdout)
    conforms(rep, "report.schema.json")
    problems = any(isinstance(v, list) and v for k, v in rep.items() if k not in NOT_PROBLEMS)
    assert result.returncode == (1 if problems else 0), result.stderr
    return rep


def tamper(dockd: Dockd, statement: Update) -> None:
    """Edit the ledger behind dockd's back, as someone with the database's password could."""
    ledger = ledger_api(dockd)
    try:
        with ledger.transaction() as s:
            s.execute(statement)
    finally:
        ledger.close()


def registered(dockd: Dockd, serial: str, badge: str, unit: str, at: datetime) -> None:
    dockd.run("devices", "add", serial, "--model", "DSJ", "--by", "admin", check=True)
    dockd.run(
        "devices", "assign", serial, "--badge", badge, "--name", f"Officer {badge}",
        "--unit", unit, "--at", at.isoformat(), "--by", "admin", check=True,
    )  # fmt: skip


def test_spot_check_draw_is_recorded_first_reviewed_and_tamper_evident(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")  # ratio 0.05
    registered(dockd, "QD01", "3301", "Patrol", local_now() - timedelta(days=1))
    start = local_now() - timedelta(hours=3)
    clips = {name("QD01", "3301", start + timedelta(minutes=i), i): b"c%d" % i for i in (1, 2, 3)}
    ingest(dockd, recorder(tmp_path / "rec", clips), "QD01")
    before = dockd.custody_events("device-assigned")

    drawn = dockd.json("spotcheck", "draw", "--since", "1d", "--by", "supervisor")
    conforms(drawn, "spotcheck-draw.schema.json")
    assert drawn["population"] == 3
    assert drawn["ratio"] == 0.05
    (item,) = drawn["items"]  # ceil(0.05 × 3) = 1
    assert item["unit"] == "Patrol"
    assert item["custodian"] == "Officer 3301 (3301)"
    (event,) = dockd.custody_events("spotcheck-drawn")
    assert event["details"]["seed"] == drawn["seed"]
    assert event["actor"] == "supervisor"
    assert before  # the draw came after the assignment: the seed is not the genesis hash
    assert drawn["seed"] != "0" * 64

    ok = dockd.run("spotcheck", "verify", str(drawn["id"]))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rep = deadlines(dockd)
    assert [o["item"] for o in rep["spot_checks_open"]] == [item["item"]]
    assert rep["spot_check_findings"] == []

    dockd.add_operator("9001", "supervisor", unit="Patrol")
    wrong = dockd.run(
        "spotcheck", "review", str(item["item"]), "--reviewer", "9001", "--recorded", "yes",
        "--uninterrupted", "yes", "--handed-over", "no", "--passphrase-stdin", input="nope-nope\n",
    )  # fmt: skip
    assert wrong.returncode != 0
    done = dockd.run(
        "spotcheck", "review", str(item["item"]), "--reviewer", "9001", "--recorded", "yes",
        "--uninterrupted", "yes", "--handed-over", "no", "--note", "handed over late",
        "--passphrase-stdin", input="passphrase-9001\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rep = deadlines(dockd)
    assert rep["spot_checks_open"] == []
    (finding,) = rep["spot_check_findings"]
    assert (finding["reviewer"], finding["handed_over"], finding["note"]) == (
        "9001",
        False,
        "handed over late",
    )
    audit_ok(dockd)

    others = sorted(r["id"] for r in recordings(dockd).values() if r["id"] != item["recording"])
    tamper(
        dockd,
        update(SpotCheckItemRow)
        .where(SpotCheckItemRow.id == item["item"])
        .values(recording=others[0]),
    )
    bad = dockd.run("spotcheck", "verify", str(drawn["id"]))
    assert bad.returncode == 1
    assert "differs" in bad.stdout


def test_interruption_explained_reviewed_and_covered_by_a_work_record(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")  # gap tolerance 120 s
    first_start = local_now() - timedelta(hours=3)
    second_start = first_start + timedelta(minutes=15)  # 10 minutes after the first ends
    first = name("QD02", "3302", first_start, 1, "MP4")
    second = name("QD02", "3302", second_start, 2, "MP4")
    ingest(dockd, recorder(tmp_path / "rec", {first: mp4(300, 1), second: mp4(300, 2)}), "QD02")

    (gap,) = deadlines(dockd)["interruptions"]
    assert (gap["explanation"], gap["covered_by"]) == (None, [])
    gid = str(gap["id"])
    early = dockd.run("interruptions", "review", gid, "--by", "9001")
    assert early.returncode != 0
    assert "no explanation" in early.stderr

    dockd.run("interruptions", "explain", gid, "--by", "3302", "--text", "battery", check=True)
    dockd.run("interruptions", "review", gid, "--by", "9001", check=True)
    (gap,) = deadlines(dockd)["interruptions"]
    assert (gap["explanation"], gap["explained_by"], gap["reviewed_by"]) == (
        "battery",
        "3302",
        "9001",
    )

    gap_start = first_start + timedelta(minutes=5)
    added = dockd.run(
        "exemptions", "add", "--badge", "3302",
        "--from", (gap_start - timedelta(minutes=1)).isoformat(),
        "--to", (second_start + timedelta(minutes=1)).isoformat(),
        "--reason", "informant's request", "--basis", "002:12", "--reported-to", "9001",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    rep = deadlines(dockd)
    (record,) = rep["work_records"]
    assert (record["badge"], record["basis"], record["reported_to"]) == ("3302", "002:12", "9001")
    assert rep["interruptions"][0]["covered_by"] == [record["id"]]
    backwards = dockd.run(
        "exemptions", "add", "--badge", "3302", "--from", second_start.isoformat(),
        "--to", first_start.isoformat(), "--reason", "x", "--basis", "002:12",
        "--reported-to", "9001",
    )  # fmt: skip
    assert backwards.returncode == 2
    assert "is not after" in backwards.stderr
    audit_ok(dockd)


def test_an_unexplained_gap_stays_in_later_reports(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "qidong")
    first_start = local_now() - timedelta(hours=3)
    clips = {
        name("QD03", "3303", first_start, 1, "MP4"): mp4(60, 1),
        name("QD03", "3303", first_start + timedelta(minutes=30), 2, "MP4"): mp4(60, 2),
    }
    ingest(dockd, recorder(tmp_path / "rec", clips), "QD03")
    (gap,) = deadlines(dockd)["interruptions"]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    tamper(dockd, update(InterruptionRow).values(detected_at=week_ago))
    assert [g["id"] for g in deadlines(dockd)["interruptions"]] == [gap["id"]]
    dockd.run("interruptions", "explain", str(gap["id"]), "--by", "3303", "--text", "x", check=True)
    assert deadlines(dockd)["interruptions"] == []


def test_lending_is_flagged_against_the_custodian_at_the_recordings_time(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")
    now = local_now()
    registered(dockd, "QD04", "3304", "Patrol", now - timedelta(days=2))
    # handed to 3305 six hours ago, entered only now with its real time
    dockd.run(
        "devices", "assign", "QD04", "--badge", "3305", "--name", "Officer 3305",
        "--unit", "Patrol", "--at", (now - timedelta(hours=6)).isoformat(), check=True,
    )  # fmt: skip
    own = name("QD04", "3305", now - timedelta(hours=2), 1)
    borrowed = name("QD04", "3306", now - timedelta(hours=1), 2)
    ingest(dockd, recorder(tmp_path / "rec", {own: b"own", borrowed: b"lent"}), "QD04")

    (item,) = deadlines(dockd)["lending"]
    assert (item["path"], item["badge_in_name"], item["custodian"]) == (
        borrowed,
        "3306",
        "Officer 3305 (3305)",
    )
    assert item["recording"] == recordings(dockd)[borrowed]["id"]
    audit_ok(dockd)


def test_devices_reclaimed_retired_unregistered_and_short_of_the_ratio(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "dandong-civil-affairs")  # 004:9: at least two per unit
    now = local_now()
    registered(dockd, "DD01", "4401", "Office", now - timedelta(days=1))
    registered(dockd, "DD02", "4402", "Office", now - timedelta(days=1))
    assert deadlines(dockd)["equipment"] == []

    dockd.run("devices", "reclaim", "DD02", "--reason", "officer transferred", check=True)
    listed = {d["serial"]: d for d in dockd.json("devices", "list")}
    conforms(list(listed.values()), "devices.schema.json")
    assert listed["DD02"]["custodian"] is None, "back in the pool"
    assert [(h["badge"], h["until"] is None) for h in listed["DD02"]["history"]] == [
        ("4402", False)
    ]
    (short,) = deadlines(dockd)["equipment"]
    assert (short["unit"], short["recorders"], short["officers"], short["needed"]) == (
        "Office",
        1,
        2,
        2,
    )
    assert short["articles"] == ["004:9"]
    again = dockd.run("devices", "reclaim", "DD02", "--reason", "twice")
    assert again.returncode != 0
    dockd.run("devices", "retire", "DD02", "--reason", "lens broken", check=True)
    listed = {d["serial"]: d for d in dockd.json("devices", "list")}
    conforms(list(listed.values()), "devices.schema.json")
    assert (listed["DD01"]["retired_at"], listed["DD02"]["retired_at"] is not None) == (None, True)
    shown = dockd.run("devices", "list", check=True).stdout.splitlines()
    assert shown[0].split() == ["DD01", "DSJ", "Officer", "4401", "(4401),", "Office"]
    assert shown[1].split() == ["DD02", "DSJ", "retired"], "not 'unassigned': not in the pool"
    refused = dockd.run(
        "devices", "assign", "DD02", "--badge", "4402", "--name", "x", "--unit", "Office"
    )
    assert refused.returncode != 0
    assert "retired" in refused.stderr

    ingest(dockd, recorder(tmp_path / "rec", {name("DD09", "4409", now): b"x"}), "DD09")
    (stranger,) = deadlines(dockd)["unregistered_recorders"]
    assert stranger["serial"] == "DD09"
    kinds = [e["details"]["rows"][-1]["table"] for e in dockd.custody_events("device-retired")]
    assert kinds == ["device_changes"]
    audit_ok(dockd)


def test_mingshan_reports_a_recorder_kept_off_the_dock_over_24_hours(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "mingshan-emergency")  # 003/E:9: back within 24 h
    now = datetime.now(UTC).replace(microsecond=0)
    ledger = ledger_api(dockd)
    try:
        supervision = LedgerSupervision(ledger)
        supervision.record_unplug("MS05", None, now - timedelta(hours=25))
        supervision.record_unplug("MS06", None, now - timedelta(hours=23))
    finally:
        ledger.close()
    (held,) = deadlines(dockd)["media_held"]
    assert held["serial"] == "MS05"
    assert held["docked_again"] is None
    assert 3600 <= held["held_over_s"] < 3600 + 120
    use_pack(dockd, "qidong")  # no media-return article
    assert deadlines(dockd)["media_held"] == []
    audit_ok(dockd)


def test_the_admin_sets_a_ratio_the_seed_leaves_open_and_the_draw_uses_it(
    dockd: Dockd, tmp_path: Path
) -> None:
    """Luoyang's seed gives no spot-check ratio: `policy show` says the 5 % is dockd's own
    and how to set it; a pack of the agency's own under `[rules] dir` sets 0.5."""
    use_pack(dockd, "luoyang-water")
    shown = dockd.run("policy", "show", check=True).stdout
    assert "[spot_check]  not in the seed: dockd's own\n  ratio = 0.05  (dockd's own" in shown
    rules = REPO / "rules"
    assert f"copy {rules} to a folder of your own, edit policies/luoyang-water.toml" in shown

    own = tmp_path / "agency-rules"
    shutil.copytree(rules, own)
    pack = own / "policies" / "luoyang-water.toml"
    text = pack.read_text("utf-8")
    assert text.count("ratio = 0.05\n") == 1
    pack.write_text(text.replace("ratio = 0.05\n", "ratio = 0.5\n"), "utf-8")
    config = dockd.config.read_text("utf-8")
    dockd.config.write_text(config + f'\n[rules]\ndir = "{own}"\n', "utf-8")
    assert dockd.json("policy", "show")["spot_check"]["ratio"] == 0.5

    # two officers of two units, three recordings each: two strata of 3
    start = local_now() - timedelta(hours=3)
    for serial, badge, unit in (("LY01", "1101", "Dyke patrol"), ("LY02", "1102", "Reservoir")):
        registered(dockd, serial, badge, unit, start - timedelta(days=1))
        clips = {name(serial, badge, start + timedelta(minutes=i), i): b"%s%d" % (badge.encode(), i)
                 for i in (1, 2, 3)}  # fmt: skip
        ingest(dockd, recorder(tmp_path / serial, clips), serial)
    drawn = dockd.json("spotcheck", "draw", "--since", "1d", "--by", "supervisor")
    assert (drawn["ratio"], drawn["population"], len(drawn["items"])) == (0.5, 6, 3)  # ceil(3.0)
    # each stratum's share is 1.5: one gets 2, the other 1, and every item is its own officer's
    per_unit = {u: [i["custodian"] for i in drawn["items"] if i["unit"] == u]
                for u in ("Dyke patrol", "Reservoir")}  # fmt: skip
    assert sorted(len(c) for c in per_unit.values()) == [1, 2]
    assert set(per_unit["Dyke patrol"]) == {"Officer 1101 (1101)"}
    assert set(per_unit["Reservoir"]) == {"Officer 1102 (1102)"}
    assert dockd.run("spotcheck", "verify", str(drawn["id"])).returncode == 0
