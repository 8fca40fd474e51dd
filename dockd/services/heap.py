"""The garbage collector's freeze: the one place that freezes it and lifts it.

Python has one frozen set per process: `gc.freeze()` moves every tracked object into it
and `gc.unfreeze()` empties all of it; there is no lifting part of it. Two parts want it:
- start-up (`dockd.app.start_up`) freezes the modules, classes, mappers and schemas it
  built, which live as long as the process (`freeze_start_up`);
- a copy freezes what is alive when it starts (the ledger's engine, the scan and the
  plan) until no copy runs (`FROZEN.during_copy`): each full collection walked all of
  it, seven times in a copy of 10,000 small files, 1.0 s of the 15 s of CPU, stalling
  every copy thread.

The rule between them: a freeze is lifted only by whoever took it. A copy that finds the
heap frozen (start-up's, in the daemon and every command) neither adds to it nor lifts it,
so start-up's objects stay out of every collection for the process's life, and the
copy's own start stays collectable. Sessions side by side share one copy freeze; the last
to finish lifts it, so nothing it froze stays uncollectable.

At exit everything is frozen: the interpreter's last collections, as it tears its
modules down, would walk every object the command made for cycles whose memory the exit
frees anyway. Nothing of dockd's waits on such a cycle's finalizer: the ledger and the
store are closed by `App.close`, and Python promises no `__del__` at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading
from collections.abc import Iterator


def freeze_start_up() -> None:
    """What start-up built is never walked again."""
    gc.freeze()


class FrozenHeap:
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
atexit.register(gc.freeze)
