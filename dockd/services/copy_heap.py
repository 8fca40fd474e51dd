"""The garbage collector kept off what a copy does not create, while copies run."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


class FrozenHeap:
    """What is alive when a copy starts (the imported modules, the ledger's engine, the
    scan and the plan) is set aside from the garbage collector until no copy runs: each
    full collection walked all of it, seven times in a copy of 10,000 small files, 1.0 s
    of the 15 s of CPU, stalling every copy thread. Sessions side by side share one
    freeze; the last to finish lifts it, so nothing frozen stays uncollectable.

    A freeze someone else holds (`app.start_up`'s, of everything built at start) is
    theirs: the collector has one frozen set and no way to lift part of it, so a copy
    that finds the heap frozen neither adds to it nor lifts it. What start-up froze is
    most of the heap; the copy's own start (the scan and the plan) stays collectable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies = 0
        self._ours = False

    @contextlib.contextmanager
    def during_copy(self) -> Iterator[None]:
        with self._lock:
            if self._copies == 0:
                self._ours = gc.get_freeze_count() == 0
                if self._ours:
                    gc.freeze()
            self._copies += 1
        try:
            yield
        finally:
            with self._lock:
                self._copies -= 1
                if self._copies == 0 and self._ours:
                    gc.unfreeze()
                    self._ours = False


FROZEN = FrozenHeap()
