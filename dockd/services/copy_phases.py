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
