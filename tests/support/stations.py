"""Two dockd stations, east and west, each with its own store and `[station] id`, on one
real PostgreSQL ledger: the set-up of every many-docks test (forwarding, lock upkeep,
central holds, legacy rows). Tests import the fixture by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres

NAMES = ("dock-east", "dock-west")


@dataclass(frozen=True, slots=True)
class TwoStations:
    url: str
    by_name: dict[str, Dockd]  # east first, then west

    @property
    def east(self) -> Dockd:
        return self.by_name["dock-east"]

    @property
    def west(self) -> Dockd:
        return self.by_name["dock-west"]


@pytest.fixture
def two_stations(tmp_path: Path) -> Iterator[TwoStations]:
    """The ledger's tables are made by each station's first command."""
    with running_postgres(tmp_path / "pg") as url:
        by_name = {}
        for name in NAMES:
            store = tmp_path / f"{name}-store"
            named = f'[station]\nid = "{name}"\n'
            by_name[name] = Dockd(
                write_config(tmp_path / f"{name}.toml", store, url, named), store, url
            )
        try:
            yield TwoStations(url, by_name)
        finally:
            for dockd in by_name.values():
                unfreeze(dockd.store)
