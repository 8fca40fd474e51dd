"""The ledger's database: the engine, SQLite's pragmas, the schema's revision and migrations.

SQLite (WAL) by default, PostgreSQL by URL; the schema comes from Alembic
migrations only. SQLAlchemy errors are translated into LedgerError here and in
the aggregate modules that build on this, nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dockd.errors import LedgerError

_MIGRATION_LOCK = 0x646F636D
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration (tests/integration/test_migrations.py keeps it equal to Alembic's
# head): a ledger already there is opened without importing Alembic at all.
SCHEMA_REVISION = "0008"

T = TypeVar("T")
_READ_ONLY = "dockd_read_only"


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front so two of them never deadlock on an
        # upgrade; readers take a snapshot and never make a writer (the daemon) wait.
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def schema_revision(engine: Engine) -> str | None:
    """The ledger's Alembic revision; None for a new (empty) ledger."""
    with engine.connect() as connection:
        if not connection.dialect.has_table(connection, "alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Every CLI command opens the ledger, and importing Alembic costs a quarter of a
    second: it is imported only when there is something to migrate."""
    if schema_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # two dockd starting together on a new database must not both create tables
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class LedgerEngine:
    """One open ledger database: write transactions and read-only snapshots."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite"):
                self.engine = _sqlite_engine(url)
            else:
                self.engine = create_engine(url, pool_pre_ping=True)
            self.dialect = self.engine.dialect.name
            migrate(self.engine)
        except SQLAlchemyError as exc:
            raise LedgerError(f"cannot open the ledger at {self._safe_url()}: {exc}") from exc
        except OSError as exc:
            raise LedgerError(f"cannot open the ledger at {self._safe_url()}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger write failed: {exc}") from exc

    def read(self, fn: Callable[[Session], T]) -> T:
        try:
            with self._sessions(bind=self._reader) as session:
                return fn(session)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed: {exc}") from exc
