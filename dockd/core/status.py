"""The status document (`dockd.core.status_document`), assembled purely from facts.

`/api/status`, the status page, `/metrics` and `dockd status` all show this one document.
What goes in is plain facts (ledger figures, the deadline report, verify runs, the
registry's assignments, slot snapshots of the live board, the station clock and store
space) and the time ``now``; nothing here reads a clock, a file or the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from dockd.core.backlog import CentralStatus
from dockd.core.clock import RecorderClock, drift_verdict
from dockd.core.completeness import INCOMPLETE_CODE
from dockd.core.status_document import (
    Alert,
    ClockState,
    DriftVerdict,
    LastVerify,
    Phrase,
    SessionLine,
    SlotCard,
    SlotState,
    StationState,
    StatusDocument,
    StoreState,
    Today,
)
from dockd.core.views import DeadlineReport, DriftViolation, VerifyFailure

POLL_S = 2.0  # what the page's script polls at; `dockd status --watch` refreshes at it too
RATE_WINDOW = timedelta(days=7)  # "days left" extrapolates the ingest of this window
LOW_DAYS_WARN = 14.0
LOW_DAYS_BAD = 3.0

# --- the facts it is assembled from -----------------------------------------------------------


class SlotSnapshot(Protocol):
    """One slot of the live board, as the daemon's StatusBoard snapshots it."""

    @property
    def slot(self) -> str: ...
    @property
    def state(self) -> SlotState: ...
    @property
    def serial(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def session(self) -> str | None: ...
    @property
    def files_total(self) -> int: ...
    @property
    def files_done(self) -> int: ...
    @property
    def bytes_total(self) -> int: ...
    @property
    def bytes_done(self) -> int: ...
    @property
    def rate_bps(self) -> float | None: ...
    @property
    def eta_s(self) -> float | None: ...
    @property
    def drift_s(self) -> float | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def code(self) -> str | None: ...
    @property
    def hint(self) -> str | None: ...


@dataclass(frozen=True)
class LedgerFacts:
    """What the page needs from the ledger's dock sessions, read in one go."""

    sessions_today: list[SessionLine]  # started since local midnight or still running
    drift_today: list[DriftViolation]  # from the sessions, for when the report fails
    verdicts: dict[str, DriftVerdict]  # finished sessions of the docked recorders
    week_bytes: int  # copied in the last RATE_WINDOW
    recordings: int  # all time
    bytes: int  # all time
    by_state: dict[str, int]  # dock sessions by state, all time


@dataclass(frozen=True)
class VerifyRun:
    """One `dockd verify`, as its custody event store-verified recorded it."""

    at: datetime
    checked: int
    ok: int | None  # older events did not record it
    findings: list[tuple[str, str]]  # (object, problem)


@dataclass(frozen=True)
class Assignment:
    """The registry: a recorder assigned to a custodian from `since` until `until`."""

    name: str
    badge: str
    unit: str | None
    since: datetime
    until: datetime | None

    @property
    def who(self) -> str:
        return f"{self.name} ({self.badge})"


@dataclass(frozen=True)
class StoreSpace:
    root: str
    size_bytes: int
    free_bytes: int


@dataclass(frozen=True)
class StatusFacts:
    """Everything the document is made of, gathered by the status service."""

    live: bool
    summary: str
    started_at: datetime | None  # when the daemon started; None: not running
    slots: Sequence[SlotSnapshot]
    since: datetime  # the station's local midnight
    ledger: LedgerFacts
    report: DeadlineReport | None  # None: the deadline report failed
    verifies: Sequence[VerifyRun]
    assignments: Mapping[str, Sequence[Assignment]]  # of the docked recorders
    clock: ClockState | None
    store: StoreSpace | None
    store_error: str | None
    host: str
    version: str
    policy_id: str
    policy_name: str
    drift_warn_s: float
    drift_violation_s: float
    central: CentralStatus | None = None  # None: no [central] store configured


@dataclass(frozen=True)
class Totals:
    """All-time counts, for /metrics."""

    recordings: int
    bytes: int
    sessions_by_state: Mapping[str, int]
    verify_failures: int


# --- assembly ---------------------------------------------------------------------------------


def local_midnight(now: datetime) -> datetime:
    """Start of the station's local day that contains `now` (aware)."""
    return now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)


