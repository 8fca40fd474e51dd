"""The status picture as a use case: gather the facts over ports, assemble them purely
(`dockd.core.status.assemble`), and share the result.

Cost to the copy: the live board is read on every request (a lock and a list copy); what
comes from the ledger, the station clock and the custody log is cached here for a few
seconds and shared by every page and scrape, so any number of open pages polling every
2 s cost the copy threads next to nothing. One cache policy for every part: a value is
kept for its time-to-live and for as long as its key (what it depends on) is unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import structlog

from dockd.core.backlog import CentralStatus, central_status
from dockd.core.policy import PolicyPack
from dockd.core.status import (
    RATE_WINDOW,
    Assignment,
    LedgerFacts,
    SlotSnapshot,
    StatusFacts,
    StoreSpace,
    Totals,
    VerifyRun,
    assemble,
    assigned_at,
    local_midnight,
    totals,
)
from dockd.core.status_document import ClockState, SessionDocument, StatusDocument
from dockd.core.views import DeadlineReport
from dockd.errors import DockdError
from dockd.ports import (
    BacklogRecords,
    LiveBoard,
    StationClockReader,
    StatusLedger,
    StoreSpaceReader,
)

log = structlog.get_logger("dockd.status")

DOCUMENT_TTL_S = 0.5  # one picture serves every page and scrape asking within this long
LEDGER_TTL_S = 10.0  # sessions, counts: re-read at most this often (or when a slot changes)
REPORT_TTL_S = 60.0  # the deadline report: see StatusService._report
EVENTS_TTL_S = 60.0  # the custody log (last `dockd verify`): a separate process writes it
CLOCK_TTL_S = 30.0  # the station clock: an NTP exchange per server, so not on every poll

_ENDED = frozenset({"done", "interrupted", "error"})
T = TypeVar("T")


class Cached(Generic[T]):
    """A value kept for `ttl_s` seconds and while its key stays the same."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.monotonic = monotonic
        self._held: tuple[Hashable, float, T] | None = None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        held = self._held
        if held is not None and held[0] == key and self.monotonic() - held[1] < self.ttl_s:
            return held[2]
        value = compute()
        self._held = (key, self.monotonic(), value)
        return value


@dataclass(frozen=True)
class _LedgerPart:
    facts: LedgerFacts
    report: DeadlineReport | None
    assignments: dict[str, list[Assignment]]


