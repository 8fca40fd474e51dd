"""Rows from before stations had names (`local`) on a shared, real PostgreSQL ledger: no
station's own until `dockd station adopt-legacy` is run on the station that wrote them,
`dockd verify` naming them until then; once adopted, that station's alone, and a second
station's adoption refused."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import blake3
from sqlalchemy import create_engine, select, text

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import DockSessionRow, ObjectLocationRow, ObjectRow, RecorderRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.app import App, load_config
from dockd.core.custody import LEGACY_STATION
from dockd.services.integrity import verify_store
from tests.conftest import Dockd
from tests.support.stations import TwoStations, two_stations

__all__ = ["two_stations"]  # the fixture, used by name

CLIP = b"recorded in 2025, before this ledger named its stations" * 100
DIGEST = blake3.blake3(CLIP).hexdigest()
SHA256 = hashlib.sha256(CLIP).hexdigest()
KEY = f"objects/blake3/{DIGEST[:2]}/{DIGEST}"
OLD = datetime(2025, 1, 1, tzinfo=UTC)


def legacy_rows(url: str) -> None:
    """What migration 0006 left of a one-box ledger: a session, its object and the
    object's location, all labelled 'local'."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in (
                "INSERT INTO recorders (serial, profile, first_seen, last_seen) VALUES "
                "('OLD1', 'generic', '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00')",
                "INSERT INTO dock_sessions (id, recorder_id, serial, profile, source, host, "
                "pid, boot_id, started_at, state, files_seen, copied, already_verified, "
                "bytes_copied, station) SELECT 'OLD-SESSION', id, 'OLD1', 'generic', '/src', "
                "'old-box', 1, 'b', '2025-01-01 00:00:00+00', 'completed', 1, 1, 0, 10, "
                "'local' FROM recorders WHERE serial = 'OLD1'",
                "INSERT INTO objects (blake3, sha256, size, key, kind, protections, stored_at) "
                f"VALUES ('{DIGEST}', '{SHA256}', {len(CLIP)}, '{KEY}', 'recording', '', "
                "'2025-01-01 00:00:00+00')",
                "INSERT INTO object_locations (blake3, station, since) "
                f"VALUES ('{DIGEST}', 'local', '2025-01-01 00:00:00+00')",
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()


def verify(dockd: Dockd) -> dict[str, object]:
    result = dockd.run("verify", "--json")
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_legacy_rows_are_nobodys_until_the_station_that_wrote_them_adopts_them(
    two_stations: TwoStations,
) -> None:
    url, east, west = two_stations.url, two_stations.east, two_stations.west
    assert verify(east)["checked"] == 0  # the ledger's tables made
    legacy_rows(url)
    copy = east.store / KEY  # the old box's store is east's now
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(CLIP)

    for dockd in (east, west):  # nobody's: neither verifies it, both name it
        report = verify(dockd)
        assert (report["checked"], report["legacy_unowned"]) == (0, 1)
    said = west.run("verify").stdout
    assert "1 object copies from before stations had names ('local')" in said
    assert "dockd station adopt-legacy" in said

    adopted = east.run("station", "adopt-legacy")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert (
        "station dock-east adopted the rows from before stations had names: 1 sessions, "
        "1 object copies, 0 central copies"
    ) in adopted.stdout
    report = verify(east)
    assert (report["checked"], report["ok"], report["legacy_unowned"]) == (1, 1, 0)
    report = verify(west)
    assert (report["checked"], report["legacy_unowned"]) == (0, 0)  # east's, not west's

    refused = west.run("station", "adopt-legacy")
    assert refused.returncode == 1
    assert "LEGACY_ADOPTED_ELSEWHERE" in refused.stderr, refused.stderr
    assert "station dock-east adopted the rows" in refused.stderr
    again = east.run("station", "adopt-legacy")
    assert again.returncode == 0 and "had already adopted" in again.stdout

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            events = connection.execute(
                text(
                    "SELECT station, subject, details FROM custody_events "
                    "WHERE kind = 'legacy-rows-adopted'"
                )
            ).all()
    finally:
        engine.dispose()
    [(station, subject, details)] = events
    assert (station, subject) == ("dock-east", "local")
    assert json.loads(details) == {
        "station": "dock-east",
        "sessions": 1,
        "locations": 1,
        "central_copies": 0,
    }
    chain = json.loads(east.run("audit", "verify", "--json").stdout)
    assert chain["broken"] is None and chain["anchors"] == []


