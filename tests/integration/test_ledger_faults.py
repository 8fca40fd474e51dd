"""A ledger that cannot be used is named, with a hint, never a traceback: real PostgreSQL
(nothing on the port, a wrong password, no such database), real SQLite (locked by
another connection, a full disk on a small tmpfs)."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres

EXIT_PROBLEM, EXIT_USAGE = 1, 2


def _dockd(tmp_path: Path, url: str, name: str = "dockd") -> Dockd:
    store = tmp_path / f"{name}-store"
    return Dockd(write_config(tmp_path / f"{name}.toml", store, url), store, url)


def _fails(d: Dockd, code: str, exit_code: int, *args: str) -> str:
    """`dockd ARGS` ends with `exit_code`, the named `code` and its hint, and no traceback."""
    result = d.run(*(args or ("sessions",)))
    err = result.stderr
    assert result.returncode == exit_code, f"{result.returncode}: {result.stdout}{err}"
    assert f"dockd: {code}: " in err and "\n  hint: " in err, err
    assert "Traceback" not in err + result.stdout
    return err


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One cluster for the PostgreSQL faults; a role `guarded` that must give a password."""
    base = tmp_path_factory.mktemp("pg")
    with running_postgres(base) as url:
        engine = sa.create_engine(url)
        with engine.connect() as c:
            c.execute(sa.text("CREATE ROLE guarded LOGIN PASSWORD 'right-password'"))
            c.commit()
            hba = base / "pgdata" / "pg_hba.conf"
            hba.write_text("host all guarded 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
            c.execute(sa.text("SELECT pg_reload_conf()"))
        engine.dispose()
        yield url, base


def test_nothing_listening_on_the_port_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://dockd@127.0.0.1:{_unused_port()}/dockd"
    err = _fails(_dockd(tmp_path, url), "LEDGER_UNREACHABLE", EXIT_USAGE)
    assert "Connection refused" in err


def test_a_wrong_password_is_named(tmp_path: Path, postgres: tuple[str, Path]) -> None:
    port = sa.engine.make_url(postgres[0]).port
    url = f"postgresql+psycopg://guarded:wrong-password@127.0.0.1:{port}/dockd"
    err = _fails(_dockd(tmp_path, url), "LEDGER_AUTH_FAILED", EXIT_USAGE)
    assert "wrong-password" not in err  # the URL is shown without its password
    assert "guarded:***@127.0.0.1" in err

    right = url.replace("wrong-password", "right-password")
    engine = sa.create_engine(postgres[0])
    with engine.connect() as c:  # the role may create tables: then the ledger opens
        c.execute(sa.text("GRANT ALL ON SCHEMA public TO guarded"))
        c.commit()
    engine.dispose()
    assert _dockd(tmp_path, right, "right").run("sessions").returncode == 0


def test_a_missing_database_is_named(tmp_path: Path, postgres: tuple[str, Path]) -> None:
    url = postgres[0].rsplit("/", 1)[0] + "/no_such_ledger"
    err = _fails(_dockd(tmp_path, url), "LEDGER_DATABASE_MISSING", EXIT_USAGE)
    assert "createdb" in err


def test_a_bare_postgresql_url_uses_the_installed_driver(
    tmp_path: Path, postgres: tuple[str, Path]
) -> None:
    """psycopg is a main dependency; `postgresql://` would otherwise mean psycopg2."""
    url = postgres[0].replace("postgresql+psycopg://", "postgresql://")
    result = _dockd(tmp_path, url).run("sessions", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://dockd@127.0.0.1:port/dockd", "invalid literal for int()"),
        ("postgresql+nosuchdriver://dockd@127.0.0.1/dockd", "Can't load plugin"),
        ("sqlite:///ledger.sqlite3?timeout=soon", "could not convert string to float"),
    ],
)
def test_a_url_that_cannot_be_used_is_invalid(tmp_path: Path, url: str, said: str) -> None:
    err = _fails(_dockd(tmp_path, url), "LEDGER_URL_INVALID", EXIT_USAGE)
    assert said in err


def test_a_sqlite_file_that_cannot_be_opened_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'a-file' / 'ledger.sqlite3'}"
    _fails(_dockd(tmp_path, url), "LEDGER_UNREACHABLE", EXIT_USAGE)


def test_a_locked_sqlite_ledger_is_named_after_the_timeout(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    d = _dockd(tmp_path, f"sqlite:///{db}?timeout=1")
    d.run("sessions", check=True)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")  # another writer that never lets go
        err = _fails(d, "LEDGER_LOCKED", EXIT_PROBLEM)
        holder.execute("ROLLBACK")
    assert "database is locked" in err
    d.run("sessions", check=True)


@contextlib.contextmanager
def _small_filesystem(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)  # until ENOSPC
    return filler


@pytest.mark.root
@pytest.mark.parametrize("daemon_open", [True, False], ids=["ledger-in-use", "ledger-closed"])
def test_a_full_disk_under_sqlite_is_named(tmp_path: Path, daemon_open: bool) -> None:
    """The ledger's disk fills up. With the ledger open elsewhere (its shared memory
    exists) SQLite says "full"; when dockd must create it first, "disk I/O error":
    both are LEDGER_FULL, and the failed ingest left nothing behind."""
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    for i in range(40):
        (recorder / f"clip{i}.avi").write_bytes(os.urandom(2000))
    with _small_filesystem(tmp_path / "small", "1m") as small:
        db = small / "ledger.sqlite3"
        d = _dockd(tmp_path, f"sqlite:///{db}")
        d.run("sessions", check=True)
        with contextlib.ExitStack() as stack:
            if daemon_open:
                other = stack.enter_context(contextlib.closing(sqlite3.connect(db)))
                other.execute("SELECT count(*) FROM recorders").fetchall()
            filler = _fill(small)
            try:
                err = _fails(
                    d, "LEDGER_FULL", EXIT_PROBLEM, "ingest", str(recorder), "--serial", "SNFULL"
                )
            finally:
                filler.unlink()
                unfreeze(d.store)
        assert "Free space on the filesystem of the ledger" in err
        with contextlib.closing(sqlite3.connect(db)) as con:  # its first write failed
            assert con.execute("SELECT count(*) FROM dock_sessions").fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM custody_events").fetchone() == (0,)
