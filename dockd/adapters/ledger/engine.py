"""The ledger's database: the engine, SQLite's pragmas, the schema's revision and migrations.

SQLite (WAL) by default, PostgreSQL by URL; the schema comes from Alembic
migrations only. SQLAlchemy and driver errors are translated here (`ledger_fault`),
for opening, every transaction and every read, into the LedgerError that names the
cause: an admin sees a code and a hint, never a traceback.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dockd.errors import (
    LedgerAuthError,
    LedgerError,
    LedgerFullError,
    LedgerLockedError,
    LedgerMissingError,
    LedgerUnreachableError,
    LedgerUrlError,
)
from dockd.ui.i18n import N_

_MIGRATION_LOCK = 0x646F636D
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration (tests/integration/test_migrations.py keeps it equal to Alembic's
# head): a ledger already there is opened without importing Alembic at all.
SCHEMA_REVISION = "0015"

T = TypeVar("T")
_READ_ONLY = "dockd_read_only"
# how long a writer waits for SQLite's write lock; `?timeout=SECONDS` in the URL changes it
_SQLITE_TIMEOUT_S = 60.0
_SQLITE_FULL = ("SQLITE_FULL",)
_SQLITE_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_PG_DISK_FULL = "53100"
_NEARLY_FULL = 1 << 20  # bytes free under which a SQLite I/O error is a full disk


def ledger_fault(
    exc: Exception, message: str, where: str, disk_full: Callable[[], bool] = lambda: False
) -> LedgerError:
    """The named ledger fault of a SQLAlchemy or driver exception; `message` is its
    template, with `{where}` (the ledger) and `{said}` (what the database said).

    PostgreSQL's connection failures carry no SQLSTATE in psycopg, so they are told apart
    by libpq's message; anything else that fails before a statement ran is "unreachable".
    SQLite reports a disk that filled under its WAL or shared memory as an I/O error:
    `disk_full` tells whether the ledger's filesystem is out of space."""
    orig = getattr(exc, "orig", None)
    said = str(orig if orig is not None else exc).strip()
    sqlite_name = str(getattr(orig, "sqlite_errorname", ""))
    if (
        sqlite_name.startswith(_SQLITE_FULL)
        or getattr(orig, "sqlstate", None) == _PG_DISK_FULL
        or (sqlite_name.startswith("SQLITE_IOERR") and disk_full())
    ):
        return LedgerFullError(message, where=where, said=said)
    if sqlite_name.startswith(_SQLITE_LOCKED):
        return LedgerLockedError(message, where=where, said=said)
    if sqlite_name.startswith("SQLITE_CANTOPEN"):
        return LedgerUnreachableError(message, where=where, said=said)
    if isinstance(exc, ArgumentError | ValueError | ImportError):
        return LedgerUrlError(message, where=where, said=said)
    if isinstance(exc, DBAPIError) and (exc.statement is None or exc.connection_invalidated):
        if "password authentication failed" in said or "no password supplied" in said:
            return LedgerAuthError(message, where=where, said=said)
        if "database" in said and "does not exist" in said:
            return LedgerMissingError(message, where=where, said=said)
        return LedgerUnreachableError(message, where=where, said=said)
    return LedgerError(message, where=where, said=said)


def _ledger_url(url: str) -> URL:
    """The URL as SQLAlchemy takes it; a bare postgresql:// means the installed psycopg."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite ledger's file; None for PostgreSQL or memory. The disk under
    it is never a recorder, as the store's is not."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).parent


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    timeout = float(url.query.get("timeout", _SQLITE_TIMEOUT_S))  # type: ignore[arg-type]
    engine = create_engine(
        url.difference_update_query(["timeout"]), connect_args={"timeout": timeout}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
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
            parsed = _ledger_url(url)
            if parsed.get_backend_name() == "sqlite":
                self.engine = _sqlite_engine(parsed)
            else:
                self.engine = create_engine(parsed, pool_pre_ping=True)
            self.dialect = self.engine.dialect.name
            migrate(self.engine)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise self._fault(exc, N_("cannot open the ledger at {where}: {said}")) from exc
        except OSError as exc:
            raise LedgerUnreachableError(
                "cannot open the ledger at {url}: {exc}", url=self._safe_url(), exc=exc
            ) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})

    def _fault(self, exc: Exception, message: str) -> LedgerError:
        return ledger_fault(exc, message, self._safe_url(), self._disk_full)

    def _disk_full(self) -> bool:
        """The SQLite file's filesystem has (almost) no space left."""
        try:
            url = make_url(self.url)
            path = url.database
            if not path or url.get_backend_name() != "sqlite":
                return False
            return shutil.disk_usage(Path(path).parent).free < _NEARLY_FULL
        except (ArgumentError, ValueError, OSError):
            return False

    def _safe_url(self) -> str:
        """The URL without its password, for messages; an unparsable one is not repeated."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            return "[ledger] url (not a URL SQLAlchemy can read)"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise self._fault(exc, N_("ledger write failed at {where}: {said}")) from exc

    def read(self, fn: Callable[[Session], T]) -> T:
        try:
            with self._sessions(bind=self._reader) as session:
                return fn(session)
        except SQLAlchemyError as exc:
            raise self._fault(exc, N_("ledger read failed at {where}: {said}")) from exc
