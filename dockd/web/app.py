"""The status pages, `/api/...` and `/metrics`, served by `dockd run` (Starlette on uvicorn).

What anyone at the dock or on its network sees at a glance: which slot holds which
recorder, how far each copy has got, when a recorder is safe to unplug, and what is
late, wrong or failing. Everything is read-only and metadata only: no route opens a
recording, and only GET and HEAD are answered.

Cost to the copy: the live board is read on every request (a lock and a list copy);
what comes from the ledger, the station clock and the custody log is cached here for a
few seconds and shared by every page and scrape, so any number of open pages polling
every 2 s cost the copy threads next to nothing.

Access: bound to a loopback address, no login (and a Host check against DNS
rebinding). Bound to any other address, `[web] token` or `[web] basic_auth` must be
set, else the daemon refuses to start (ConfigError, exit 2).

    python -m dockd.web.app hash-password USER   # prints a [web] basic_auth value
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import math
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import structlog
import uvicorn
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockd import __version__
from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.report import drift_violation
from dockd.adapters.ledger.schema import CustodyEventRow, DockSessionRow
from dockd.core.net import is_loopback, parse_listen
from dockd.core.registry import Custodian
from dockd.core.views import (
    DeadlineReport,
    DriftViolation,
    Interruption,
    LateOffload,
    OverdueRecorder,
    RecordingView,
    Rfc3339,
    SessionView,
    UnsealedSession,
    VerifyFailure,
)
from dockd.daemon.board import SlotState, SlotStatus
from dockd.errors import ConfigError, DockdError
from dockd.services.registry import Registry

if TYPE_CHECKING:
    from dockd.app import App

log = structlog.get_logger("dockd.web")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

POLL_S = 2.0  # what the page's script polls at; `dockd status --watch` refreshes at it too
DOCUMENT_TTL_S = 0.5  # one picture serves every page and scrape asking within this long
REPORT_TTL_S = 60.0  # the deadline report: see StatusSource._report
LEDGER_TTL_S = 10.0  # sessions, deadlines: re-read at most this often (or when a slot changes)
EVENTS_TTL_S = 60.0  # the custody log (last `dockd verify`): a separate process writes it
CLOCK_TTL_S = 30.0  # the station clock: an NTP exchange per server, so not on every poll
RATE_WINDOW = timedelta(days=7)  # "days left" extrapolates the ingest of this window
LOW_DAYS_WARN = 14.0
LOW_DAYS_BAD = 3.0
MIN_TOKEN_CHARS = 16
MIN_PBKDF2_ITERATIONS = 100_000
DEFAULT_PBKDF2_ITERATIONS = 600_000
PBKDF2_SCHEME = "pbkdf2_sha256"
CREDENTIAL_CACHE_S = 600.0
POLL_HEADER = "x-dockd-poll"

DriftVerdict = Literal["ok", "warn", "violation", "unknown"]
SessionState = Literal["running", "completed", "completed_with_problems", "interrupted", "failed"]


# --- the document: /api/status, the page and `dockd status` all show this --------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlotCard(_Doc):
    """One dock slot, as the daemon's board has it now."""

    slot: str
    state: SlotState
    serial: str | None
    profile: str | None
    custodian: str | None = Field(
        description="'Name (badge)' of the officer the registry assigns the recorder to; "
        "null when it is not registered or not assigned."
    )
    unit: str | None = Field(description="The custodian's unit.")
    session: str | None = Field(description="Dock session id, once the copy has started.")
    files_total: int = Field(description="Files to copy in this session (new ones only).")
    files_done: int = Field(description="Files copied and verified so far.")
    bytes_total: int
    bytes_done: int = Field(description="Bytes copied so far.")
    rate_bps: float | None = Field(description="Bytes per second since the copy started.")
    eta_s: float | None = Field(description="Seconds left at that rate, while copying.")
    drift_s: float | None = Field(description="Recorder clock − true time, in seconds.")
    drift_verdict: DriftVerdict | None = Field(
        description="Against the policy pack; null while not judged yet."
    )
    safe_to_unplug: bool = Field(description="The copy is finished, verified and unmounted.")
    message: str | None = Field(description="What went wrong (interrupted, error).")
    code: str | None = Field(description="The error's stable code.")
    hint: str | None = Field(description="What the admin should do about it.")


class SessionLine(_Doc):
    id: str
    serial: str
    profile: str
    slot: str | None
    state: SessionState
    started_at: Rfc3339
    finished_at: Rfc3339 | None
    recordings: int = Field(description="Recordings copied and verified in this session.")
    already_verified: int
    bytes_copied: int
    problems: int
    error_code: str | None
    drift_s: float | None
    drift_verdict: DriftVerdict | None


class Today(_Doc):
    """Since local midnight at the station (overdue recorders and unsealed sessions: as of
    now). A list that is null could not be checked (the deadline report failed), which is not
    the same as an empty list (checked, none found)."""

    since: Rfc3339
    until: Rfc3339
    deadline_report: bool = Field(
        description="The ledger's deadline report was read; false: a partial picture."
    )
    sessions: list[SessionLine] = Field(description="Started today or still running; newest first.")
    late_offloads: list[LateOffload] | None
    overdue_recorders: list[OverdueRecorder] | None
    drift_violations: list[DriftViolation]
    interruptions: list[Interruption] | None
    unsealed_sessions: list[UnsealedSession] | None
    verify_failures: list[VerifyFailure]


