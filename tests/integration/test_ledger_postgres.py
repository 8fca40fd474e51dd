"""dockd on a real PostgreSQL ledger: the same answers as SQLite, and a custody chain
that stays one chain when several dockd processes write to it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from blake3 import blake3

from tests.conftest import REPO, Dockd, unfreeze, write_config
from tests.support.postgres import running_postgres
from tests.support.stepping import step_until

pytestmark = pytest.mark.root

MIB = 1 << 20
BAD_NAME = b"bad\xff.mp4"


def make_recordings(folder: Path, names: list[bytes | str], size: int) -> dict[bytes, str]:
    """Distinct files (raw names allowed, so non-UTF-8 ones too); {raw name: BLAKE3}."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(min(size, 16 * MIB))
    digests = {}
    for index, name in enumerate(names):
        raw = name if isinstance(name, bytes) else name.encode()
        data = index.to_bytes(8, "little") + os.urandom(56)
        h = blake3()
        with open(os.fsencode(folder) + b"/" + raw, "wb") as fh:
            while len(data):
                fh.write(data)
                h.update(data)
                written = fh.tell()
                data = block[: size - written]
        digests[raw] = h.hexdigest()
    return digests


@contextmanager
def postgres_dockd(tmp_path: Path, name: str = "pg") -> Iterator[Dockd]:
    with running_postgres(tmp_path / name) as url:
        store = tmp_path / f"{name}-store"
        try:
            yield Dockd(write_config(tmp_path / f"{name}.toml", store, url), store, url)
        finally:
            unfreeze(store)