class StatusService:
    """Builds StatusDocuments. Thread-safe; shared by the page, the API, /metrics.

    Without a board (`dockd status` when the daemon does not answer) the picture comes
    from the ledger alone and its slots are unknown."""

    def __init__(
        self,
        ledger: StatusLedger,
        *,
        board: LiveBoard | None,
        station_clock: StationClockReader,
        store_space: StoreSpaceReader,
        store_root: str,
        policy: PolicyPack,
        host: str,
        version: str,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        backlog: BacklogRecords | None = None,
    ) -> None:
        """`backlog`: None when no `[central]` store is configured (no central section)."""
        self.ledger = ledger
        self.backlog = backlog
        self.board = board
        self.station_clock = station_clock
        self.store_space = store_space
        self.store_root = store_root
        self.policy = policy
        self.host = host
        self.version = version
        self.clock = clock
        self._lock = threading.Lock()
        self._document: Cached[tuple[StatusDocument, bytes]] = Cached(DOCUMENT_TTL_S, monotonic)
        self._ledger_part: Cached[_LedgerPart] = Cached(LEDGER_TTL_S, monotonic)
        self._report_part: Cached[DeadlineReport | None] = Cached(REPORT_TTL_S, monotonic)
        self._verify_part: Cached[list[VerifyRun]] = Cached(EVENTS_TTL_S, monotonic)
        self._clock_part: Cached[ClockState | None] = Cached(CLOCK_TTL_S, monotonic)
        self._central_part: Cached[CentralStatus | None] = Cached(LEDGER_TTL_S, monotonic)

    @property
    def live(self) -> bool:
        return self.board is not None

    def document(self) -> StatusDocument:
        """The picture now; shared for DOCUMENT_TTL_S, so that the cost of the pages does not
        grow with the number of people looking at them."""
        return self._shared()[0]

    def document_json(self) -> bytes:
        """The picture as /api/status sends it, serialised once per picture: serialising
        holds the GIL for milliseconds, and each of them stalls the copy threads."""
        return self._shared()[1]

    def totals(self) -> Totals:
        with self._lock:
            now = self.clock()
            part = self._ledger(now, self._slots())
            return totals(part.facts, self._verifies())

    def session(self, session_id: str) -> SessionDocument | None:
        view = self.ledger.session(session_id)
        if view is None:
            return None
        custodian = assigned_at(self.ledger.assignments(view.serial), view.started_at)
        return SessionDocument(
            session=view,
            custodian=custodian.who if custodian else None,
            unit=custodian.unit if custodian else None,
            recordings=self.ledger.recordings(session_id),
        )

    # --- gathering the facts -----------------------------------------------------------------

    def _shared(self) -> tuple[StatusDocument, bytes]:
        with self._lock:
            return self._document.get((), self._build)

    def _build(self) -> tuple[StatusDocument, bytes]:
        now = self.clock()
        slots = self._slots()
        part = self._ledger(now, slots)
        store, store_error = self._store()
        board = self.board
        facts = StatusFacts(
            live=board is not None,
            summary=board.summary() if board is not None else "daemon not running",
            started_at=datetime.fromtimestamp(board.started, UTC) if board is not None else None,
            slots=slots,
            since=local_midnight(now),
            ledger=part.facts,
            report=part.report,
            verifies=self._verifies(),
            assignments=part.assignments,
            clock=self._clock_part.get((), self._station_clock),
            store=store,
            store_error=store_error,
            host=self.host,
            version=self.version,
            policy_id=self.policy.id,
            policy_name=self.policy.name,
            drift_warn_s=self.policy.clock.drift_warn_s,
            drift_violation_s=self.policy.clock.drift_violation_s,
            central=self._central_part.get((), lambda: self._central(now)),
        )
        document = assemble(facts, now)
        return document, document.model_dump_json().encode()

    def _slots(self) -> Sequence[SlotSnapshot]:
        return self.board.snapshot() if self.board is not None else []

    def _ledger(self, now: datetime, slots: Sequence[SlotSnapshot]) -> _LedgerPart:
        since = local_midnight(now)
        key = (since.date(), tuple((s.slot, s.state, s.serial, s.session) for s in slots))

        def read() -> _LedgerPart:
            sessions = {s.session for s in slots if s.session}
            return _LedgerPart(
                facts=self.ledger.facts(since, now - RATE_WINDOW, sessions),
                report=self._report(since, now, slots),
                assignments={
                    s.serial: self.ledger.assignments(s.serial) for s in slots if s.serial
                },
            )

        return self._ledger_part.get(key, read)

    def _report(
        self, since: datetime, now: datetime, slots: Sequence[SlotSnapshot]
    ) -> DeadlineReport | None:
        """The day's deadline report: re-read when a dock session ends (its late offloads
        and drift belong on the page) and otherwise at most every REPORT_TTL_S, not on
        every slot change: on a large ledger it is the page's most expensive read, and a
        copy in progress changes nothing in it."""
        ended = frozenset(s.session for s in slots if s.session and s.state in _ENDED)

        def read() -> DeadlineReport | None:
            try:
                return self.ledger.deadline_report(since, now, self.policy, now)
            except DockdError as exc:  # the rest of the picture is still worth showing
                log.warning("deadline-report-failed", code=exc.code, message=exc.message)
                return None

        return self._report_part.get((since.date(), ended), read)

    def _central(self, now: datetime) -> CentralStatus | None:
        """The backlog, re-read at most every LEDGER_TTL_S: forwarding moves it in the
        background, not in step with the slots."""
        if self.backlog is None:
            return None
        within = timedelta(hours=self.policy.forwarding.confirm_within_hours)
        candidates = self.backlog.central_candidates(within, now, now)
        lags = self.backlog.lock_lags()
        return central_status(self.backlog.held(), candidates, within, now, lags)

    def _verifies(self) -> list[VerifyRun]:
        return self._verify_part.get((), self.ledger.verify_runs)

    def _station_clock(self) -> ClockState | None:
        try:
            c = self.station_clock()
        except Exception as exc:  # the page must still show the rest
            log.warning("station-clock-unreadable", error=f"{type(exc).__name__}: {exc}")
            return None
        return ClockState(
            synchronised=c.synchronised,
            offset_s=c.offset_s,
            server=c.server,
            stratum=c.stratum,
            method=c.method,
            measured_at=c.measured_at,
            detail=c.detail,
        )

    def _store(self) -> tuple[StoreSpace | None, str | None]:
        try:
            return self.store_space(), None
        except OSError as exc:
            return None, f"cannot read {self.store_root}: {exc.strerror or exc}"
