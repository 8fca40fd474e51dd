"""The ledger's side of the nightly deadline report: a handful of indexed queries, so
that it stays fast on years of recordings, and the custody event of each report issued
(the bookmark where the next one starts)."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from dockd.adapters.ledger import activities, supervision_report
from dockd.adapters.ledger.exports import export_view
from dockd.adapters.ledger.mapping import drift_violation
from dockd.adapters.ledger.schema import (
    AssignmentRow,
    AttestationRow,
    CustodyEventRow,
    DockSessionRow,
    ExportRow,
    RecorderRow,
    RecordingRow,
    SessionProblemRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.completeness import INCOMPLETE_CODES
from dockd.core.deadlines import overdue_by
from dockd.core.policy import PolicyPack
from dockd.core.said import Said
from dockd.core.views import (
    DeadlineReport,
    DriftViolation,
    ExportView,
    IncompleteOffload,
    LateOffload,
    OverdueRecorder,
    UnsealedSession,
    VerifyFailure,
)


class LedgerReport:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def chain_head(self) -> tuple[int, str]:
        return self.ledger.chain_head()

    def last_report_until(self) -> datetime | None:
        """Where the last e-mailed report ended: the next one starts there, so a dock
        that was off at 02:00 (the timer is Persistent) never skips hours."""

        def load(s: Session) -> datetime | None:
            row = s.scalars(
                select(CustodyEventRow)
                .where(
                    CustodyEventRow.station == self.ledger.station,
                    CustodyEventRow.kind == "report-issued",
                )
                .order_by(CustodyEventRow.seq.desc())
                .limit(1)
            ).first()
            return None if row is None else datetime.fromisoformat(json.loads(row.details)["until"])

        return self.ledger.read(load)

    def report_issued(
        self, report: DeadlineReport, delivery: str, recipients: str, at: datetime, by: str
    ) -> None:
        """A report handed to the relay (or kept in the outbox to be re-sent) is evidence
        that supervisors were told, and the bookmark of the next report's period."""
        with self.ledger.transaction() as s:
            self.ledger.append_custody(
                s,
                at,
                "report-issued",
                report.pack,
                {
                    "since": report.since.isoformat(),
                    "until": report.until.isoformat(),
                    "delivery": delivery,
                    "to": recipients,
                    "counts": report.counts(),
                },
                actor=by,
            )

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime, agency: bool
    ) -> DeadlineReport:
        """`agency`: every station's sessions, offloads and verify runs; otherwise this
        station's (and the unnamed 'local' ones). Recorders, custodians, interruptions and
        supervision are the agency's in either scope: a recorder docks anywhere."""
        mine = None if agency else self.ledger.stations()

        def load(s: Session) -> DeadlineReport:
            who = CustodyIndex(s)
            two_person = pack.offload.two_person_seal
            return DeadlineReport(
                pack=pack.id,
                since=since,
                until=until,
                station=None if agency else self.ledger.station,
                late_offloads=_late(s, since, until, who, mine),
                overdue_recorders=_overdue(s, pack, now),
                drift_violations=_drift(s, since, until, who, mine),
                interruptions=supervision_report.interruptions(s, since, until, who.of),
                unsealed_sessions=_unsealed(s, until, who, mine) if two_person else [],
                verify_failures=_verify_failures(s, since, until, mine),
                incomplete_offloads=_incomplete(s, since, until, who, mine),
                exports=_exports(s, since, until),
                **supervision_report.sections(s, since, until, pack, now, who.of),
                unrecorded_activities=activities.unrecorded_activities(s, since, until, pack),
            )

        return self.ledger.read(load)


def _of(
    column: InstrumentedAttribute[str], stations: Collection[str] | None
) -> ColumnElement[bool]:
    """The rows of these stations (None: of every station)."""
    return true() if stations is None else column.in_(list(stations))


def _late(
    s: Session, since: datetime, until: datetime, who: CustodyIndex, mine: Collection[str] | None
) -> list[LateOffload]:
    rows = s.execute(
        select(RecordingRow, DockSessionRow.station)
        .join(DockSessionRow, DockSessionRow.id == RecordingRow.session_id)
        .where(
            RecordingRow.late.is_(True),
            RecordingRow.verified_at >= since,
            RecordingRow.verified_at < until,
            _of(DockSessionRow.station, mine),
        )
        .order_by(RecordingRow.verified_at)
    )
    return [
        LateOffload(
            recording=r.id,
            serial=r.serial,
            path=r.path,
            end=r.corrected_end or r.end,
            deadline=r.deadline,
            offloaded_at=r.verified_at,
            late_by_s=r.late_by_s or 0.0,
            station=station,
            **who.of(r.serial, r.end),
        )
        for r, station in rows
        if r.deadline is not None
    ]


def _overdue(s: Session, pack: PolicyPack, now: datetime) -> list[OverdueRecorder]:
    # a recorder's last_seen is the start of its newest dock session
    last_dock = dict(s.execute(select(RecorderRow.serial, RecorderRow.last_seen)).all())
    overdue = []
    for a in s.scalars(select(AssignmentRow).where(AssignmentRow.until.is_(None))):
        late_by = overdue_by(last_dock.get(a.serial), a.since, now, pack.offload.deadline_hours)
        if late_by is not None:
            overdue.append(
                OverdueRecorder(
                    serial=a.serial,
                    last_docked=last_dock.get(a.serial),
                    overdue_by_s=late_by,
                    unit=a.unit,
                    custodian=f"{a.name} ({a.badge})",
                )
            )
    return overdue


