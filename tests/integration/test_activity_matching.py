"""Activities matched without anyone running `dockd activities match`: after each dock
session (for the activities its recordings may cover) and before each report (for the
period); and matched through the custodian when the file names carry no badge, with the
custodian as `dockd devices assign --at` entered them. Real CLI, real SQLite and PostgreSQL
ledgers.

Qidong's pack: a complaint must be recorded (002:9(四)). A DCF recorder names its files by
start time only (rules/recorders/dcim.toml): whose footage it is, is whose recorder it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import Dockd
from tests.integration.test_activities import csv_file
from tests.integration.test_policy_packs_e2e import (
    audit_ok,
    ingest,
    local_now,
    mp4,
    name,
    recorder,
    recordings,
    use_pack,
)
from tests.integration.test_supervision import deadlines
from tests.support.ledgers import on_both_ledgers  # noqa: F401  (the `dockd` fixture)


def dcf(start: datetime) -> str:
    return f"DCIM/100MEDIA/{start:%Y%m%d_%H%M%S}_0001.MP4"


def ok(dockd: Dockd, *args: str) -> str:
    result = dockd.run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def matched(event: dict[str, Any]) -> list[int]:
    """The recordings an `activity-matched` event linked, from the rows it carries."""
    rows = event["details"]["rows"]
    return [r["row"]["recording"] for r in rows if r["table"] == "activity_recordings"]


def unrecorded(dockd: Dockd) -> dict[str, dict[str, Any]]:
    return {i["activity"]: i for i in deadlines(dockd)["unrecorded_activities"]}


def test_a_dock_session_matches_the_activities_its_footage_covers(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")
    t0 = local_now() - timedelta(hours=3)
    listed = csv_file(
        tmp_path / "list.csv",
        ("C-1", "complaint", "3311", t0, t0 + timedelta(minutes=10)),
        ("C-2", "complaint", "3311", t0 - timedelta(days=20), t0 - timedelta(days=20, hours=-1)),
    )
    ok(dockd, "activities", "import", str(listed), "--by", "dispatcher")
    assert set(unrecorded(dockd)) == {"C-1", "C-2"}  # imported in the report's 24 h
    assert dockd.custody_events("activity-matched") == []

    clip = name("QD11", "3311", t0, 1, "MP4")
    ingest(dockd, recorder(tmp_path / "rec", {clip: mp4(600, 1)}), "QD11")  # t0 .. t0+10 min

    [event] = dockd.custody_events("activity-matched")
    assert (event["subject"], event["actor"]) == ("C-1", "dockd")
    assert set(unrecorded(dockd)) == {"C-2"}, "matched at the dock, no `activities match`"
    assert matched(event) == [recordings(dockd)[clip]["id"]]
    audit_ok(dockd)


def test_matched_through_the_custodian_at_the_time_and_again_before_the_report(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "qidong")
    now = local_now()
    t0 = now - timedelta(hours=5)  # the clip: t0 .. t0 + 10 min, no badge in its name
    handover = now - timedelta(hours=4)  # 4201 handed DC01 to 4202 an hour after it
    for serial in ("DC01", "DC09"):
        ok(dockd, "devices", "add", serial, "--model", "DCF-1")
    ingest(dockd, recorder(tmp_path / "dc01", {dcf(t0): mp4(600, 1)}), "DC01", "--profile", "dcim")
    [rid] = [r["id"] for r in dockd.json("recordings")]

    listed = csv_file(
        tmp_path / "list.csv",
        ("K-1", "complaint", "4201", t0, t0 + timedelta(minutes=10)),  # the holder's
        ("K-2", "complaint", "4202", t0, t0 + timedelta(minutes=10)),  # not yet the holder
    )
    ok(dockd, "activities", "import", str(listed), "--by", "dispatcher")
    # nobody held DC01 on record yet: its footage is no one's
    assert set(unrecorded(dockd)) == {"K-1", "K-2"}

    # the handovers entered afterwards with their real times
    day_before = (now - timedelta(days=1)).isoformat()
    ok(dockd, "devices", "assign", "DC01", "--badge", "4201", "--name", "Wang Wei",
       "--unit", "Patrol 1", "--at", day_before)  # fmt: skip
    ok(dockd, "devices", "assign", "DC01", "--badge", "4202", "--name", "Li Na",
       "--unit", "Patrol 1", "--at", handover.isoformat())  # fmt: skip
    assert dockd.custody_events("activity-matched") == []

    # the report matches the period first: K-1 is Wang Wei's recorder's footage
    items = unrecorded(dockd)
    assert set(items) == {"K-2"}
    assert (items["K-2"]["state"], items["K-2"]["recordings"]) == ("unrecorded", [])
    [event] = dockd.custody_events("activity-matched")
    assert (event["subject"], event["actor"]) == ("K-1", "dockd-report")
    assert matched(event) == [rid]
    assert deadlines(dockd)["unrecorded_activities"][0]["activity"] == "K-2"
    assert len(dockd.custody_events("activity-matched")) == 1, "matched once, not again"
    audit_ok(dockd)
