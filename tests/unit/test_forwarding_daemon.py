"""The daemon's background forwarding over fakes: a pass at start and after each dock
session, and no new upload while a slot is copying (docking wins the disk)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dockd.daemon.board import StatusBoard
from dockd.daemon.forwarding import BackgroundForwarder
from dockd.errors import ForwardingStoppedError
from dockd.ports import Stopping
from dockd.services.forward import Forwarder
from tests.fakes.central import FakeBucket, FakeCentralRecords, FakeLocalStore, FakeObject

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_passes_run_at_start_and_after_a_dock_and_yield_to_copying(tmp_path: Path) -> None:
    data = [b"first", b"second"]
    objects = [
        FakeObject(hashlib.sha256(d).hexdigest(), d, [NOW + timedelta(days=90)]) for d in data
    ]
    bucket = FakeBucket()
    records = FakeCentralRecords([objects[0]], NOW + timedelta(days=365))
    store = FakeLocalStore(tmp_path)
    for o in objects:
        store.add(o)
    board = StatusBoard()

    def build(wait: Callable[[], None], stopping: Stopping) -> Forwarder:
        return Forwarder(bucket, records, store, lambda: NOW, 30, 1, wait, stopping=stopping)

    background = BackgroundForwarder(build, board, interval_s=3600)
    board.set("usb-1", state="copying", serial="SN1")
    background.start()
    try:
        time.sleep(0.3)
        assert bucket.puts == [], "nothing is sent while a slot is copying"
        board.set("usb-1", state="done")
        assert until(lambda: len(bucket.puts) == 1)
        records.objects.append(objects[1])  # a dock session copied another object
        background.kick()
        assert until(lambda: len(bucket.puts) == 2)
        assert {c.state for c in records.copies.values()} == {"confirmed"}
    finally:
        background.stop(timeout=5)
    assert not background._thread.is_alive()


def test_hooks_run_after_every_pass_and_a_crashing_one_stops_nothing(tmp_path: Path) -> None:
    records = FakeCentralRecords([], NOW + timedelta(days=365))

    def build(wait: Callable[[], None], stopping: Stopping) -> Forwarder:
        return Forwarder(
            FakeBucket(),
            records,
            FakeLocalStore(tmp_path),
            lambda: NOW,
            30,
            1,
            wait,
            stopping=stopping,
        )

    background = BackgroundForwarder(build, StatusBoard(), interval_s=3600)
    calls: list[str] = []

    def crash() -> None:
        calls.append("crash")
        raise RuntimeError("a bug in a hook")

    background.after_each_pass(crash)
    background.after_each_pass(lambda: calls.append("after"))
    background.start()
    try:
        assert until(lambda: calls == ["crash", "after"])
        background.kick()
        assert until(lambda: calls == ["crash", "after"] * 2)
    finally:
        background.stop(timeout=5)


def test_hooks_run_after_a_pass_that_failed(tmp_path: Path) -> None:
    bucket = FakeBucket(object_lock=False)  # every pass refused before sending anything
    records = FakeCentralRecords([], NOW + timedelta(days=365))

    def build(wait: Callable[[], None], stopping: Stopping) -> Forwarder:
        return Forwarder(
            bucket, records, FakeLocalStore(tmp_path), lambda: NOW, 30, 1, wait, stopping=stopping
        )

    background = BackgroundForwarder(build, StatusBoard(), interval_s=3600)
    calls: list[str] = []
    background.after_each_pass(lambda: calls.append("after"))
    background.start()
    try:
        assert until(lambda: calls == ["after"])
    finally:
        background.stop(timeout=5)


def test_a_cancelled_daemon_pass_sends_nothing_more(tmp_path: Path) -> None:
    """The daemon's SIGTERM handler cancels: the pass stops at its next object or part."""
    data = b"left for the next start"
    item = FakeObject(hashlib.sha256(data).hexdigest(), data, [NOW + timedelta(days=90)])
    bucket = FakeBucket()
    records = FakeCentralRecords([item], NOW + timedelta(days=365))
    store = FakeLocalStore(tmp_path)
    store.add(item)

    def build(wait: Callable[[], None], stopping: Stopping) -> Forwarder:
        return Forwarder(bucket, records, store, lambda: NOW, 30, 1, wait, stopping=stopping)

    background = BackgroundForwarder(build, StatusBoard(), interval_s=3600)
    assert background.stopping() is None
    background.cancel()
    assert background.stopping() == "dockd is stopping"
    summary = background.forwarder.run_pass()
    assert isinstance(summary.stopped, ForwardingStoppedError)
    assert (bucket.puts, summary.left, records.copies) == ([], 1, {})