class ClockState(_Doc):
    """The station's own clock (NTP convention: true time = station time + offset_s)."""

    synchronised: bool
    offset_s: float | None
    server: str | None
    stratum: int | None
    method: str = Field(description="ntp, chrony, timesyncd or none")
    measured_at: Rfc3339
    detail: str


class StoreState(_Doc):
    root: str
    size_bytes: int
    free_bytes: int = Field(description="Available to dockd (statvfs f_bavail).")
    ingest_bytes_per_day: float = Field(description="Bytes copied in the last 7 days, / 7.")
    days_left: float | None = Field(
        description="free_bytes / ingest_bytes_per_day; null when nothing was copied in 7 days."
    )


class LastVerify(_Doc):
    """The newest `dockd verify` (custody event store-verified)."""

    at: Rfc3339
    checked: int
    ok: int
    findings: int
    result: Literal["ok", "failed"]


class StationState(_Doc):
    host: str
    version: str
    policy: str = Field(description="Active policy pack id.")
    policy_name: str
    started_at: Rfc3339 | None = Field(description="When the daemon started; null: not running.")
    uptime_s: float | None
    utc_offset_s: int = Field(description="The station's UTC offset now; pages show local time.")
    clock: ClockState | None = Field(description="Null when the clock could not be asked.")
    store: StoreState | None = Field(description="Null when the store cannot be read.")
    store_error: str | None
    last_verify: LastVerify | None = Field(description="Null: the store was never verified.")


class Alert(_Doc):
    level: Literal["warn", "bad"]
    text: str


class StatusDocument(_Doc):
    """`GET /api/status` and `dockd status --json`: the whole live picture of the dock."""

    document_version: Literal[1] = 1
    generated_at: Rfc3339
    live: bool = Field(
        description="True: slots come from the running daemon. False: built from the ledger "
        "alone (the daemon is not running or not reachable); slots are unknown."
    )
    summary: str = Field(description="One line, as in systemd's STATUS=.")
    slots: list[SlotCard]
    alerts: list[Alert] = Field(description="Station-level trouble, worst first.")
    today: Today
    station: StationState


class SessionDocument(_Doc):
    """`GET /api/sessions/{id}`: one dock session with its recordings and problems."""

    session: SessionView
    custodian: str | None = Field(description="'Name (badge)' at the start of the session.")
    unit: str | None
    recordings: list[RecordingView]


def status_schema() -> dict[str, Any]:
    return TypeAdapter(StatusDocument).json_schema(mode="serialization")


def session_schema() -> dict[str, Any]:
    return TypeAdapter(SessionDocument).json_schema(mode="serialization")


# --- building it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """All-time counts, for /metrics."""

    recordings: int
    bytes: int
    sessions_by_state: Mapping[str, int]
    verify_failures: int


@dataclass(frozen=True)
class _LedgerPart:
    since: datetime
    sessions_today: list[SessionLine]
    drift_today: list[DriftViolation]  # from the sessions, for when the report fails
    verdicts: dict[str, DriftVerdict]  # finished sessions of the docked recorders
    report: DeadlineReport | None
    week_bytes: int
    recordings: int
    bytes: int
    by_state: dict[str, int]
    custodians: dict[str, Custodian | None]


@dataclass(frozen=True)
class _VerifyPart:
    last: LastVerify | None
    failures: list[VerifyFailure]
    failures_total: int


def custodian_at(duty: Registry, serial: str, at: datetime) -> Custodian | None:
    """Who the registry says was responsible for the recorder at `at` (None: not registered
    or not assigned)."""
    for custodian, since, until in reversed(duty.custodians_at(serial)):
        if since <= at and (until is None or at < until):
            return custodian
    return None


def _who(custodian: Custodian | None) -> str | None:
    return None if custodian is None else f"{custodian.name} ({custodian.badge})"


