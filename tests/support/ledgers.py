"""A `dockd` fixture on each ledger dockd supports, for modules whose scenarios must mean
the same on SQLite and on PostgreSQL: `from tests.support.ledgers import on_both_ledgers`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres


@pytest.fixture(name="dockd", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.root)])
def on_both_ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dockd]:
    """Time windows, JSON columns and the chain-head check of a spot-check draw are SQL
    that each database may read its own way: the same scenario runs on both."""
    store = tmp_path / "store"
    try:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
            yield Dockd(write_config(tmp_path / "dockd.toml", store, url), store, url)
        else:
            with running_postgres(tmp_path / "pg") as url:
                yield Dockd(write_config(tmp_path / "dockd.toml", store, url), store, url)
    finally:
        unfreeze(store)
