"""What the use cases need from the world, as Protocols; `dockd.app` hands in the real
adapters, tests hand in fakes (tests/fakes/)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from dockd.core.policy import PolicyPack
from dockd.core.status import Assignment, LedgerFacts, SlotSnapshot, StoreSpace, VerifyRun
from dockd.core.views import DeadlineReport, RecordingView, SessionView

# --- status page ---


class StatusLedger(Protocol):
    """The ledger's facts for the status document (adapters.ledger.status.StatusReads)."""

    def facts(
        self, since: datetime, week: datetime, slot_sessions: Collection[str]
    ) -> LedgerFacts: ...

    def verify_runs(self) -> list[VerifyRun]: ...

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime
    ) -> DeadlineReport: ...

    def assignments(self, serial: str) -> list[Assignment]: ...

    def session(self, session_id: str) -> SessionView | None: ...

    def recordings(self, session_id: str) -> list[RecordingView]: ...


class StationClockReading(Protocol):
    """One measurement of the station clock against true time (NTP convention)."""

    @property
    def synchronised(self) -> bool: ...
    @property
    def offset_s(self) -> float | None: ...
    @property
    def server(self) -> str | None: ...
    @property
    def stratum(self) -> int | None: ...
    @property
    def method(self) -> str: ...
    @property
    def measured_at(self) -> datetime: ...
    @property
    def detail(self) -> str: ...


class StationClockReader(Protocol):
    def __call__(self) -> StationClockReading: ...


class StoreSpaceReader(Protocol):
    """The evidence store's filesystem: size and space free to dockd; OSError when unreadable."""

    def __call__(self) -> StoreSpace: ...


class LiveBoard(Protocol):
    """The daemon's live board of slots (daemon.board.StatusBoard)."""

    started: float  # Unix time the daemon started

    def snapshot(self) -> Sequence[SlotSnapshot]: ...

    def summary(self) -> str: ...