def local_midnight(now: datetime) -> datetime:
    """Start of the station's local day that contains `now` (aware)."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _judge(drift_s: float | None, warn_s: float, violation_s: float) -> DriftVerdict | None:
    """While copying only the drift number is known, not how it was measured: a lower bound
    can prove a violation but never 'ok', so below the limits there is no verdict yet."""
    if drift_s is None:
        return None
    if abs(drift_s) >= violation_s:
        return "violation"
    if abs(drift_s) >= warn_s:
        return "warn"
    return None


_ENDED = frozenset({"done", "interrupted", "error"})


class StatusSource:
    """Builds StatusDocuments for one App. Thread-safe; shared by the page, the API, /metrics."""

    def __init__(
        self, app: App, *, live: bool = True, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.app = app
        self.live = live
        self.clock = clock
        self._lock = threading.Lock()
        self._ledger_part: _LedgerPart | None = None
        self._ledger_key: tuple[object, ...] = ()
        self._ledger_at = -math.inf
        self._report_part: DeadlineReport | None = None
        self._report_key: tuple[object, ...] = ()
        self._report_at = -math.inf
        self._verify_part: _VerifyPart | None = None
        self._verify_at = -math.inf
        self._clock_part: ClockState | None = None
        self._clock_at = -math.inf
        self._document: tuple[StatusDocument, bytes] | None = None
        self._document_at = -math.inf

    # cached parts -----------------------------------------------------------------------

    def _ledger(self, now: datetime, slots: list[SlotStatus]) -> _LedgerPart:
        since = local_midnight(now)
        key = (since.date(), tuple((s.slot, s.state, s.serial, s.session) for s in slots))
        fresh = time.monotonic() - self._ledger_at < LEDGER_TTL_S
        if self._ledger_part is not None and fresh and key == self._ledger_key:
            return self._ledger_part
        slot_sessions = {s.session for s in slots if s.session}
        facts = self.app.ledger.read(
            lambda db: _ledger_facts(db, since, now - RATE_WINDOW, slot_sessions)
        )
        duty = self.app.registry
        report = self._report(since, now, slots)
        custodians = {s.serial: custodian_at(duty, s.serial, now) for s in slots if s.serial}
        part = _LedgerPart(since=since, report=report, custodians=custodians, **facts)
        self._ledger_part, self._ledger_key, self._ledger_at = part, key, time.monotonic()
        return part

    def _report(
        self, since: datetime, now: datetime, slots: list[SlotStatus]
    ) -> DeadlineReport | None:
        """The day's deadline report: re-read when a dock session ends (its late offloads
        and drift belong on the page) and otherwise at most every REPORT_TTL_S, not on
        every slot change: on a large ledger it is the page's most expensive read, and a
        copy in progress changes nothing in it."""
        ended = frozenset(s.session for s in slots if s.session and s.state in _ENDED)
        key = (since.date(), ended)
        fresh = time.monotonic() - self._report_at < REPORT_TTL_S
        if self._report_at > -math.inf and fresh and key == self._report_key:
            return self._report_part
        report: DeadlineReport | None = None
        try:
            report = self.app.reports.deadlines_between(since, now)
        except DockdError as exc:  # the rest of the picture is still worth showing
            log.warning("deadline-report-failed", code=exc.code, message=exc.message)
        self._report_part, self._report_key, self._report_at = report, key, time.monotonic()
        return report

    def _verifies(self) -> _VerifyPart:
        if self._verify_part is not None and time.monotonic() - self._verify_at < EVENTS_TTL_S:
            return self._verify_part
        last: LastVerify | None = None
        failures: list[VerifyFailure] = []
        for stamp, details in self.app.ledger.read(_verify_events):
            at = datetime.fromisoformat(stamp)
            found = list(details.get("findings") or [])
            checked = int(details.get("checked", 0))
            last = LastVerify(
                at=at,
                checked=checked,
                ok=int(details.get("ok", checked - len(found))),
                findings=len(found),
                result="failed" if found else "ok",
            )
            failures.extend(
                VerifyFailure(
                    at=at, object=str(f.get("object", "?")), problem=str(f.get("problem", "?"))
                )
                for f in found
            )
        part = _VerifyPart(last=last, failures=failures, failures_total=len(failures))
        self._verify_part, self._verify_at = part, time.monotonic()
        return part

    def _station_clock(self) -> ClockState | None:
        if time.monotonic() - self._clock_at < CLOCK_TTL_S:
            return self._clock_part
        try:
            c = self.app.station_clock.measure()
            state: ClockState | None = ClockState(
                synchronised=c.synchronised,
                offset_s=c.offset_s,
                server=c.server,
                stratum=c.stratum,
                method=c.method,
                measured_at=c.measured_at,
                detail=c.detail,
            )
        except Exception as exc:  # the page must still show the rest
            log.warning("station-clock-unreadable", error=f"{type(exc).__name__}: {exc}")
            state = None
        self._clock_part, self._clock_at = state, time.monotonic()
        return state

    # the document -------------------------------------------------------------------------

    def document(self) -> StatusDocument:
        """The picture now; shared for DOCUMENT_TTL_S, so that the cost of the pages does not
        grow with the number of people looking at them."""
        return self._shared()[0]

    def document_json(self) -> bytes:
        """The picture as /api/status sends it, serialised once per picture: serialising
        holds the GIL for milliseconds, and each of them stalls the copy threads."""
        return self._shared()[1]

    def _shared(self) -> tuple[StatusDocument, bytes]:
        with self._lock:
            cached = self._document
            if cached is not None and time.monotonic() - self._document_at < DOCUMENT_TTL_S:
                return cached
            document = self._build()
            shared = (document, document.model_dump_json().encode())
            self._document, self._document_at = shared, time.monotonic()
            return shared

    def _build(self) -> StatusDocument:
        now = self.clock()
        board = self.app.board
        slots = board.snapshot() if self.live else []
        part = self._ledger(now, slots)
        verifies = self._verifies()
        clock = self._station_clock()
        policy = self.app.policy.clock
        cards = [self._card(s, part, policy.drift_warn_s, policy.drift_violation_s) for s in slots]
        today = self._today(part, verifies, now)
        store, store_error = self._store(part)
        offset = now.astimezone().utcoffset() or timedelta(0)
        started = datetime.fromtimestamp(board.started, UTC) if self.live else None
        station = StationState(
            host=self.app.station.host,
            version=__version__,
            policy=self.app.policy.id,
            policy_name=self.app.policy.name,
            started_at=started,
            uptime_s=(now - started).total_seconds() if started else None,
            utc_offset_s=int(offset.total_seconds()),
            clock=clock,
            store=store,
            store_error=store_error,
            last_verify=verifies.last,
        )
        return StatusDocument(
            generated_at=now,
            live=self.live,
            summary=board.summary() if self.live else "daemon not running",
            slots=cards,
            alerts=_alerts(station, cards),
            today=today,
            station=station,
        )

    def totals(self) -> Totals:
        with self._lock:
            now = self.clock()
            part = self._ledger(now, self.app.board.snapshot() if self.live else [])
            verifies = self._verifies()
        return Totals(part.recordings, part.bytes, part.by_state, verifies.failures_total)

    def session(self, session_id: str) -> SessionDocument | None:
        view = self.app.ledger.session(session_id)
        if view is None:
            return None
        recordings = self.app.ledger.recordings(session_id)
        custodian = custodian_at(self.app.registry, view.serial, view.started_at)
        return SessionDocument(
            session=view,
            custodian=_who(custodian),
            unit=custodian.unit if custodian else None,
            recordings=recordings,
        )

    def _card(
        self, s: SlotStatus, part: _LedgerPart, warn_s: float, violation_s: float
    ) -> SlotCard:
        verdict = _judge(s.drift_s, warn_s, violation_s)
        custodian = part.custodians.get(s.serial) if s.serial else None
        if s.session in part.verdicts:
            verdict = part.verdicts[s.session]
        return SlotCard(
            slot=s.slot,
            state=s.state,
            serial=s.serial,
            profile=s.profile,
            custodian=_who(custodian),
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
            message=s.message,
            code=s.code,
            hint=s.hint,
        )

    def _today(self, part: _LedgerPart, verifies: _VerifyPart, now: datetime) -> Today:
        lines = part.sessions_today
        report = part.report
        if report is not None:
            return Today(
                since=part.since,
                until=now,
                deadline_report=True,
                sessions=lines,
                late_offloads=report.late_offloads,
                overdue_recorders=report.overdue_recorders,
                drift_violations=report.drift_violations,
                interruptions=report.interruptions,
                unsealed_sessions=report.unsealed_sessions,
                verify_failures=report.verify_failures,
            )
        return Today(
            since=part.since,
            until=now,
            deadline_report=False,
            sessions=lines,
            late_offloads=None,
            overdue_recorders=None,
            drift_violations=part.drift_today,
            interruptions=None,
            unsealed_sessions=None,
            verify_failures=[f for f in verifies.failures if f.at >= part.since],
        )

    def _store(self, part: _LedgerPart) -> tuple[StoreState | None, str | None]:
        root = self.app.store.root
        try:
            st = os.statvfs(root)
        except OSError as exc:
            return None, f"cannot read {root}: {exc.strerror or exc}"
        free = st.f_bavail * st.f_frsize
        per_day = part.week_bytes / RATE_WINDOW.days
        return (
            StoreState(
                root=str(root),
                size_bytes=st.f_blocks * st.f_frsize,
                free_bytes=free,
                ingest_bytes_per_day=per_day,
                days_left=free / per_day if per_day > 0 else None,
            ),
            None,
        )


# Ledger reads, through Ledger.read (which turns SQLAlchemy errors into LedgerError): indexed
# queries whose cost does not grow with the years of recordings behind them.


def _ledger_facts(
    db: Session, since: datetime, week: datetime, slot_sessions: set[str]
) -> dict[str, Any]:
    today = db.scalars(
        select(DockSessionRow)
        .options(selectinload(DockSessionRow.problems))
        .where(or_(DockSessionRow.started_at >= since, DockSessionRow.state == "running"))
        .order_by(DockSessionRow.started_at.desc(), DockSessionRow.id)
    ).all()
    week_bytes = db.scalar(
        select(func.coalesce(func.sum(DockSessionRow.bytes_copied), 0)).where(
            DockSessionRow.started_at >= week
        )
    )
    by_state: dict[str, int] = {}
    recordings = nbytes = 0
    for state, count, copied, copied_bytes in db.execute(
        select(
            DockSessionRow.state,
            func.count(),
            func.coalesce(func.sum(DockSessionRow.copied), 0),
            func.coalesce(func.sum(DockSessionRow.bytes_copied), 0),
        ).group_by(DockSessionRow.state)
    ):
        by_state[state] = int(count)
        recordings += int(copied)
        nbytes += int(copied_bytes)
    verdicts = {
        sid: verdict
        for sid, verdict in db.execute(
            select(DockSessionRow.id, DockSessionRow.drift_verdict).where(
                DockSessionRow.id.in_(slot_sessions),
                DockSessionRow.state != "running",
                DockSessionRow.drift_verdict.is_not(None),
            )
        )
    }
    return {
        "sessions_today": [_session_line(row) for row in today],
        "drift_today": [
            drift_violation(row)
            for row in today
            if row.drift_verdict in ("warn", "violation") and row.started_at >= since
        ],
        "verdicts": verdicts,
        "week_bytes": int(week_bytes or 0),
        "recordings": recordings,
        "bytes": nbytes,
        "by_state": by_state,
    }


def _session_line(row: DockSessionRow) -> SessionLine:
    return SessionLine(
        id=row.id,
        serial=row.serial,
        profile=row.profile,
        slot=row.slot,
        state=row.state,
        started_at=row.started_at,
        finished_at=row.finished_at,
        recordings=row.copied,
        already_verified=row.already_verified,
        bytes_copied=row.bytes_copied,
        problems=len(row.problems),
        error_code=row.error_code,
        drift_s=row.recorder_drift_s,
        drift_verdict=row.drift_verdict,
    )


def _verify_events(db: Session) -> list[tuple[str, dict[str, Any]]]:
    """Every `dockd verify` (custody events store-verified), oldest first."""
    rows = db.execute(
        select(CustodyEventRow.at, CustodyEventRow.details)
        .where(CustodyEventRow.kind == "store-verified")
        .order_by(CustodyEventRow.seq)
    )
    return [(at, json.loads(details)) for at, details in rows]


def _alerts(station: StationState, cards: list[SlotCard]) -> list[Alert]:
    bad: list[str] = []
    warn: list[str] = []
    clock = station.clock
    if clock is None:
        warn.append("The station clock could not be read.")
    elif not clock.synchronised:
        bad.append(f"The station clock is not synchronised: {clock.detail}")
    if station.store is None:
        bad.append(f"The evidence store cannot be read: {station.store_error}")
    elif station.store.days_left is not None and station.store.days_left < LOW_DAYS_WARN:
        days = station.store.days_left
        text = f"The evidence store fills up in about {days:.1f} days at the recent ingest rate."
        (bad if days < LOW_DAYS_BAD else warn).append(text)
    verify = station.last_verify
    if verify is not None and verify.result == "failed":
        bad.append(
            f"The last `dockd verify` found {verify.findings} of {verify.checked} objects "
            "missing or altered: keep everything as it is and examine the store."
        )
    for card in cards:
        if card.state == "error":
            bad.append(f"Slot {card.slot}: {card.code or 'error'}: {card.message or ''}".strip())
    return [Alert(level="bad", text=t) for t in bad] + [Alert(level="warn", text=t) for t in warn]


# --- /metrics ---------------------------------------------------------------------------------

SLOT_STATES: tuple[SlotState, ...] = (
    "empty",
    "mounting",
    "copying",
    "verifying",
    "done",
    "interrupted",
    "error",
)
VIOLATION_KINDS = (
    "late_offloads",
    "overdue_recorders",
    "drift_violations",
    "interruptions",
    "unsealed_sessions",
    "verify_failures",
)


class DockdCollector(Collector):
    """Prometheus metrics computed from the App at scrape time (no global registry)."""

    def __init__(self, source: StatusSource) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        doc = self.source.document()
        totals = self.source.totals()
        station = doc.station

        info = GaugeMetricFamily(
            "dockd_info", "dockd on this station", labels=["version", "host", "policy"]
        )
        info.add_metric([station.version, station.host, station.policy], 1)
        yield info
        if station.started_at is not None:
            yield GaugeMetricFamily(
                "dockd_start_time_seconds",
                "When the daemon started (Unix time)",
                value=station.started_at.timestamp(),
            )

        yield CounterMetricFamily(
            "dockd_ingested_bytes", "Bytes copied and verified into the store", totals.bytes
        )
        yield CounterMetricFamily(
            "dockd_ingested_recordings",
            "Recordings copied and verified into the store",
            totals.recordings,
        )
        sessions = CounterMetricFamily(
            "dockd_sessions", "Finished dock sessions by final state", labels=["state"]
        )
        for state in ("completed", "completed_with_problems", "interrupted", "failed"):
            sessions.add_metric([state], totals.sessions_by_state.get(state, 0))
        yield sessions
        yield GaugeMetricFamily(
            "dockd_sessions_running",
            "Dock sessions in progress",
            value=totals.sessions_by_state.get("running", 0),
        )

        yield CounterMetricFamily(
            "dockd_verify_failures",
            "Objects `dockd verify` found missing, corrupt or of the wrong size (all runs)",
            totals.verify_failures,
        )
        if station.last_verify is not None:
            yield GaugeMetricFamily(
                "dockd_last_verify_timestamp_seconds",
                "When `dockd verify` last ran (Unix time)",
                value=station.last_verify.at.timestamp(),
            )
            yield GaugeMetricFamily(
                "dockd_last_verify_findings",
                "Objects the last `dockd verify` found missing or altered",
                value=station.last_verify.findings,
            )

        slot_state = GaugeMetricFamily(
            "dockd_slot_state", "1 for the state each slot is in", labels=["slot", "state"]
        )
        done = GaugeMetricFamily(
            "dockd_slot_bytes_done", "Bytes copied in the slot's session", labels=["slot"]
        )
        total = GaugeMetricFamily(
            "dockd_slot_bytes_total", "Bytes to copy in the slot's session", labels=["slot"]
        )
        for card in doc.slots:
            for state in SLOT_STATES:
                slot_state.add_metric([card.slot, state], 1 if card.state == state else 0)
            done.add_metric([card.slot], card.bytes_done)
            total.add_metric([card.slot], card.bytes_total)
        yield slot_state
        yield done
        yield total

        clock = station.clock
        if clock is not None:
            yield GaugeMetricFamily(
                "dockd_station_clock_synchronised",
                "1 when the station clock is synchronised to true time",
                value=1 if clock.synchronised else 0,
            )
            if clock.offset_s is not None:
                yield GaugeMetricFamily(
                    "dockd_station_clock_offset_seconds",
                    "True time minus station time (NTP convention)",
                    value=clock.offset_s,
                )

        store = station.store
        if store is not None:
            yield GaugeMetricFamily(
                "dockd_store_free_bytes", "Free bytes in the evidence store", value=store.free_bytes
            )
            yield GaugeMetricFamily(
                "dockd_store_size_bytes", "Size of the store's filesystem", value=store.size_bytes
            )
            yield GaugeMetricFamily(
                "dockd_store_ingest_bytes_per_day",
                "Bytes copied per day, averaged over the last 7 days",
                value=store.ingest_bytes_per_day,
            )

        violations = GaugeMetricFamily(
            "dockd_violations",
            "Findings today (since the station's local midnight) by kind; "
            "absent when the deadline report could not be read",
            labels=["kind"],
        )
        for kind in VIOLATION_KINDS:
            found: list[Any] | None = getattr(doc.today, kind)
            if found is not None:
                violations.add_metric([kind], len(found))
        yield violations


def render_metrics(source: StatusSource) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DockdCollector(source))
    return generate_latest(registry)


# --- access -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordHash:
    iterations: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        """`pbkdf2_sha256$iterations$salt_hex$hash_hex`; ValueError says what is wrong."""
        parts = text.split("$")
        if len(parts) != 4 or parts[0] != PBKDF2_SCHEME:
            raise ValueError(f"expected {PBKDF2_SCHEME}$iterations$salt_hex$hash_hex")
        if not parts[1].isdigit():
            raise ValueError("the iteration count is not a number")
        iterations = int(parts[1])
        if iterations < MIN_PBKDF2_ITERATIONS:
            raise ValueError(f"{iterations} iterations is too few (at least 100000)")
        try:
            salt, digest = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
        except ValueError:
            raise ValueError("the salt and the hash must be hexadecimal") from None
        if len(salt) < 8:
            raise ValueError("the salt must be at least 8 bytes (16 hex digits)")
        if len(digest) != 32:
            raise ValueError("the hash must be 32 bytes (64 hex digits) of PBKDF2-HMAC-SHA256")
        return cls(iterations, salt, digest)

    def matches(self, password: str) -> bool:
        found = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt, self.iterations)
        return hmac.compare_digest(found, self.digest)


def hash_password(
    password: str, iterations: int = DEFAULT_PBKDF2_ITERATIONS, salt: bytes | None = None
) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{PBKDF2_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


@dataclass(frozen=True)
class Access:
    """Who may read the pages: anyone (loopback) or whoever shows the configured credentials."""

    listen: str
    host: str
    port: int
    loopback: bool
    token: str | None = None
    user: str | None = None
    password: PasswordHash | None = None

    @property
    def login(self) -> str:
        if self.loopback:
            return "none (loopback)"
        return " or ".join(
            what
            for what, on in (("token", self.token), ("basic auth", self.password))
            if on is not None
        )


def configured_token(web: object) -> str | None:
    """`[web] token`, a plain string or a pydantic SecretStr; None when unset or empty."""
    token = getattr(web, "token", None)
    if token is not None and hasattr(token, "get_secret_value"):
        token = token.get_secret_value()
    return str(token) if token else None


def access_for(web: object) -> Access:
    """Read `[web]` (listen, and the optional token / basic_auth); ConfigError saying why when
    the pages would be open to the network without credentials, or the credentials are bad."""
    listen = str(getattr(web, "listen", "127.0.0.1:8470"))
    token = configured_token(web)
    basic: str | None = getattr(web, "basic_auth", None) or None
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError(f"[web] listen = {listen!r}: {exc}") from exc
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"[web] token is {len(token)} characters long; it must be at least "
            f"{MIN_TOKEN_CHARS} so that it cannot be guessed",
            hint="Generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    user: str | None = None
    password: PasswordHash | None = None
    if basic is not None:
        user, sep, hashed = basic.partition(":")
        if not sep or not user:
            raise ConfigError(
                "[web] basic_auth must be 'user:pbkdf2_sha256$iterations$salt_hex$hash_hex'",
                hint="Make one with: python -m dockd.web.app hash-password USER",
            )
        try:
            password = PasswordHash.parse(hashed)
        except ValueError as exc:
            raise ConfigError(
                f"[web] basic_auth for user {user!r}: {exc}",
                hint="Make one with: python -m dockd.web.app hash-password USER",
            ) from exc
    loopback = is_loopback(host)
    if not loopback and token is None and password is None:
        raise ConfigError(
            f"[web] listen = {listen!r} is not a loopback address and [web] sets neither "
            "token nor basic_auth: the status pages would be open to the whole network",
            hint="Set [web] token (or basic_auth = 'user:pbkdf2_sha256$...', made with "
            "`python -m dockd.web.app hash-password USER`), or listen on 127.0.0.1.",
        )
    return Access(listen, host, port, loopback, token, user, password)


class Credentials:
    """Checks an Authorization header against the Access. Successful basic-auth checks are
    remembered for a while (keyed by an HMAC under a per-process key, never the password)
    so that a page polling every 2 s does not cost a PBKDF2 each time."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._key = secrets.token_bytes(32)
        self._good: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def check(self, authorization: str | None) -> str | None:
        """The user name (or 'token') when the header holds good credentials, else None."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        token = self.access.token
        if scheme.lower() == "bearer":
            if token is not None and hmac.compare_digest(value.encode(), token.encode()):
                return "token"
            return None
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        if token is not None and hmac.compare_digest(password.encode(), token.encode()):
            return user or "token"
        if self.access.password is None or self.access.user is None:
            return None
        if not hmac.compare_digest(user.encode(), self.access.user.encode()):
            return None
        key = hmac.new(self._key, decoded.encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if self._good.get(key, 0.0) > now:
                return user
        if not self.access.password.matches(password):
            return None
        with self._lock:
            self._good = {k: t for k, t in self._good.items() if t > now}
            self._good[key] = now + CREDENTIAL_CACHE_S
        return user

    @staticmethod
    def presented(authorization: str | None) -> str | None:
        """The user name a request tried, for the log (never the secret)."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                return "(undecodable)"
        return f"({scheme.lower()})"


