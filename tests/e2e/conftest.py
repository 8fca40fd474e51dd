"""End-to-end fixtures: real system services the tests talk to (journald, an NTP server)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, Dock, require_udev, running_daemon
from tests.support.ntp import ResponderAddress, true_time_station
from tests.support.seaweed import central_bucket, seaweed, unlocked_bucket  # noqa: F401

JOURNALD = Path("/lib/systemd/systemd-journald")
JOURNAL_DIR = Path("/run/systemd/journal")
JOURNAL_SOCKET = JOURNAL_DIR / "socket"
INSTALL_HINT = "apt-get install systemd"


def journald_listening() -> bool:
    """A socket file alone is not enough: a journald that died leaves it behind."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(str(JOURNAL_SOCKET))
        except OSError:
            return False
    return True


@pytest.fixture(scope="package", autouse=True)
def station_ntp() -> Iterator[ResponderAddress]:
    """Every daemon started here docks against a synchronised station; package scope ends
    the responder and its environment variable with this folder."""
    with true_time_station() as server:
        yield server


@pytest.fixture(scope="session")
def journald() -> Iterator[None]:
    """A journald to log to and read from.

    Without systemd as PID 1 (containers, CI) nobody starts journald, so start one.
    It is left running on purpose: later tests and later test runs reuse it, and
    stopping a journald that someone else may also be writing to would lose their logs.
    """
    if shutil.which("journalctl") is None or not JOURNALD.exists():
        pytest.skip(f"journald is not installed: {INSTALL_HINT}")
    if not journald_listening():
        if os.geteuid() != 0:
            pytest.skip("no journald running, and starting one needs root")
        JOURNAL_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            JOURNAL_SOCKET.unlink()  # stale, from a journald that is gone
        # Its own session, not waited for: it outlives the test session, as intended.
        os.posix_spawn(
            str(JOURNALD),
            [str(JOURNALD)],
            {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")},
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
        deadline = time.monotonic() + 10
        while not journald_listening():
            if time.monotonic() > deadline:
                pytest.fail(f"{JOURNALD} did not open {JOURNAL_SOCKET} within 10 s")
            time.sleep(0.05)
    yield


@pytest.fixture
def dock() -> Iterator[Dock]:
    """The test's dock bays: loop-device recorders plugged through real udevd."""
    require_udev()
    bays = Dock()
    yield bays
    bays.close()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A `dockd run` of the test's own (not started: a test adds its config first)."""
    with running_daemon(tmp_path / "dock") as d:
        (tmp_path / "dock").mkdir()
        yield d