def popen(d: Dockd, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dockd.cli", "--config", str(d.config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def ok(d: Dockd, *args: str) -> str:
    result = d.run(*args)
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def custody_seqs(url: str) -> list[int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return list(c.execute(sa.text("SELECT seq FROM custody_events ORDER BY seq")).scalars())
    finally:
        engine.dispose()


RECORDING_FIELDS = (
    "serial",
    "path",
    "path_raw_hex",
    "size",
    "start",
    "end",
    "duration_s",
    "time_source",
    "badge",
    "sequence",
    "important",
    "blake3",
    "sha256",
    "object",
    "protections",
    "verify_method",
)
SESSION_FIELDS = (
    "serial",
    "profile",
    "slot",
    "source",
    "state",
    "files_seen",
    "recordings",
    "already_verified",
    "bytes_copied",
    "error_code",
)


def comparable_recordings(recordings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        ({k: r[k] for k in RECORDING_FIELDS} for r in recordings), key=lambda r: r["path"]
    )


def comparable_sessions(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{k: s[k] for k in SESSION_FIELDS},
            "problems": sorted((p["path"], p["code"], p["message"]) for p in s["problems"]),
        }
        for s in sessions
    ]


def test_postgres_ledger_gives_the_same_answers_as_sqlite(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "recorder"
    digests = make_recordings(src, ["a.avi", "b.jpg", BAD_NAME, "c.wav"], MIB)

    with postgres_dockd(tmp_path) as pg:
        first = pg.ingest(src, "SNPG")
        assert first.returncode == 1, first.stdout + first.stderr  # the name that is not UTF-8
        [session] = pg.json("sessions")
        assert session["state"] == "completed_with_problems", session
        assert session["recordings"] == len(digests)
        assert "name-not-utf8" in [p["code"] for p in session["problems"]]

        recordings = pg.json("recordings")
        assert len(recordings) == len(digests)
        for r in recordings:
            raw = bytes.fromhex(r["path_raw_hex"]) if r["path_raw_hex"] else r["path"].encode()
            assert r["blake3"] == digests[raw]
            assert r["size"] == MIB
        [bad] = [r for r in recordings if r["path_raw_hex"]]
        assert bytes.fromhex(bad["path_raw_hex"]) == BAD_NAME
        assert bad["path"] == "bad\\xff.mp4"

        # A re-dock adds nothing.
        again = pg.ingest(src, "SNPG")
        assert again.returncode == 1, again.stdout + again.stderr  # the same name, again
        pg_sessions = pg.json("sessions")
        assert len(pg_sessions) == 2
        assert pg_sessions[1]["recordings"] == 0
        assert pg_sessions[1]["already_verified"] == len(digests)
        pg_recordings = pg.json("recordings")
        assert pg_recordings == recordings

        assert "intact" in ok(pg, "audit", "verify")
        ok(pg, "verify")

    # The same recorder through the default SQLite ledger.
    dockd.ingest(src, "SNPG")
    dockd.ingest(src, "SNPG")
    assert comparable_recordings(pg_recordings) == comparable_recordings(dockd.json("recordings"))
    assert comparable_sessions(pg_sessions) == comparable_sessions(dockd.json("sessions"))


def _session_count(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT count(*) FROM dock_sessions")).scalar_one())


def _staged_bytes(store: Path) -> int:
    total = 0
    for part in store.glob("tmp/*/*.part"):
        try:
            total += part.stat().st_size
        except FileNotFoundError:
            continue
    return total


def _until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_concurrent_ingests_keep_one_custody_chain(tmp_path: Path) -> None:
    """Two recorders docked at once, each ingested by its own dockd process.

    On a loaded 2-core machine one process can finish before the other has even
    imported; so the first is paused (SIGSTOP) mid-copy until the second has
    opened its session, which makes the two sessions overlap for certain.
    """
    sources = {serial: tmp_path / serial for serial in ("SNLEFT", "SNRIGHT")}
    digests = {
        serial: make_recordings(src, [f"clip{i}.avi" for i in range(6)], 16 * MIB)
        for serial, src in sources.items()
    }

    with postgres_dockd(tmp_path) as pg:
        ok(pg, "sessions", "--json")  # create the schema first: this test is about ingests
        engine = sa.create_engine(pg.ledger_url)
        (left_serial, left_src), (right_serial, right_src) = sources.items()
        procs = [popen(pg, "ingest", str(left_src), "--serial", left_serial)]
        try:
            assert step_until(procs[0], lambda: _staged_bytes(pg.store) > 0), "it never copied"
            try:
                procs.append(popen(pg, "ingest", str(right_src), "--serial", right_serial))
                _until(lambda: _session_count(engine) >= 2, 30)
            finally:
                procs[0].send_signal(signal.SIGCONT)
            results = [finish(p) for p in procs]
        finally:
            engine.dispose()
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for code, output in results:
            assert code == 0, output

        sessions = pg.json("sessions")
        assert sorted(s["serial"] for s in sessions) == sorted(sources)
        assert all(s["state"] == "completed" and s["recordings"] == 6 for s in sessions)
        left, right = (
            (datetime.fromisoformat(s["started_at"]), datetime.fromisoformat(s["finished_at"]))
            for s in sessions
        )
        assert left[0] < right[1] and right[0] < left[1], "the two ingests did not overlap"

        recordings = pg.json("recordings")
        assert len(recordings) == 12
        for r in recordings:
            assert r["blake3"] == digests[r["serial"]][r["path"].encode()]

        # the station's key registered and the first checkpoint, then
        # 2 x (start + 6 + finish + its checkpoint), all on the station's one chain
        assert ", 20 events;" in ok(pg, "audit", "verify")
        assert custody_seqs(pg.ledger_url) == list(range(1, 21))
        ok(pg, "verify")


def _lock_waiters(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(
            c.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def _wait_for_waiters(engine: sa.Engine, count: int, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 30
    while _lock_waiters(engine) < count:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def test_two_dockd_first_started_together_on_a_new_postgres_both_work(tmp_path: Path) -> None:
    """Two stations (or a slot and the CLI) opening a brand-new PostgreSQL ledger at once.

    The collision window of two schema migrations is a few milliseconds, so it is
    widened for real rather than waited for: another client holds an uncommitted
    ``custody_events`` table until both dockd are inside their migration, then rolls
    back. Each dockd has its own store so that only the ledger is shared.
    """
    sources = {serial: tmp_path / serial for serial in ("SNONE", "SNTWO")}
    for src in sources.values():
        make_recordings(src, ["a.avi", "b.avi"], MIB)

    with running_postgres(tmp_path / "pg") as url:
        dockds = [
            Dockd(
                write_config(tmp_path / f"{s}.toml", tmp_path / f"{s}-store", url),
                tmp_path / f"{s}-store",
                url,
            )
            for s in sources
        ]
        engine = sa.create_engine(url)
        blocker = engine.connect()
        procs: list[subprocess.Popen[str]] = []
        try:
            tx = blocker.begin()
            blocker.execute(sa.text("CREATE TABLE custody_events (placeholder integer)"))
            for d, (serial, src) in zip(dockds, sources.items(), strict=True):
                procs.append(popen(d, "ingest", str(src), "--serial", serial))
                _wait_for_waiters(engine, len(procs), procs)
            tx.rollback()
            results = [finish(p) for p in procs]
        finally:
            blocker.close()
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            engine.dispose()
            for d in dockds:
                unfreeze(d.store)

        for code, output in results:
            assert code == 0, output
        sessions = dockds[0].json("sessions")
        assert sorted(s["serial"] for s in sessions) == sorted(sources)
        assert "intact" in ok(dockds[0], "audit", "verify")
