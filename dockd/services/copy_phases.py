"""Where a copy's time goes, per phase, for the `copy-timing` log line and `bench/ingest.py`.

Phases run in several threads at once, so each is thread-seconds, and their sum can
exceed the wall time: the largest one is the bottleneck. Each phase also counts the CPU
its threads spent in it (`<phase>_cpu_s`): on a machine whose cores are shared, or under
the GIL, a phase's thread-seconds are mostly waiting, and only its CPU says what it costs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PHASES = ("stage", "durable", "publish", "read_back", "describe", "dir_sync", "ledger")


class Phases:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(PHASES, 0.0)
        self._cpu = dict.fromkeys(PHASES, 0.0)
        self._files = 0
        self._started = time.perf_counter()

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        began, began_cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            spent, cpu = time.perf_counter() - began, time.thread_time() - began_cpu
            with self._lock:
                self._seconds[phase] += spent
                self._cpu[phase] += cpu

    def laps(self) -> Laps:
        return Laps(self)

    def add(self, seconds: dict[str, float], cpu: dict[str, float]) -> None:
        with self._lock:
            for phase, spent in seconds.items():
                self._seconds[phase] += spent
            for phase, spent in cpu.items():
                self._cpu[phase] += spent

    def count(self, files: int) -> None:
        with self._lock:
            self._files += files

    def summary(self) -> dict[str, float | int]:
        """`<phase>_s` thread-seconds, `<phase>_cpu_s` their CPU, `wall_s` since the copy
        began, `files` recorded."""
        with self._lock:
            out: dict[str, float | int] = {f"{k}_s": round(v, 4) for k, v in self._seconds.items()}
            out.update({f"{k}_cpu_s": round(v, 4) for k, v in self._cpu.items()})
            out["wall_s"] = round(time.perf_counter() - self._started, 4)
            out["files"] = self._files
        return out


class Laps:
    """One thread's run of phases back to back (a group of small files: publish, read
    back, describe, the next file...), timed as laps: one clock pair per phase instead of
    two, no context manager, and the totals added to `Phases` once, at `close`."""

    def __init__(self, phases: Phases) -> None:
        self._phases = phases
        self._seconds = dict.fromkeys(PHASES, 0.0)
        self._cpu = dict.fromkeys(PHASES, 0.0)
        self._at, self._cpu_at = time.perf_counter(), time.thread_time()

    def lap(self, phase: str) -> None:
        """What has passed since the last lap (or the start) was `phase`."""
        at, cpu_at = time.perf_counter(), time.thread_time()
        self._seconds[phase] += at - self._at
        self._cpu[phase] += cpu_at - self._cpu_at
        self._at, self._cpu_at = at, cpu_at

    def skip(self) -> None:
        """What has passed since the last lap belongs to no phase."""
        self._at, self._cpu_at = time.perf_counter(), time.thread_time()

    def close(self) -> None:
        self._phases.add(self._seconds, self._cpu)
