"""One dock session per recorder, held in the ledger: SQLite and PostgreSQL alike.

A second ingest of a recorder that is being copied ends at once (RECORDER_BUSY,
exit 1, naming the running session) and writes nothing; the first one finishes
with exactly one row per recording.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dockd.app import App, build, load_config
from dockd.core.model import SourceFile
from dockd.errors import RecorderBusyError
from dockd.services.dock_session import SessionOutcome
from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_ledger_postgres import finish, make_recordings, popen
from tests.support.postgres import running_postgres
from tests.support.stepping import step_until

MIB = 1 << 20
SERIAL = "SNLOCK"


@pytest.fixture(params=["sqlite", "postgresql"])
def dockd_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dockd]:
    """A dockd on a SQLite or on a real PostgreSQL ledger (one copy at a time per file,
    so that a paused ingest is rarely inside a transaction)."""
    store = tmp_path / "store"
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        else:
            url = stack.enter_context(running_postgres(tmp_path / "pg"))
        config = write_config(
            tmp_path / "dockd.toml", store, url, '\n[station]\nid = "dock-lock"\n'
        )
        yield Dockd(config, store, url)
        unfreeze(store)


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _race(app: App, source: Path, ingests: int) -> list[SessionOutcome | RecorderBusyError]:
    """`ingests` threads start the same recorder at once over one ledger. Whoever gets it
    holds it (its `ready` blocks) until every other one has been answered; should the
    lock not hold, all of them block and the wait below runs out."""
    go = threading.Event()
    start = threading.Barrier(ingests)
    results: list[SessionOutcome | RecorderBusyError] = []
    guard = threading.Lock()

    def ready(_file: SourceFile) -> bool:
        go.wait(60)
        return True

    def one() -> None:
        start.wait()
        outcome: SessionOutcome | RecorderBusyError
        try:
            outcome = app.dock_session.ingest(source, SERIAL, "generic", ready=ready)
        except RecorderBusyError as exc:
            outcome = exc
        with guard:
            results.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(ingests)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(results) < ingests - 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    answered_while_held = len(results)
    go.set()
    for t in threads:
        t.join(120)
    assert answered_while_held == ingests - 1, "the others were not refused while one ran"
    return results


def test_concurrent_ingests_in_one_process_record_each_recording_once(
    dockd_on: Dockd, tmp_path: Path
) -> None:
    src = tmp_path / "recorder"
    digests = make_recordings(src, [f"clip{i}.avi" for i in range(4)], MIB)
    app = build(load_config(dockd_on.config))
    try:
        results = _race(app, src, ingests=4)
        [winner] = [r for r in results if isinstance(r, SessionOutcome)]
        busy = [r for r in results if isinstance(r, RecorderBusyError)]
        assert winner.state == "completed" and len(winner.copied) == len(digests)
        assert len(busy) == 3
        for refusal in busy:
            assert refusal.code == "RECORDER_BUSY"
            assert refusal.session_id == winner.session_id
            assert winner.session_id in refusal.message and "dock-lock" in refusal.message

        # released on completion: the next dock of the recorder runs, and copies nothing
        again = app.dock_session.ingest(src, SERIAL, "generic")
        assert again.state == "completed" and again.already_verified == len(digests)
    finally:
        app.close()

    url = dockd_on.ledger_url
    paths = _rows(url, "SELECT path FROM recordings ORDER BY path")
    assert paths == [(name.decode(),) for name in sorted(digests)]
    sessions = _rows(url, "SELECT id, station, state FROM dock_sessions ORDER BY started_at")
    assert sessions == [
        (winner.session_id, "dock-lock", "completed"),
        (again.session_id, "dock-lock", "completed"),
    ]
    assert _rows(url, "SELECT serial FROM recorder_locks") == []
    assert "intact" in dockd_on.run("audit", "verify", check=True).stdout


def _staged_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in store.glob("tmp/*/*.part") if p.exists())


def _writer_idle(url: str) -> Callable[[], bool]:
    """Whether no other connection is inside a write transaction right now: a process
    paused inside one would hold the ingest under test up for reasons of its own."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")

        def sqlite_idle() -> bool:
            with contextlib.closing(sqlite3.connect(path, timeout=0)) as con:
                try:
                    con.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:
                    return False
                con.rollback()
                return True

        return sqlite_idle

    def postgres_idle() -> bool:
        open_transactions = _rows(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
        )
        return open_transactions == [(0,)]

    return postgres_idle


def test_a_second_dockd_ingest_of_a_recorder_being_copied_ends_at_once(
    dockd_on: Dockd, tmp_path: Path
) -> None:
    """Two `dockd ingest` processes of one recorder. The first is paused (SIGSTOP) mid-copy,
    outside any ledger transaction, so the second certainly meets it running."""
    src = tmp_path / "recorder"
    digests = make_recordings(src, [f"clip{i}.avi" for i in range(6)], 16 * MIB)
    url = dockd_on.ledger_url
    dockd_on.run("sessions", check=True)  # the schema first: this test is about the ingests
    idle = _writer_idle(url)
    first = popen(dockd_on, "ingest", str(src), "--serial", SERIAL)
    try:
        if not step_until(first, lambda: _staged_bytes(dockd_on.store) > 0 and idle()):
            pytest.fail("the first ingest ended before it was seen copying outside a transaction")
        try:
            [(running,)] = _rows(
                url, f"SELECT session_id FROM recorder_locks WHERE serial = '{SERIAL}'"
            )
            began = time.monotonic()
            second = dockd_on.ingest(src, SERIAL)
            took = time.monotonic() - began
        finally:
            first.send_signal(signal.SIGCONT)
        code, output = finish(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert second.returncode == 1, second.stdout + second.stderr
    assert f"RECORDER_BUSY: recorder {SERIAL} is being copied by dock session {running}" in (
        second.stderr
    )
    assert "hint: Wait for the named dock session to finish" in second.stderr
    assert "Traceback" not in second.stderr
    assert took < 20, f"the second ingest waited {took:.1f} s instead of ending at once"
    assert code == 0, output

    rows = _rows(url, "SELECT path, blake3 FROM recordings ORDER BY path")
    assert rows == [(name.decode(), digest) for name, digest in sorted(digests.items())]
    assert _rows(url, "SELECT id, state FROM dock_sessions") == [(running, "completed")]
    assert _rows(url, "SELECT serial FROM recorder_locks") == []
