"""Run a child process in short slices, to stop it at a point of its work for certain.

A test that must catch dockd "mid-copy" cannot rely on the copy being slow: on a faster
disk the whole copy fits in the gap between two polls, and the test has caught nothing.
Letting the child run only ``run_s`` at a time and keeping it stopped (SIGSTOP) for
``pause_s`` while the test looks slows it by a factor the test sets, not the machine.
dockd's own timers (a batch is flushed after half a second) keep counting while it is
stopped, so under stepping its batches hold few files and the states between them last
many slices.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any


def step_until(
    proc: subprocess.Popen[Any],
    reached: Callable[[], bool],
    *,
    run_s: float = 0.002,
    pause_s: float = 0.008,
    timeout_s: float = 180.0,
) -> bool:
    """Slice ``proc`` until ``reached()`` holds; then it is left stopped and True is returned.

    False when ``proc`` ended first. ``reached`` is only asked while ``proc`` is stopped,
    so what it sees stays true until the caller continues or kills the process.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc.send_signal(signal.SIGSTOP)
        if proc.poll() is not None:
            return False
        if reached():
            return True
        time.sleep(pause_s)
        proc.send_signal(signal.SIGCONT)
        time.sleep(run_s)
    proc.send_signal(signal.SIGCONT)
    raise AssertionError(f"not reached within {timeout_s:.0f} s of stepping")
