"""The daemon's background forwarding: passes run after each dock session ends and every
few minutes, on one thread of their own, and docking wins the disk.

A recorder on the dock is a person waiting; an upload is not. Before each object's upload
the pass waits while any slot is mounting, copying or verifying, so the store's disk and
the station's CPU go to the copy and its read-back first. An object already being sent
finishes (at most `[central] streams` at once). Stopping the daemon stops the pass too:
the parts in flight finish, nothing more is sent, and an upload cut short is aborted by
the next start. A server-wide failure (unreachable, bad
credentials) only ends that pass; the next one tries again, and the dock keeps docking.
What waits for a confirmation (a docked recorder's clearing) hooks `after_each_pass`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import structlog

from dockd.daemon.board import StatusBoard
from dockd.errors import DockdError
from dockd.ports import Stopping
from dockd.services.forward import Forwarder

log = structlog.get_logger("dockd.daemon.forwarding")
INTERVAL_S = 300.0
DOCKING_STATES = frozenset({"mounting", "copying", "verifying"})
_POLL_S = 0.5


class BackgroundForwarder:
    def __init__(
        self,
        build: Callable[[Callable[[], None], Stopping], Forwarder],
        board: StatusBoard,
        interval_s: float = INTERVAL_S,
    ) -> None:
        """`build(wait_for_disk, stopping)` makes the forwarder: the pass calls the first
        before each upload, and asks the second before each object and part."""
        self.board = board
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._cancelled = False
        self.forwarder = build(self.wait_for_disk, self.stopping)
        self._due = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dockd-forward", daemon=True)
        self._after: list[Callable[[], None]] = []

    def after_each_pass(self, hook: Callable[[], None]) -> None:
        """Called on the forwarding thread after every pass, whatever it confirmed and even
        when it failed: a `dockd forward` beside the daemon may have confirmed what the hook
        waits for."""
        self._after.append(hook)

    def docking(self) -> bool:
        return any(s.state in DOCKING_STATES for s in self.board.snapshot())

    def wait_for_disk(self) -> None:
        while self.docking() and self.stopping() is None:
            self._stop.wait(_POLL_S)

    def stopping(self) -> str | None:
        return "dockd is stopping" if self._cancelled or self._stop.is_set() else None

    def start(self) -> None:
        self._due.set()  # a first pass at start: a killed dockd's uploads are aborted now
        self._thread.start()

    def kick(self) -> None:
        """A dock session ended: its recordings should go up soon."""
        self._due.set()

    def cancel(self) -> None:
        """The pass in flight stops at its next object or part. Called from the daemon's
        SIGTERM handler, so the pass does not keep sending while the daemon's loop
        finishes its poll and stops the slots: a plain flag, as taking an Event's lock in
        a handler could deadlock the thread it interrupted."""
        self._cancelled = True

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._due.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("forward-stop-timeout", waited_s=timeout)

    def _run(self) -> None:
        # SIGTERM and SIGINT are for the main thread, whose handler cancels the pass: the
        # kernel may give a process's signal to any thread not blocking it, and one given
        # to an upload thread would reach the handler only at the main loop's next poll.
        # The pass's threads are started from this one and inherit the mask.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        while not self._stop.is_set():
            self._due.wait(self.interval_s)
            self._due.clear()
            if self._stop.is_set():
                return
            self.wait_for_disk()
            self._pass()
            for hook in self._after:
                try:
                    hook()
                except Exception:  # the hook's own fault must not end forwarding either
                    log.exception("forward-hook-crashed")

    def _pass(self) -> None:
        try:
            summary = self.forwarder.run_pass()
        except DockdError as exc:
            log.error("forward-pass-failed", code=exc.code, message=exc.message, hint=exc.hint)
            return
        except Exception:  # a bug in one pass must not end forwarding for the daemon's life
            log.exception("forward-pass-crashed")
            return
        log.info(
            "forward-pass",
            confirmed=summary.confirmed,
            lock_updated=summary.lock_updated,
            taken_over=summary.taken_over,
            lock_upkeep_overdue=summary.lock_upkeep.overdue,
            freed=summary.freed,
            left=summary.left,
            left_bytes=summary.left_bytes,
            failed=dict(summary.failed),
            stopped=summary.stopped.code if summary.stopped else None,
        )
