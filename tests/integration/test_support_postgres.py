"""Prove the throw-away PostgreSQL helper works on this machine, so database
test failures elsewhere are about dockd, not the fixture."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.support.postgres import running_postgres

pytestmark = pytest.mark.root


def test_running_postgres_serves_dockd_db_and_cleans_up(tmp_path: Path) -> None:
    with running_postgres(tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
                assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == "dockd"
        finally:
            engine.dispose()
        port = urlsplit(url).port
        assert port is not None

    assert not (tmp_path / "pgdata").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