def _host_of(header: str) -> str:
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def _local_host_header(header: str) -> bool:
    """A page bound to loopback is only for this machine: a foreign Host is a DNS-rebinding
    attempt (a web page that made its own name point at 127.0.0.1)."""
    return is_loopback(_host_of(header))


SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
)


class Guard:
    """ASGI middleware: read-only methods, Host check (loopback), login (elsewhere), security
    headers, and one `http-request` log event per request (`login-failed` for bad logins).
    The page's own 2 s polls are logged at debug level so they do not flood the journal."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access
        self.credentials = Credentials(access)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        method: str = scope["method"]
        path: str = scope["path"]
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else None
        status = 500
        user: str | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in out:
                        out[name] = value
            await send(message)

        try:
            refusal: Response | None = None
            if self.access.loopback and not _local_host_header(headers.get("host", "")):
                refusal = PlainTextResponse("This page is only served to this machine.", 421)
            elif method not in ("GET", "HEAD"):
                refusal = PlainTextResponse(
                    "The status pages are read-only.", 405, headers={"Allow": "GET, HEAD"}
                )
            elif not self.access.loopback:
                authorization = headers.get("authorization")
                user = await run_in_threadpool(self.credentials.check, authorization)
                if user is None:
                    if authorization:
                        log.warning(
                            "login-failed",
                            client=peer,
                            user=Credentials.presented(authorization),
                            path=path,
                        )
                    refusal = PlainTextResponse(
                        "Log in to see the dock's status.",
                        401,
                        headers={"WWW-Authenticate": 'Basic realm="dockd", charset="UTF-8"'},
                    )
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            poll = headers.get(POLL_HEADER) is not None and status == 200
            (log.debug if poll else log.info)(
                "http-request",
                method=method,
                path=path,
                status=status,
                client=peer,
                user=user,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


# --- the pages --------------------------------------------------------------------------------

STATE_LABELS: dict[str, str] = {
    "empty": "Empty",
    "mounting": "Mounting",
    "copying": "Copying",
    "verifying": "Verifying",
    "done": "Done",
    "interrupted": "Interrupted",
    "error": "Error",
}
SESSION_LABELS: dict[str, str] = {
    "running": "Running",
    "completed": "Completed",
    "completed_with_problems": "Completed with problems",
    "interrupted": "Interrupted",
    "failed": "Failed",
}
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def fmt_bytes(n: float | None) -> str:
    """Binary units, as `df -h` counts: 1.5 GiB, 312 MiB. The page's script mirrors these."""
    if n is None:
        return "—"
    value, unit = float(n), 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    return f"{value:.1f} {UNITS[unit]}" if abs(value) < 100 else f"{value:.0f} {UNITS[unit]}"