def assigned_at(history: Sequence[Assignment], at: datetime) -> Assignment | None:
    """Who the registry says was responsible for the recorder at `at` (None: not registered
    or not assigned)."""
    for assignment in reversed(history):
        if assignment.since <= at and (assignment.until is None or at < assignment.until):
            return assignment
    return None


def live_verdict(drift_s: float | None, warn_s: float, violation_s: float) -> DriftVerdict | None:
    """While copying only the drift number is known, not how it was measured: judged as a
    lower bound, which can prove a violation but never 'ok', so below the limits (and with
    no drift) there is no verdict yet."""
    clock = RecorderClock(drift_s, "unknown", datetime.min, "while copying")
    verdict = drift_verdict(clock, warn_s, violation_s)
    return None if verdict == "unknown" else verdict


def verify_results(runs: Sequence[VerifyRun]) -> tuple[LastVerify | None, list[VerifyFailure]]:
    """The newest run, and every finding of every run (oldest first)."""
    last: LastVerify | None = None
    failures: list[VerifyFailure] = []
    for run in runs:
        last = LastVerify(
            at=run.at,
            checked=run.checked,
            ok=run.ok if run.ok is not None else run.checked - len(run.findings),
            findings=len(run.findings),
            result="failed" if run.findings else "ok",
        )
        failures += [VerifyFailure(at=run.at, object=o, problem=p) for o, p in run.findings]
    return last, failures


def totals(ledger: LedgerFacts, runs: Sequence[VerifyRun]) -> Totals:
    failures = sum(len(run.findings) for run in runs)
    return Totals(ledger.recordings, ledger.bytes, ledger.by_state, failures)


def assemble(facts: StatusFacts, now: datetime) -> StatusDocument:
    """The document for `now` from `facts`."""
    last_verify, failures = verify_results(facts.verifies)
    cards = [_card(s, facts, now) for s in facts.slots]
    offset = now.astimezone().utcoffset() or timedelta(0)
    started = facts.started_at
    station = StationState(
        host=facts.host,
        version=facts.version,
        policy=facts.policy_id,
        policy_name=facts.policy_name,
        started_at=started,
        uptime_s=(now - started).total_seconds() if started else None,
        utc_offset_s=int(offset.total_seconds()),
        clock=facts.clock,
        store=_store(facts.store, facts.ledger.week_bytes),
        store_error=facts.store_error,
        last_verify=last_verify,
    )
    return StatusDocument(
        generated_at=now,
        live=facts.live,
        summary=facts.summary,
        slots=cards,
        alerts=alerts(station, cards, facts.central),
        today=_today(facts, failures, now),
        station=station,
        central=facts.central,
    )


def _card(s: SlotSnapshot, facts: StatusFacts, now: datetime) -> SlotCard:
    verdict = live_verdict(s.drift_s, facts.drift_warn_s, facts.drift_violation_s)
    if s.session in facts.ledger.verdicts:
        verdict = facts.ledger.verdicts[s.session]
    custodian = assigned_at(facts.assignments.get(s.serial, ()), now) if s.serial else None
    return SlotCard(
        slot=s.slot,
        state=s.state,
        serial=s.serial,
        profile=s.profile,
        custodian=custodian.who if custodian else None,
        unit=custodian.unit if custodian else None,
        session=s.session,
        files_total=s.files_total,
        files_done=s.files_done,
        bytes_total=s.bytes_total,
        bytes_done=s.bytes_done,
        rate_bps=s.rate_bps if s.state in ("copying", "verifying") else None,
        eta_s=s.eta_s,
        drift_s=s.drift_s,
        drift_verdict=verdict,
        safe_to_unplug=s.state == "done",
        hand_to_admin=s.state == "done" and s.code == INCOMPLETE_CODE,
        message=s.message,
        code=s.code,
        hint=s.hint,
        message_phrase=Phrase.of(s.message),
        hint_phrase=Phrase.of(s.hint),
    )


