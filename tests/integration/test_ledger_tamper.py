"""A ledger edited behind dockd's back, on real SQLite and PostgreSQL: `dockd audit verify`
names every edited, deleted and inserted evidence row and every reordered event, and
retention expiry never acts on a retain-until the chain does not vouch for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dockd.adapters.ledger.interruptions import LedgerInterruptions
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.gaps import Gap
from tests.conftest import REPO, Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres

pytestmark = pytest.mark.root

# the column each test edits, per evidence table
EDITED = {
    "recorders": "profile",
    "dock_sessions": "copied",
    "session_problems": "message",
    "objects": "size",
    "recordings": "sha256",
    "holds": "reference",
    "devices": "model",
    "assignments": "unit",
    "duty_returns": "reason",
    "attestations": "operator",
    "interruptions": "gap_s",
}
UNIQUE = {"recorders": "serial"}  # a copied row must differ there too


def _ok(d: Dockd, *args: str) -> str:
    result = d.run(*args)
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def _populate(d: Dockd, tmp: Path) -> None:
    """A row in every evidence table, written by dockd itself."""
    folder = tmp / "recorder"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (folder / name).write_bytes(os.urandom(4096))
    d.ingest(folder, "SNT")
    _ok(d, "devices", "add", "SNT", "--model", "Cam", "--by", "admin")
    _ok(d, "devices", "assign", "SNT", "--badge", "B7", "--name", "Ann", "--unit", "U1")
    _ok(d, "devices", "assign", "SNT", "--badge", "B8", "--name", "Bo", "--unit", "U2")
    _ok(d, "excuse", "--badge", "B7", "--returned-at", "2026-01-02T00:00:00+00:00",
        "--reason", "abroad", "--by", "admin")  # fmt: skip
    _ok(d, "holds", "add", "1", "--case", "CASE-1", "--by", "admin")
    [session] = d.json("sessions")
    phrase = d.add_operator("op1", "office staff")
    sealed = d.run("attest", session["id"], "--operator", "op1", "--passphrase-stdin",
                   input=phrase + "\n")  # fmt: skip
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    # the interruptions on this station's own chain, as its dock session writes them
    ledger = Ledger(d.ledger_url, station=session["station"])
    try:
        now = datetime.now(UTC)
        gap = Gap("1", "2", now - timedelta(hours=2), now - timedelta(hours=1))
        LedgerInterruptions(ledger).record_interruptions(session["id"], "SNT", [gap], now)
    finally:
        ledger.close()
    assert "intact" in _ok(d, "audit", "verify")


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dockd]:
    tmp = tmp_path_factory.mktemp(request.param)
    store = tmp / "store"
    try:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'l.db'}"
            d = Dockd(write_config(tmp / "d.toml", store, url), store, url)
            _populate(d, tmp)
            yield d
        else:
            with running_postgres(tmp / "pg") as url:
                d = Dockd(write_config(tmp / "d.toml", store, url), store, url)
                _populate(d, tmp)
                yield d
    finally:
        unfreeze(store)


@contextmanager
def _shell(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction as a SQL shell would run it: a PostgreSQL superuser can switch the
    foreign keys off, and so does the test."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("SET LOCAL session_replication_role = replica"))
        yield c


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    text = str(value)  # the same length: PostgreSQL checks VARCHAR(n)
    return text[:-1] + ("1" if text.endswith("0") else "0")


def _tamper(d: Dockd, table_name: str, change: str) -> tuple[str, Callable[[], None]]:
    """Edit, delete or insert one row like a SQL shell would; (the row's id, undo)."""
    engine = sa.create_engine(d.ledger_url)
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    [pk] = table.primary_key.columns
    with _shell(engine) as c:
        rows = c.execute(sa.select(table).order_by(pk.desc())).mappings().all()
        # the newest row: nothing else refers to it, so a deletion is not refused
        row = dict(rows[0])
        key = row[pk.name]
        undo: sa.Executable
        if change == "edit":
            column = EDITED[table_name]
            c.execute(table.update().where(pk == key).values({column: _changed(row[column])}))
            undo = table.update().where(pk == key).values({column: row[column]})
        elif change == "delete":
            c.execute(table.delete().where(pk == key))
            undo = table.insert().values(row)
        else:
            key = _changed(key) if not isinstance(key, int) else key + 100
            forged = {**row, pk.name: key}
            for column in {EDITED[table_name], UNIQUE.get(table_name, pk.name)}:
                if column != pk.name:
                    forged[column] = _changed(row[column])
            c.execute(table.insert().values(forged))
            undo = table.delete().where(pk == key)

    def restore() -> None:
        with _shell(engine) as c:
            c.execute(undo)
        engine.dispose()

    return str(key), restore


@pytest.mark.parametrize("change", ["edit", "delete", "insert"])
@pytest.mark.parametrize("table", sorted(EDITED))
def test_every_tampered_evidence_row_is_named(ledger: Dockd, table: str, change: str) -> None:
    rid, restore = _tamper(ledger, table, change)
    try:
        result = ledger.run("audit", "verify")
    finally:
        restore()
    problem = {"edit": "edited", "delete": "missing", "insert": "inserted"}[change]
    where = f"row {problem}: {table} {rid}" + (f" {EDITED[table]}:" if change == "edit" else ":")
    assert result.returncode == 1, result.stdout + result.stderr
    assert where in result.stdout, result.stdout
    assert "intact" in _ok(ledger, "audit", "verify")  # the undo leaves nothing behind


def test_reordered_events_break_the_chain(ledger: Dockd) -> None:
    engine = sa.create_engine(ledger.ledger_url)
    swap = "UPDATE custody_events SET seq = :to WHERE seq = :at"
    try:
        with _shell(engine) as c:
            for at, to in ((2, -2), (3, 2), (-2, 3)):
                c.execute(sa.text(swap), {"at": at, "to": to})
        result = ledger.run("audit", "verify")
        assert result.returncode == 1, result.stdout
        assert "custody chain BROKEN at event 2" in result.stdout, result.stdout
    finally:
        with _shell(engine) as c:
            for at, to in ((2, -2), (3, 2), (-2, 3)):
                c.execute(sa.text(swap), {"at": at, "to": to})
        engine.dispose()
    assert "intact" in _ok(ledger, "audit", "verify")


def test_a_retain_until_moved_into_the_past_expires_nothing_and_is_reported(
    ledger: Dockd,
) -> None:
    engine = sa.create_engine(ledger.ledger_url)
    with _shell(engine) as c:
        rid, key, until = c.execute(
            sa.text("SELECT id, object_key, retain_until FROM recordings ORDER BY id DESC")
        ).first()  # type: ignore[misc]
        move = sa.text("UPDATE recordings SET retain_until = :u WHERE id = :id")
        c.execute(move, {"u": datetime(2001, 1, 1), "id": rid})
    try:
        expire = ledger.run("retention", "expire", "--by", "mallory")
        assert expire.returncode == 1, expire.stdout + expire.stderr
        assert f"kept, row edited: recordings {rid} retain_until" in expire.stdout, expire.stdout
        assert "0 object(s) expired" in expire.stdout
        assert (ledger.store / key).exists()
        with engine.connect() as c:
            kinds = set(c.execute(sa.text("SELECT kind FROM custody_events")).scalars())
        assert not kinds & {"object-expiry-started", "object-expired"}
        audit = ledger.run("audit", "verify")
        assert audit.returncode == 1
        assert f"row edited: recordings {rid} retain_until" in audit.stdout
    finally:
        with _shell(engine) as c:
            c.execute(move, {"u": until, "id": rid})
        engine.dispose()
    assert "intact" in _ok(ledger, "audit", "verify")


def _events(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text("SELECT count(*) FROM custody_events")).scalar_one())
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return 0  # not created yet
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_dockd_killed_while_it_writes_events_leaves_a_chain_that_verifies(
    dialect: str, tmp_path: Path
) -> None:
    folder = tmp_path / "recorder"
    folder.mkdir()
    for n in range(80):
        (folder / f"clip{n:03}.mp4").write_bytes(os.urandom(256 << 10))
    store = tmp_path / "store"
    with running_postgres(tmp_path / "pg") if dialect == "postgresql" else _sqlite(tmp_path) as url:
        d = Dockd(write_config(tmp_path / "d.toml", store, url), store, url)
        try:
            # the station registers its key first, so that the kills below land in sessions
            assert d.run("verify").returncode == 0
            killed = 0
            for pause in (0.0, 0.05, 0.2):
                before = _events(url)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "dockd.cli", "--config", str(d.config),
                     "ingest", str(folder), "--serial", "SNK"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
                )  # fmt: skip
                deadline = time.monotonic() + 60
                while _events(url) <= before + 1 and proc.poll() is None:
                    assert time.monotonic() < deadline, "ingest wrote no events"
                    time.sleep(0.005)
                time.sleep(pause)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                proc.wait(timeout=60)
            audit = d.run("audit", "verify")
            assert audit.returncode == 0, audit.stdout + audit.stderr
            assert "custody chain intact" in audit.stdout
            # a kill may land after the session closed; most land inside it
            states = [s["state"] for s in d.json("sessions")]
            assert 1 <= states.count("interrupted") <= killed, states
        finally:
            unfreeze(store)


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'l.db'}"
