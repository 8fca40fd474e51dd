"""The SQLite ledger's folder, whose disk the daemon never docks as a recorder."""

from __future__ import annotations

from pathlib import Path

from dockd.adapters.ledger.engine import sqlite_folder


def test_a_sqlite_ledgers_folder_is_its_files() -> None:
    assert sqlite_folder("sqlite:////var/lib/dockd/ledger.sqlite3") == Path("/var/lib/dockd")
    assert sqlite_folder("sqlite:////mnt/usb/l.db?timeout=5") == Path("/mnt/usb")


def test_postgresql_and_memory_ledgers_have_no_folder() -> None:
    assert sqlite_folder("postgresql+psycopg://dockd@db/dockd") is None
    assert sqlite_folder("sqlite://") is None
    assert sqlite_folder("sqlite:///:memory:") is None