def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_an_adoption_is_seen_by_running_stations_without_a_restart(
    two_stations: TwoStations,
) -> None:
    """East's daemon and west's, both started before the admin runs `adopt-legacy` (a
    process of its own): east's verifies the old copy as its own, west stops naming it."""
    url, east, west = two_stations.url, two_stations.east, two_stations.west
    assert verify(east)["checked"] == 0  # the ledger's tables made
    legacy_rows(url)
    copy = east.store / KEY
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(CLIP)
    running = {d.config.stem: App(load_config(d.config)) for d in (east, west)}
    try:
        before = verify_store(
            running["dock-east"].ledger, running["dock-east"].store, running["dock-east"].clock
        )
        assert (before.checked, before.legacy_unowned) == (0, 1)
        adopted = east.run("station", "adopt-legacy")
        assert adopted.returncode == 0, adopted.stdout + adopted.stderr

        assert until(lambda: LEGACY_STATION in running["dock-east"].ledger.stations())
        after = verify_store(
            running["dock-east"].ledger, running["dock-east"].store, running["dock-east"].clock
        )
        assert (after.checked, after.ok, after.legacy_unowned) == (1, 1, 0)
        assert running["dock-west"].ledger.legacy_unowned() == 0
        assert running["dock-west"].ledger.stations() == ("dock-west",)  # east's, not west's
    finally:
        for app in running.values():
            app.close()


def test_the_legacy_chain_answers_only_to_the_station_that_adopted_it(
    two_stations: TwoStations,
) -> None:
    """A legacy chain edited after the fact: before the adoption no station's audit
    answers for it (only `--all-stations`), after it east's alone."""
    url, east, west = two_stations.url, two_stations.east, two_stations.west
    assert verify(east)["checked"] == 0 and verify(west)["checked"] == 0
    legacy_rows(url)
    old_box = Ledger(url)  # before stations had names: its chain is 'local'
    try:
        with old_box.transaction() as s:  # the old box's chain vouches for its rows
            rows = [
                s.scalars(select(RecorderRow).where(RecorderRow.serial == "OLD1")).one(),
                s.get_one(DockSessionRow, "OLD-SESSION"),
                s.get_one(ObjectRow, DIGEST),
                s.get_one(ObjectLocationRow, (DIGEST, LEGACY_STATION)),
            ]
            old_box.append_custody(s, OLD, "session-completed", "OLD-SESSION", facts(*rows))
        old_box.record_event(OLD, "store-verified", "/srv", {"checked": 1})
    finally:
        old_box.close()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:  # the second event edited after the fact
            connection.execute(
                text(
                    "UPDATE custody_events SET details = :edited "
                    "WHERE station = 'local' AND kind = 'store-verified'"
                ),
                {"edited": '{"checked": 0}'},
            )
    finally:
        engine.dispose()

    def audit(dockd: Dockd, *more: str) -> tuple[int, dict[str, Any]]:
        result = dockd.run("audit", "verify", "--json", *more)
        return result.returncode, json.loads(result.stdout)

    for dockd in (east, west):
        code, report = audit(dockd)
        legacy = next(c for c in report["chains"] if c["station"] == LEGACY_STATION)
        assert legacy["broken"] is not None
        assert (code, report["legacy_own"]) == (0, False), (
            report["differences"],
            report["anchors"],
            [c for c in report["chains"] if c["broken"] or c["findings"]],
        )
    assert audit(west, "--all-stations")[0] == 1
    assert east.run("station", "adopt-legacy").returncode == 0
    code, report = audit(east)
    assert (code, report["legacy_own"]) == (1, True)
    assert audit(west)[0] == 0
