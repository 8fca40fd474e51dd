"""The central legal hold follows the last open hold, on the real SeaweedFS: it stays ON
while any hold covers one of the object's recordings (two on one recording, or one at each
of two stations holding the same bytes on one PostgreSQL ledger), and goes OFF only when
the last one is released."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Dockd
from tests.integration.test_forward import (
    audit_ok,
    clips,
    docked,
    forward,
    legal_hold,
    use_central,
)
from tests.integration.test_policy_packs_e2e import local_now, name, recordings
from tests.support.seaweed import SeaweedServer
from tests.support.stations import TwoStations, two_stations

__all__ = ["two_stations"]  # the fixture, used by name

_PLACED = re.compile(r"hold (\d+) placed on recording")


def place_hold(dockd: Dockd, recording: int, case: str) -> int:
    placed = dockd.run("holds", "add", str(recording), "--case", case, "--by", "sgt01", check=True)
    found = _PLACED.search(placed.stdout)
    assert found, placed.stdout
    return int(found[1])


def release(dockd: Dockd, hold: int) -> None:
    dockd.run("holds", "release", str(hold), "--reason", "case closed", "--by", "sgt01", check=True)


def central_holds(seaweed: SeaweedServer, bucket: str, dockd: Dockd) -> set[str]:
    """The bucket's own answer for every object of this station's recordings and their
    manifests (HEAD of the stored versions, not the ledger)."""
    s3 = seaweed.client()
    return {legal_hold(s3, bucket, r["central"]) for r in recordings(dockd).values()}


@pytest.mark.parametrize("released_first", [0, 1], ids=["older-first", "newer-first"])
def test_two_holds_on_one_recording_keep_the_legal_hold_until_the_last_is_released(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, released_first: int
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("LH01", 1, 5000), "LH01")
    forward(dockd)
    (rec,) = recordings(dockd).values()
    holds = [place_hold(dockd, rec["id"], case) for case in ("A-2026-17", "B-2026-3")]
    assert forward(dockd)["lock_updated"] == 2  # the recording and its session's manifest
    assert central_holds(seaweed, central_bucket, dockd) == {"ON"}
    release(dockd, holds[released_first])
    out = forward(dockd)
    assert (out["lock_updated"], out["left"], out["failed"]) == (0, 0, {})
    assert central_holds(seaweed, central_bucket, dockd) == {"ON"}
    (rec,) = recordings(dockd).values()
    assert rec["central"]["legal_hold"] is True
    release(dockd, holds[1 - released_first])
    assert forward(dockd)["lock_updated"] == 2
    assert central_holds(seaweed, central_bucket, dockd) == {"OFF"}
    assert len(dockd.custody_events("central-lock-updated")) == 4
    audit_ok(dockd)


def the_clip(dockd: Dockd, serial: str) -> dict[str, Any]:
    """The listing is the agency's: both stations' recordings of the clip are in it."""
    (rec,) = [r for r in recordings(dockd).values() if r["serial"] == serial]
    return rec


def test_holds_at_two_stations_on_the_same_bytes_keep_the_legal_hold_until_the_last(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, two_stations: TwoStations
) -> None:
    """One central object for both stations' recordings of one clip: a station releasing
    its hold must not lift the central hold that the other station's hold still needs."""
    same = b"\x17" * 7000 + b"one clip, copied from a recorder docked at both stations"
    stations = two_stations.by_name
    for i, dockd in enumerate(stations.values()):
        use_central(dockd, seaweed, central_bucket)
        start = local_now() - timedelta(hours=1)
        docked(dockd, tmp_path, {name(f"SB0{i}", "4711", start): same}, f"SB0{i}")
    east, west = stations["dock-east"], stations["dock-west"]
    assert forward(east)["sent"] == 2 and forward(west)["sent"] == 1  # + manifests
    s3 = seaweed.client()
    east_rec, west_rec = the_clip(east, "SB00"), the_clip(west, "SB01")
    assert east_rec["central"]["key"] == west_rec["central"]["key"]
    east_hold = place_hold(east, east_rec["id"], "E-2026-1")
    west_hold = place_hold(west, west_rec["id"], "W-2026-1")
    forward(east)
    forward(west)
    assert legal_hold(s3, central_bucket, east_rec["central"]) == "ON"
    release(east, east_hold)
    updated = [forward(dockd)["lock_updated"] for dockd in (east, west)]
    assert legal_hold(s3, central_bucket, east_rec["central"]) == "ON"
    assert the_clip(east, "SB00")["central"]["legal_hold"] is True
    assert updated == [1, 0], updated  # east's manifest only: its session holds none
    release(west, west_hold)
    updated = [forward(dockd)["lock_updated"] for dockd in (east, west)]
    assert sum(updated) == 2, updated  # the shared object and west's manifest
    assert legal_hold(s3, central_bucket, east_rec["central"]) == "OFF"
    for serial in ("SB00", "SB01"):
        assert the_clip(east, serial)["central"]["legal_hold"] is False
    audit_ok(east)
    audit_ok(west)
