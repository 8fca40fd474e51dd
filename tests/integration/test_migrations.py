"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from dockd.adapters.ledger.engine import MIGRATIONS, SCHEMA_REVISION, schema_revision
from dockd.adapters.ledger.schema import Base
from dockd.adapters.ledger.sessions import Ledger


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    Ledger(url).close()  # runs every migration
    with create_engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_schema_revision_is_alembics_head(tmp_path: Path) -> None:
    """A ledger at SCHEMA_REVISION skips Alembic: a new migration must move it too."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    assert schema_revision(engine) is None
    Ledger(url).close()
    assert schema_revision(engine) == SCHEMA_REVISION


def test_0006_gives_older_sessions_and_objects_the_station_local(tmp_path: Path) -> None:
    """A migration cannot know which station stored what: 'local', which every station
    counts as its own, so an upgraded station still verifies what it held before."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO recorders (id, serial, profile, first_seen, last_seen) "
                "VALUES (1, 'SN1', 'generic', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO dock_sessions (id, recorder_id, serial, profile, source, host, pid, "
                "boot_id, started_at, state, files_seen, copied, already_verified, "
                "bytes_copied) VALUES ('S1', 1, 'SN1', 'generic', '/src', 'h', 1, 'b', "
                "'2026-01-01 00:00:00', 'completed', 1, 1, 0, 10)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO objects (blake3, sha256, size, key, kind, protections, stored_at) "
                f"VALUES ('{'a' * 64}', '{'b' * 64}', 10, 'objects/aa/x', 'recording', '', "
                "'2026-01-01 00:00:00')"
            )
        )
    ledger = Ledger(url, station="dock-new")
    try:
        [session] = ledger.sessions()
        assert session.station == "local"
        assert [o[0] for o in ledger.objects()] == ["a" * 64]
    finally:
        ledger.close()
    with engine.connect() as connection:
        located = connection.execute(
            text("SELECT blake3, station, since, removed_at FROM object_locations")
        ).all()
        assert located == [("a" * 64, "local", "2026-01-01 00:00:00", None)]
        assert connection.execute(text("SELECT count(*) FROM recorder_locks")).scalar() == 0
    engine.dispose()
