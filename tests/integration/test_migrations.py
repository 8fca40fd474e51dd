"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

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
