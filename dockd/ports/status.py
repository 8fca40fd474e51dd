"""Ports for the status page: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.backlog import CentralCandidate, HeldGroup
    from dockd.core.policy import PolicyPack
    from dockd.core.status import Assignment, LedgerFacts, SlotSnapshot, StoreSpace, VerifyRun
    from dockd.core.views import (
        DeadlineReport,
        RecordingView,
        SessionView,
    )


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


class BacklogRecords(Protocol):
    """This station's objects against the central store (adapters.ledger.backlog): read
    by the status page, /metrics and the nightly report when `[central]` is set."""

    def held(self) -> list[HeldGroup]: ...

    def central_candidates(
        self, within: timedelta, since: datetime, until: datetime
    ) -> list[CentralCandidate]: ...

    def lock_lags(self) -> list[datetime]:
        """When the central lock of each object, any station's, began to lag what the
        ledger wants."""


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
