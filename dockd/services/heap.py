"""The garbage collector's freeze: the one place that freezes and thaws it.

Python has one permanent generation per process: `gc.freeze()` moves every tracked
object into it and `gc.unfreeze()` empties all of it. Two parts want it. Start-up
(`dockd.app.start_up`) freezes the modules, classes, mappers and schemas it built, which
live as long as the process; copies (`dockd.services.copy_heap`) freeze whatever is
alive while they run, and must thaw it when the last one ends, or cycles that die
later (a finished session's, a web request's) would never be collected.

The contract: start-up calls `freeze_start_up`, copies call `freeze` and `thaw`.
A thaw lifts start-up's freeze too, so it is taken again at the end of the next full
collection the collector runs by itself: its survivors are what is still alive, start-up's
objects among them, and no collection is added for it (one costs 70-250 ms here,
which an empty `dockd ingest` would pay for nothing). What that re-freeze holds and later
dies in a cycle waits for the next thaw.

At exit everything is frozen: the interpreter's last collections, as it tears its
modules down, would walk every object the command made (after a copy's thaw, all of
start-up's too: about a third of an empty `dockd ingest`'s CPU) for cycles whose memory
the exit frees anyway. Nothing of dockd's waits on such a cycle's finalizer: the ledger
and the store are closed by `App.close`, and Python promises no `__del__` at exit.
"""

from __future__ import annotations

import atexit
import gc
from typing import Any

_state = {"start_up_frozen": False, "refreeze": False}


def freeze_start_up() -> None:
    """What start-up built is never walked again (until a copy's thaw, see above)."""
    gc.freeze()
    _state["start_up_frozen"] = True


def freeze() -> None:
    """A copy starts: everything alive now is set aside while it runs."""
    _state["refreeze"] = False
    gc.freeze()


def thaw() -> None:
    """The last copy ended: everything is collectable again; start-up's freeze comes back
    after the next full collection."""
    gc.unfreeze()
    _state["refreeze"] = _state["start_up_frozen"]


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    # no lock: the collector may run inside any thread's critical section
    if phase == "stop" and info["generation"] == 2 and _state["refreeze"]:
        _state["refreeze"] = False
        gc.freeze()


gc.callbacks.append(_after_collection)
atexit.register(gc.freeze)