def _today(facts: StatusFacts, failures: list[VerifyFailure], now: datetime) -> Today:
    report = facts.report
    if report is not None:
        return Today(
            since=facts.since,
            until=now,
            deadline_report=True,
            sessions=facts.ledger.sessions_today,
            late_offloads=report.late_offloads,
            overdue_recorders=report.overdue_recorders,
            drift_violations=report.drift_violations,
            interruptions=report.interruptions,
            unsealed_sessions=report.unsealed_sessions,
            verify_failures=report.verify_failures,
        )
    return Today(
        since=facts.since,
        until=now,
        deadline_report=False,
        sessions=facts.ledger.sessions_today,
        late_offloads=None,
        overdue_recorders=None,
        drift_violations=facts.ledger.drift_today,
        interruptions=None,
        unsealed_sessions=None,
        verify_failures=[f for f in failures if f.at >= facts.since],
    )


def _store(space: StoreSpace | None, week_bytes: int) -> StoreState | None:
    if space is None:
        return None
    per_day = week_bytes / RATE_WINDOW.days
    return StoreState(
        root=space.root,
        size_bytes=space.size_bytes,
        free_bytes=space.free_bytes,
        ingest_bytes_per_day=per_day,
        days_left=space.free_bytes / per_day if per_day > 0 else None,
    )


def alerts(
    station: StationState, cards: list[SlotCard], central: CentralStatus | None = None
) -> list[Alert]:
    """Station-level trouble, worst first."""
    bad: list[Alert] = []
    warn: list[Alert] = []
    clock = station.clock
    if clock is None:
        warn.append(_alert("warn", "The station clock could not be read."))
    elif not clock.synchronised:
        bad.append(
            _alert("bad", "The station clock is not synchronised: {detail}", detail=clock.detail)
        )
    if station.store is None:
        bad.append(
            _alert(
                "bad",
                "The evidence store cannot be read: {error}",
                error=station.store_error or "",
            )
        )
    elif station.store.days_left is not None and station.store.days_left < LOW_DAYS_WARN:
        days = station.store.days_left
        level: Literal["warn", "bad"] = "bad" if days < LOW_DAYS_BAD else "warn"
        (bad if level == "bad" else warn).append(
            _alert(
                level,
                "The evidence store fills up in about {days} days at the recent ingest rate.",
                days=f"{days:.1f}",
            )
        )
    verify = station.last_verify
    if verify is not None and verify.result == "failed":
        bad.append(
            _alert(
                "bad",
                "The last `dockd verify` found {findings} of {checked} objects missing or "
                "altered: keep everything as it is and examine the store.",
                findings=str(verify.findings),
                checked=str(verify.checked),
            )
        )
    if central is not None and central.late_to_central:
        warn.append(
            _alert(
                "warn",
                "Recordings not confirmed in the central store within {hours} h of their "
                "offload: {count}.",
                hours=f"{central.confirm_within_hours:g}",
                count=str(central.late_to_central),
            )
        )
    for card in cards:
        if card.state == "error":
            values = {"slot": card.slot, "code": card.code or "error", "what": card.message or ""}
            alert = _alert("bad", "Slot {slot}: {code}: {what}", **values)
            phrases = {"what": card.message_phrase} if card.message_phrase else {}
            bad.append(alert.model_copy(update={"text": alert.text.strip(), "phrases": phrases}))
    return bad + warn


def _alert(level: Literal["warn", "bad"], message: str, **values: str) -> Alert:
    """An alert a page can say in its reader's language: `message` is the msgid."""
    return Alert(level=level, text=message.format(**values), message=message, values=values)
