"""In-memory fakes of the status service's ports (`dockd.ports`, section status page)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dockd.core.policy import PolicyPack
from dockd.core.status import Assignment, LedgerFacts, SlotSnapshot, StoreSpace, VerifyRun
from dockd.core.views import DeadlineReport, RecordingView, SessionView
from dockd.errors import LedgerError

EMPTY_FACTS = LedgerFacts(
    sessions_today=[],
    drift_today=[],
    verdicts={},
    week_bytes=0,
    recordings=0,
    bytes=0,
    by_state={},
)


@dataclass
class FakeStatusLedger:
    """Counts what it is asked, so that a test can see what the caches spare the ledger."""

    facts_read: LedgerFacts = EMPTY_FACTS
    runs: list[VerifyRun] = field(default_factory=list)
    history: dict[str, list[Assignment]] = field(default_factory=dict)
    sessions: dict[str, SessionView] = field(default_factory=dict)
    report_fails: bool = False
    asked: dict[str, int] = field(default_factory=dict)

    def _ask(self, what: str) -> None:
        self.asked[what] = self.asked.get(what, 0) + 1

    def facts(self, since: datetime, week: datetime, slot_sessions: Collection[str]) -> LedgerFacts:
        self._ask("facts")
        return self.facts_read

    def verify_runs(self) -> list[VerifyRun]:
        self._ask("verify_runs")
        return list(self.runs)

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime
    ) -> DeadlineReport:
        self._ask("deadline_report")
        if self.report_fails:
            raise LedgerError("ledger read failed: no such table: interruptions")
        return DeadlineReport(
            pack=pack.id,
            since=since,
            until=until,
            late_offloads=[],
            overdue_recorders=[],
            drift_violations=[],
            interruptions=[],
            unsealed_sessions=[],
            verify_failures=[],
        )

    def assignments(self, serial: str) -> list[Assignment]:
        self._ask("assignments")
        return self.history.get(serial, [])

    def session(self, session_id: str) -> SessionView | None:
        return self.sessions.get(session_id)

    def recordings(self, session_id: str) -> list[RecordingView]:
        return []


@dataclass
class FakeBoard:
    slots: list[SlotSnapshot] = field(default_factory=list)
    started: float = 0.0

    def snapshot(self) -> Sequence[SlotSnapshot]:
        return list(self.slots)

    def summary(self) -> str:
        return ", ".join(f"1 {s.state}" for s in self.slots) or "waiting for recorders"


@dataclass
class FakeStationClock:
    synchronised: bool = True
    offset_s: float | None = 0.0
    server: str | None = "127.0.0.1:123"
    stratum: int | None = 2
    method: str = "ntp"
    measured_at: datetime = datetime(2026, 11, 22)
    detail: str = "fake"


SPACE = StoreSpace("/srv/dockd", 1000, 500)


@dataclass
class FakeStoreSpace:
    space: StoreSpace | None = SPACE

    def __call__(self) -> StoreSpace:
        if self.space is None:
            raise FileNotFoundError(2, "No such file or directory")
        return self.space