def _drift(
    s: Session, since: datetime, until: datetime, who: CustodyIndex, mine: Collection[str] | None
) -> list[DriftViolation]:
    rows = s.scalars(
        select(DockSessionRow).where(
            DockSessionRow.drift_verdict.in_(("warn", "violation")),
            DockSessionRow.started_at >= since,
            DockSessionRow.started_at < until,
            _of(DockSessionRow.station, mine),
        )
    )
    return [drift_violation(d, **who.of(d.serial, d.started_at)) for d in rows]


def _unsealed(
    s: Session, until: datetime, who: CustodyIndex, mine: Collection[str] | None
) -> list[UnsealedSession]:
    open_docks = s.scalars(
        select(DockSessionRow)
        .where(
            DockSessionRow.sealed_at.is_(None),
            DockSessionRow.state != "running",
            DockSessionRow.started_at < until,
            _of(DockSessionRow.station, mine),
        )
        .order_by(DockSessionRow.started_at, DockSessionRow.id)
    ).all()
    operators = _attestations(s, [d.id for d in open_docks])
    return [
        UnsealedSession(
            session=d.id,
            serial=d.serial,
            finished_at=d.finished_at,
            attestations=sorted(operators.get(d.id, [])),
            **who.of(d.serial, d.started_at),
        )
        for d in open_docks
    ]


def _incomplete(
    s: Session, since: datetime, until: datetime, who: CustodyIndex, mine: Collection[str] | None
) -> list[IncompleteOffload]:
    """What the completeness checks found, by dock session; the custodian is whoever had
    the recorder when it was docked (the last to hold it before the loss was seen)."""
    rows = s.execute(
        select(
            DockSessionRow.id,
            DockSessionRow.serial,
            DockSessionRow.started_at,
            SessionProblemRow.code,
            SessionProblemRow.path,
            SessionProblemRow.message,
            SessionProblemRow.message_template,
            SessionProblemRow.message_values,
        )
        .join(SessionProblemRow, SessionProblemRow.session_id == DockSessionRow.id)
        .where(
            SessionProblemRow.code.in_(sorted(INCOMPLETE_CODES)),
            DockSessionRow.started_at >= since,
            DockSessionRow.started_at < until,
            _of(DockSessionRow.station, mine),
        )
        .order_by(DockSessionRow.started_at, SessionProblemRow.id)
    )
    return [
        IncompleteOffload(
            session=r.id,
            serial=r.serial,
            docked_at=r.started_at,
            code=r.code,
            **_detail(r.path, r.message, r.message_template, r.message_values),
            **who.of(r.serial, r.started_at),
        )
        for r in rows
    ]


def _detail(path: str, message: str, template: str | None, values: str | None) -> dict[str, Any]:
    """The problem's detail as the report says it, with its template and values when the
    ledger kept them (a problem recorded before 0015 is English only)."""
    if template is None:
        return {"detail": message if path == "/" else f"{path}: {message}"}
    said = Said.kept(message, template, json.loads(values or "{}"))
    if path != "/":
        said = Said("{path}: {message}", path=path, message=said)
    return {"detail": str(said), "detail_template": said.template, "detail_values": said.encoded()}


def _exports(s: Session, since: datetime, until: datetime) -> list[ExportView]:
    rows = s.scalars(
        select(ExportRow)
        .where(ExportRow.started_at >= since, ExportRow.started_at < until)
        .order_by(ExportRow.started_at, ExportRow.id)
    )
    return [export_view(r) for r in rows]


def _verify_failures(
    s: Session, since: datetime, until: datetime, mine: Collection[str] | None
) -> list[VerifyFailure]:
    """The findings of the verify runs in the period, the store's and the central copies'
    (`verify --central`, named `central-...`): a station's verify runs are events of its
    own chain."""
    failures = []
    for event in s.scalars(
        select(CustodyEventRow).where(
            CustodyEventRow.kind.in_(("store-verified", "central-verified")),
            _of(CustodyEventRow.station, mine),
        )
    ):
        at = datetime.fromisoformat(event.at)
        if since <= at < until:
            central = event.kind == "central-verified"
            for finding in json.loads(event.details).get("findings", []):
                failures.append(
                    VerifyFailure(
                        at=at,
                        object=finding["key"] if central else finding["object"],
                        problem=f"central-{finding['problem']}" if central else finding["problem"],
                    )
                )
    return failures


_IN_CHUNK = 500  # well under SQLite's bound-parameter limit


def _attestations(session: Session, session_ids: list[str]) -> dict[str, list[str]]:
    """Operators who attested each dock session, in a few IN queries rather than one each."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(session_ids), _IN_CHUNK):
        chunk = session_ids[start : start + _IN_CHUNK]
        for session_id, operator in session.execute(
            select(AttestationRow.session_id, AttestationRow.operator).where(
                AttestationRow.session_id.in_(chunk)
            )
        ):
            found.setdefault(session_id, []).append(operator)
    return found


class CustodyIndex:
    """Who was responsible for a recorder at a moment, cached per report."""

    def __init__(self, session: Session) -> None:
        self._rows: dict[str, list[AssignmentRow]] = {}
        for row in session.scalars(select(AssignmentRow).order_by(AssignmentRow.since)):
            self._rows.setdefault(row.serial, []).append(row)

    def of(self, serial: str, at: datetime) -> dict[str, str | None]:
        for row in reversed(self._rows.get(serial, [])):
            if row.since <= at and (row.until is None or at < row.until):
                return {"unit": row.unit, "custodian": f"{row.name} ({row.badge})"}
        return {"unit": None, "custodian": None}
