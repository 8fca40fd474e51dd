"""Two stations on one real PostgreSQL ledger, each with its own store: every session
says which station ran it, and each `dockd verify` re-hashes only its own copies."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_ledger_postgres import make_recordings
from tests.support.postgres import running_postgres

pytestmark = pytest.mark.root
MIB = 1 << 20


def _station(tmp_path: Path, name: str, url: str) -> Dockd:
    store = tmp_path / f"{name}-store"
    config = write_config(tmp_path / f"{name}.toml", store, url, f'\n[station]\nid = "{name}"\n')
    return Dockd(config, store, url)


def test_each_station_verifies_only_the_objects_it_holds(tmp_path: Path) -> None:
    with running_postgres(tmp_path / "pg") as url:
        east, west = _station(tmp_path, "dock-east", url), _station(tmp_path, "dock-west", url)
        try:
            make_recordings(tmp_path / "SNEAST", ["a.avi", "b.avi"], MIB)
            make_recordings(tmp_path / "SNWEST", ["a.avi", "b.avi", "c.avi"], MIB)
            assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
            assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0

            sessions = {s["serial"]: s["station"] for s in east.json("sessions")}
            assert sessions == {"SNEAST": "dock-east", "SNWEST": "dock-west"}

            # each store holds its recordings and its session's manifest, and only those
            east_report, west_report = east.json("verify"), west.json("verify")
            assert (east_report["checked"], east_report["findings"]) == (3, [])
            assert (west_report["checked"], west_report["findings"]) == (4, [])

            engine = sa.create_engine(url)
            with engine.connect() as c:
                located = c.execute(
                    sa.text("SELECT station, count(*) FROM object_locations GROUP BY station")
                ).all()
            engine.dispose()
            assert sorted(located) == [("dock-east", 3), ("dock-west", 4)]

            # a station that lost an object finds it missing; the other is not concerned
            unfreeze(west.store)
            victim = next(p for p in west.objects() if p.stat().st_size == MIB)
            victim.unlink()
            result = west.run("verify", "--json")
            assert result.returncode == 1, result.stdout + result.stderr
            assert east.run("verify").returncode == 0
        finally:
            unfreeze(east.store)
            unfreeze(west.store)