def fmt_rate(bps: float | None) -> str:
    return "—" if bps is None else fmt_bytes(bps) + "/s"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def fmt_drift(drift_s: float | None) -> str:
    if drift_s is None:
        return "unknown"
    if abs(drift_s) < 60:
        return f"{drift_s:+.1f} s"
    return ("+" if drift_s > 0 else "-") + fmt_duration(abs(drift_s))


def fmt_offset(offset_s: float | None) -> str:
    if offset_s is None:
        return "unknown"
    if abs(offset_s) < 0.01:
        return f"{offset_s * 1000:+.2f} ms"
    if abs(offset_s) < 1:
        return f"{offset_s * 1000:+.1f} ms"
    return f"{offset_s:+.3f} s"


def fmt_count(n: int) -> str:
    return f"{n:,}"


def fmt_pct(done: float, total: float) -> str:
    return "100%" if total <= 0 else f"{min(100.0, 100.0 * done / total):.0f}%"


def fmt_time(value: datetime | None) -> str:
    """Station-local time of day."""
    return "—" if value is None else value.astimezone().strftime("%H:%M:%S")


def fmt_datetime(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


def fmt_stamp(value: datetime | None) -> str:
    """Station-local date and time with its UTC offset, to the second (session details)."""
    return "—" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def fmt_day(value: datetime) -> str:
    return value.astimezone().strftime("%a %d %b %Y")


def fmt_days_left(days: float | None) -> str:
    """How long the store lasts, as the page says it: 'About 12 days left'."""
    if days is None:
        return "—"
    if days > 2 * 365:
        return "More than 2 years left"
    return f"About {days:.1f} days left" if days < 10 else f"About {days:,.0f} days left"


@dataclass(frozen=True)
class LateGroup:
    """The late offloads of one recorder: a docked recorder is often late with every clip."""

    serial: str
    count: int
    worst_s: float
    first: LateOffload
    custodian: str | None


def group_late(items: list[LateOffload]) -> list[LateGroup]:
    groups: dict[str, list[LateOffload]] = {}
    for item in items:
        groups.setdefault(item.serial, []).append(item)
    return [
        LateGroup(
            serial=serial,
            count=len(late),
            worst_s=max(x.late_by_s for x in late),
            first=late[0],
            custodian=next((x.custodian for x in late if x.custodian), None),
        )
        for serial, late in groups.items()
    ]


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        bytes=fmt_bytes,
        rate=fmt_rate,
        duration=fmt_duration,
        drift=fmt_drift,
        offset=fmt_offset,
        count=fmt_count,
        time=fmt_time,
        datetime=fmt_datetime,
        stamp=fmt_stamp,
        day=fmt_day,
        days_left=fmt_days_left,
    )
    env.globals.update(
        pct=fmt_pct,
        group_late=group_late,
        STATE_LABELS=STATE_LABELS,
        SESSION_LABELS=SESSION_LABELS,
        version=__version__,
        asset_version=_asset_version(),
        poll_ms=int(POLL_S * 1000),
    )
    return env


