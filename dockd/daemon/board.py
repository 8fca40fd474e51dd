"""The live picture of the dock: which slot holds which recorder and how far its copy is.

The daemon and the copy threads write it; the status pages, `dockd status` and the
systemd STATUS= line read snapshots of it. Nothing here does I/O. A slot's message and
hint are `Said`: English that keeps its template and values, so that each reader gets them
in their own language.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from dockd.core.said import Said
from dockd.core.status_document import SlotState
from dockd.errors import DockdError
from dockd.services.clearing import ClearResult


@dataclass(frozen=True, slots=True)
class SlotStatus:
    slot: str
    state: SlotState
    serial: str | None = None
    profile: str | None = None
    session: str | None = None
    files_total: int = 0
    files_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    started: float | None = None
    updated: float = field(default_factory=time.monotonic)
    message: str | None = None
    code: str | None = None
    hint: str | None = None
    drift_s: float | None = None

    @property
    def rate_bps(self) -> float | None:
        if self.started is None or self.bytes_done == 0:
            return None
        elapsed = self.updated - self.started
        return self.bytes_done / elapsed if elapsed > 0 else None

    @property
    def eta_s(self) -> float | None:
        rate = self.rate_bps
        if rate is None or self.state != "copying":
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / rate)


class SlotProgress:
    """What one dock session reports about itself, aimed at one slot of the board."""

    def __init__(self, board: StatusBoard, slot: str) -> None:
        self.board = board
        self.slot = slot

    def planned(self, session: str, files: int, nbytes: int, drift_s: float | None) -> None:
        self.board.set(
            self.slot,
            state="copying",
            session=session,
            files_total=files,
            bytes_total=nbytes,
            files_done=0,
            bytes_done=0,
            started=time.monotonic(),
            drift_s=drift_s,
        )

    def copied(self, nbytes: int) -> None:
        self.board.add_progress(self.slot, nbytes=nbytes)

    def verified(self, files: int) -> None:
        self.board.add_progress(self.slot, files=files)


class StatusBoard:
    """Thread-safe: every change replaces a frozen SlotStatus, readers get snapshots."""

    def __init__(self) -> None:
        self._slots: dict[str, SlotStatus] = {}
        self._lock = threading.Lock()
        self.started = time.time()

    def set(self, slot: str, **changes: object) -> None:
        with self._lock:
            current = self._slots.get(slot) or SlotStatus(slot=slot, state="empty")
            self._slots[slot] = replace(current, updated=time.monotonic(), **changes)  # type: ignore[arg-type]

    def show_error(self, slot: str, error: DockdError, **changes: object) -> None:
        """The error on the slot: its message and hint as templates with the error's values."""
        self.set(slot, message=Said.error(error), code=error.code, hint=Said.hint(error), **changes)

    def show_not_cleared(self, slot: str, reason: str) -> None:
        """Why a clearing the station asked for did not happen (a refusal, itself a `Said`)."""
        self.set(slot, message=Said("not cleared: {reason}", reason=reason))

    def show_cleared(self, slot: str, result: ClearResult) -> None:
        """What a clearing did: the files it deleted, those it kept and why, its error."""
        error = result.error
        self.set(
            slot,
            message=result.summary,
            code=error.code if error else None,
            hint=Said.hint(error) if error else None,
        )

    def add_progress(self, slot: str, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            current = self._slots.get(slot)
            if current is None:
                return
            self._slots[slot] = replace(
                current,
                files_done=current.files_done + files,
                bytes_done=current.bytes_done + nbytes,
                updated=time.monotonic(),
            )

    def clear(self, slot: str) -> None:
        with self._lock:
            self._slots.pop(slot, None)

    def snapshot(self) -> list[SlotStatus]:
        with self._lock:
            return sorted(self._slots.values(), key=lambda s: s.slot)

    def summary(self) -> str:
        """One line for systemd's STATUS=, e.g. '2 copying, 1 done'."""
        states = [s.state for s in self.snapshot()]
        if not states:
            return "waiting for recorders"
        return ", ".join(f"{states.count(st)} {st}" for st in sorted(set(states)))
