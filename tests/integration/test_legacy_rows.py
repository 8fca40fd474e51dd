"""Rows from before stations had names (`local`) on a shared, real PostgreSQL ledger: no
station's own until `dockd station adopt-legacy` is run on the station that wrote them,
`dockd verify` naming them until then; once adopted, that station's alone, and a second
station's adoption refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import blake3
from sqlalchemy import create_engine, text

from tests.conftest import Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres

CLIP = b"recorded in 2025, before this ledger named its stations" * 100
DIGEST = blake3.blake3(CLIP).hexdigest()
SHA256 = hashlib.sha256(CLIP).hexdigest()
KEY = f"objects/blake3/{DIGEST[:2]}/{DIGEST}"


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
    tmp_path: Path,
) -> None:
    with running_postgres(tmp_path / "pg") as url:
        stations = {}
        for station in ("dock-east", "dock-west"):
            store = tmp_path / f"{station}-store"
            named = f'[station]\nid = "{station}"\n'
            config = write_config(tmp_path / f"{station}.toml", store, url, named)
            stations[station] = Dockd(config, store, url)
        east, west = stations["dock-east"], stations["dock-west"]
        try:
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
        finally:
            for dockd in stations.values():
                unfreeze(dockd.store)