def build_asgi(source: StatusSource, access: Access) -> ASGIApp:
    """The Starlette app behind the Guard. Handlers are sync: Starlette runs them on its
    thread pool, so ledger reads never block the event loop."""
    env = _environment()
    host = source.app.station.host

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(host=host, **context)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})

    def json_response(model: BaseModel | dict[str, Any], status: int = 200) -> Response:
        body = model.model_dump_json() if isinstance(model, BaseModel) else json.dumps(model)
        return Response(
            body, status, media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    def index(request: Request) -> Response:
        return page("index.html", doc=source.document())

    def session_page(request: Request) -> Response:
        session_id = str(request.path_params["session_id"])
        detail = source.session(session_id)
        if detail is None:
            return page("missing.html", 404, session_id=session_id)
        return page(
            "session.html",
            s=detail.session,
            custodian=detail.custodian,
            unit=detail.unit,
            recordings=detail.recordings,
        )

    def api_status(request: Request) -> Response:
        return Response(
            source.document_json(),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    def api_session(request: Request) -> Response:
        session_id = str(request.path_params["session_id"])
        detail = source.session(session_id)
        if detail is None:
            return json_response({"error": f"no dock session {session_id} in the ledger"}, 404)
        return json_response(detail)

    def api_schema(request: Request) -> Response:
        return json_response({"status": status_schema(), "session": session_schema()})

    def metrics(request: Request) -> Response:
        return Response(render_metrics(source), media_type=CONTENT_TYPE_LATEST)

    def unavailable(request: Request, exc: Exception) -> Response:
        """The ledger (or the store) failed under a request: say so; the dock goes on."""
        code = getattr(exc, "code", "INTERNAL_ERROR")
        message = getattr(exc, "message", str(exc))
        log.error("web-problem", path=request.url.path, code=code, message=message)
        return PlainTextResponse(
            f"dockd cannot show this right now: {code}: {message}",
            503,
            headers={"Cache-Control": "no-store", "Retry-After": "5"},
        )

    routes = [
        Route("/", index),
        Route("/sessions/{session_id}", session_page),
        Route("/api/status", api_status),
        Route("/api/sessions/{session_id}", api_session),
        Route("/api/schema", api_schema),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Guard(Starlette(routes=routes, exception_handlers={DockdError: unavailable}), access)


# --- the server -------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    """Bind here, not in uvicorn, so that a taken port is an OSError for the caller (and port
    0 gives its real number at once)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class WebServer:
    """The status pages in a daemon thread of `dockd run`.

    The constructor checks access (ConfigError: the daemon must refuse to start). `start()`
    never stops the dock: when the port cannot be had it logs `web-unavailable` and returns
    False, and recorders are still copied. `stop()` after the slots have finished."""

    def __init__(self, app: App, source: StatusSource | None = None) -> None:
        self.access = access_for(app.config.web)
        self.source = source or StatusSource(app)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.access.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/"

    def start(self, timeout: float = 10.0) -> bool:
        try:
            sock = _bind(self.access.host, self.access.port)
        except OSError as exc:
            log.error(
                "web-unavailable",
                listen=self.access.listen,
                message=f"cannot listen on {self.access.listen}: {exc.strerror or exc}",
                hint="Another program has the port, or the address is not on this machine: "
                "change [web] listen. Recorders are still copied.",
            )
            return False
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            build_asgi(self.source, self.access),
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            proxy_headers=False,
            server_header=False,
            limit_concurrency=64,
            timeout_graceful_shutdown=3,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dockd-web", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            log.error("web-unavailable", listen=self.access.listen, message="did not start")
            self.stop()
            return False
        log.info("web-listening", url=self.url, login=self.access.login)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


# --- python -m dockd.web.app hash-password USER ----------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "hash-password" or ":" in argv[1] or not argv[1]:
        sys.stderr.write("usage: python -m dockd.web.app hash-password USER\n")
        return 2
    first = getpass.getpass(f"password for {argv[1]}: ")
    if len(first) < 12:
        sys.stderr.write("use at least 12 characters\n")
        return 2
    if getpass.getpass("again: ") != first:
        sys.stderr.write("the two passwords differ\n")
        return 2
    print(f'basic_auth = "{argv[1]}:{hash_password(first)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
