"""Lock upkeep when the sending dock is lost, on real parts: two `dockd` stations on one
real PostgreSQL ledger and one real SeaweedFS bucket with Object Lock. Station east
forwards and is never run again (burnt, stolen); a hold and a longer retention are then
placed on its recordings, and station west's passes keep the bucket's locks up to date
once their upkeep is overdue, as a plain boto3 HEAD of the stored versions shows."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import CustodyEventRow, RecordingRow
from dockd.app import load_config, open_ledger
from tests.conftest import Dockd
from tests.integration.test_forward import clips, docked, forward, use_central
from tests.integration.test_policy_packs_e2e import audit_ok, recordings
from tests.support.seaweed import SeaweedServer
from tests.support.stations import TwoStations, two_stations

__all__ = ["two_stations"]  # the fixture, used by name

TAKEOVER_S = 30.0  # [central] upkeep_takeover_minutes = 0.5, so the test can outwait it


def head(seaweed: SeaweedServer, bucket: str, central: dict[str, Any]) -> dict[str, Any]:
    found = seaweed.client().head_object(
        Bucket=bucket, Key=central["key"], VersionId=central["version_id"]
    )
    return dict(found)


def extend_retention(dockd: Dockd, recording: int, until: datetime) -> None:
    """What a longer retention class does: the row and its custody event, at this station."""
    ledger = open_ledger(load_config(dockd.config))
    try:
        with ledger.transaction() as s:
            row = s.get_one(RecordingRow, recording)
            row.retain_until = until
            s.flush()
            ledger.append_custody(
                s, datetime.now(UTC), "recording-reclassified", str(recording), facts(row)
            )
    finally:
        ledger.close()


def taken_over(dockd: Dockd) -> list[tuple[str, str, str]]:
    ledger = open_ledger(load_config(dockd.config))
    try:
        return ledger.read(
            lambda s: sorted(
                (e.station, e.subject, json.loads(e.details)["sender"])
                for e in s.scalars(
                    select(CustodyEventRow).where(
                        CustodyEventRow.kind == "central-lock-upkeep-taken-over"
                    )
                )
            )
        )
    finally:
        ledger.close()


def central_backlog(dockd: Dockd) -> Any:
    """`status --json`'s central backlog. Its exit code says whether the station has a
    bad alert (an unsynchronised clock on a machine without NTP, a filling disk), which is
    not what these tests judge."""
    return json.loads(dockd.run("status", "--json").stdout)["central"]["backlog"]


def test_a_lost_docks_hold_and_retention_reach_the_bucket_once_overdue(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, two_stations: TwoStations
) -> None:
    east, west = two_stations.east, two_stations.west
    for dockd in (east, west):
        use_central(dockd, seaweed, central_bucket, upkeep_takeover_minutes=TAKEOVER_S / 60)
    docked(east, tmp_path, clips("LU01", 2, 5000), "LU01")
    assert forward(east)["sent"] == 3  # two recordings and their session's manifest
    # east burns here: its process never runs again
    held, longer = sorted(recordings(west).values(), key=lambda r: r["id"])
    later = datetime.fromisoformat(longer["retain_until"]) + timedelta(days=400)
    changed_at = time.monotonic()
    hold = ("holds", "add", str(held["id"]), "--case", "LOST-1", "--by", "sgt01")
    west.run(*hold, check=True)
    extend_retention(west, longer["id"], later)

    before = forward(west)  # within the threshold: east's to do, west only counts
    assert time.monotonic() - changed_at < TAKEOVER_S, "too slow to test 'before'"
    # the two recordings, and the manifest (it takes their hold and latest date)
    assert (before["lock_updated"], before["lock_upkeep_overdue"]) == (0, 3)
    assert head(seaweed, central_bucket, held["central"])["ObjectLockLegalHoldStatus"] == ("OFF")
    assert head(seaweed, central_bucket, longer["central"])[
        "ObjectLockRetainUntilDate"
    ] == datetime.fromisoformat(longer["central"]["retain_until"])
    backlog = central_backlog(west)
    assert backlog["lock_upkeep_overdue"] == 3
    assert taken_over(west) == []

    time.sleep(max(0.0, TAKEOVER_S - (time.monotonic() - changed_at)) + 1)
    after = forward(west)  # past it: west takes the upkeep over
    assert (after["lock_updated"], after["taken_over"]) == (3, 3)
    assert after["lock_upkeep_overdue"] == 0
    assert head(seaweed, central_bucket, held["central"])["ObjectLockLegalHoldStatus"] == ("ON")
    assert head(seaweed, central_bucket, longer["central"])["ObjectLockRetainUntilDate"] == later
    now = {r["id"]: r["central"] for r in recordings(west).values()}
    assert now[held["id"]]["legal_hold"] is True
    assert datetime.fromisoformat(now[longer["id"]]["retain_until"]) == later
    # each takeover an event of west's own chain, naming the station that sent it
    takeovers = taken_over(west)
    assert len(takeovers) == 3
    assert {(station, sender) for station, _, sender in takeovers} == {("dock-west", "dock-east")}
    assert {held["blake3"], longer["blake3"]} <= {b for _, b, _ in takeovers}
    assert central_backlog(west)["lock_upkeep_overdue"] == 0
    assert forward(west)["lock_updated"] == 0  # nothing lags any more

    # the case closes: the release, too, waits out east's turn, then goes up
    hold_id = west.run("holds", "list").stdout.split()[0]
    release = ("holds", "release", hold_id, "--reason", "case closed", "--by", "sgt01")
    west.run(*release, check=True)
    released_at = time.monotonic()
    said = west.run("forward").stdout  # as an operator reads it, this time
    assert time.monotonic() - released_at < TAKEOVER_S, "too slow to test 'before'"
    assert "0 lock(s) updated" in said, said
    assert "2 central lock(s) still lag the ledger, the oldest for " in said, said
    time.sleep(max(0.0, TAKEOVER_S - (time.monotonic() - released_at)) + 1)
    said = west.run("forward").stdout
    assert "2 lock(s) of other stations' objects updated: their upkeep was overdue" in (
        said
    )  # the recording and its manifest
    assert "still lag" not in said, said
    assert head(seaweed, central_bucket, held["central"])["ObjectLockLegalHoldStatus"] == ("OFF")
    assert len(taken_over(west)) == 5
    audit_ok(west)
    everyone = west.run("audit", "verify", "--all-stations")
    assert everyone.returncode == 0, everyone.stdout + everyone.stderr
