"""The ledger's policy side: devices and custodians, duty returns, holds, attestations,
interruptions, retention expiry and the nightly deadline report.

Every change an admin makes here is a custody event; the report is a handful of
indexed queries so that it stays fast on years of recordings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dockd.adapters.ledger.mapping import drift_violation
from dockd.adapters.ledger.schema import (
    AssignmentRow,
    AttestationRow,
    CustodyEventRow,
    DeviceRow,
    DockSessionRow,
    DutyReturnRow,
    HoldRow,
    InterruptionRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.deadlines import judge, overdue_by
from dockd.core.gaps import Clip, Gap
from dockd.core.policy import PolicyPack
from dockd.core.views import (
    DeadlineReport,
    Interruption,
    LateOffload,
    OverdueRecorder,
    UnsealedSession,
    VerifyFailure,
)
from dockd.errors import LedgerError


@dataclass(frozen=True, slots=True)
class Custodian:
    badge: str
    name: str
    unit: str


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    serial: str
    model: str
    custodian: Custodian | None
    history: list[tuple[Custodian, datetime, datetime | None]]


@dataclass(frozen=True, slots=True)
class HoldEntry:
    id: int
    recording: int
    kind: str
    reference: str
    placed_at: datetime
    placed_by: str
    released_at: datetime | None


@dataclass(frozen=True, slots=True)
class Expirable:
    recording: int
    blake3: str
    key: str
    retain_until: datetime


class PolicyLedger:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # devices and custodians --------------------------------------------------

    def add_device(self, serial: str, model: str, at: datetime, by: str) -> None:
        try:
            with self.ledger.transaction() as s:
                s.add(DeviceRow(serial=serial, model=model, registered_at=at))
                s.flush()
                self.ledger.append_custody(
                    s, at, "device-registered", serial, {"model": model}, actor=by
                )
        except LedgerError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise LedgerError(
                    f"recorder {serial} is already registered",
                    hint="Use `dockd devices assign` to change its custodian.",
                ) from exc
            raise

    def assign(self, serial: str, custodian: Custodian, at: datetime, by: str) -> None:
        """Hand a recorder to an officer; the previous assignment ends at the same moment."""
        with self.ledger.transaction() as s:
            if s.get(DeviceRow, serial) is None:
                raise LedgerError(
                    f"recorder {serial} is not registered",
                    hint=f"Register it first: dockd devices add {serial} --model M",
                )
            s.execute(
                update(AssignmentRow)
                .where(AssignmentRow.serial == serial, AssignmentRow.until.is_(None))
                .values(until=at)
            )
            s.add(
                AssignmentRow(
                    serial=serial,
                    badge=custodian.badge,
                    name=custodian.name,
                    unit=custodian.unit,
                    since=at,
                    until=None,
                )
            )
            self.ledger.append_custody(
                s,
                at,
                "device-assigned",
                serial,
                {
                    "badge": custodian.badge,
                    "name": custodian.name,
                    "unit": custodian.unit,
                },
                actor=by,
            )

    def devices(self) -> list[DeviceEntry]:
        def load(s: Session) -> list[DeviceEntry]:
            out = []
            for device in s.scalars(select(DeviceRow).order_by(DeviceRow.serial)):
                rows = s.scalars(
                    select(AssignmentRow)
                    .where(AssignmentRow.serial == device.serial)
                    .order_by(AssignmentRow.since)
                ).all()
                history = [(Custodian(r.badge, r.name, r.unit), r.since, r.until) for r in rows]
                current = next((c for c, _, until in reversed(history) if until is None), None)
                out.append(DeviceEntry(device.serial, device.model, current, history))
            return out

        return self.ledger.read(load)

    def custodians_at(self, serial: str) -> list[tuple[Custodian, datetime, datetime | None]]:
        """The recorder's assignment history, for 'who was responsible at time T'."""

        def load(s: Session) -> list[tuple[Custodian, datetime, datetime | None]]:
            rows = s.scalars(
                select(AssignmentRow)
                .where(AssignmentRow.serial == serial)
                .order_by(AssignmentRow.since)
            )
            return [(Custodian(r.badge, r.name, r.unit), r.since, r.until) for r in rows]

        return self.ledger.read(load)

    # duty returns (excuses) -------------------------------------------------------

    def duty_returns(self) -> dict[str, list[datetime]]:
        def load(s: Session) -> dict[str, list[datetime]]:
            out: dict[str, list[datetime]] = {}
            for badge, at in s.execute(select(DutyReturnRow.badge, DutyReturnRow.returned_at)):
                out.setdefault(badge, []).append(at)
            return out

        return self.ledger.read(load)

    def add_duty_return(
        self, badge: str, returned_at: datetime, reason: str, at: datetime, by: str, hours: float
    ) -> int:
        """Record a return from remote duty and re-judge that officer's earlier recordings;
        how many changed verdict."""
        with self.ledger.transaction() as s:
            s.add(
                DutyReturnRow(
                    badge=badge,
                    returned_at=returned_at,
                    reason=reason,
                    recorded_at=at,
                    recorded_by=by,
                )
            )
            returns = [
                t
                for (t,) in s.execute(
                    select(DutyReturnRow.returned_at).where(DutyReturnRow.badge == badge)
                )
            ]
            returns.append(returned_at)
            changed = 0
            end = func.coalesce(RecordingRow.corrected_end, RecordingRow.end)
            in_custody = exists().where(
                AssignmentRow.serial == RecordingRow.serial,
                AssignmentRow.badge == badge,
                AssignmentRow.since <= RecordingRow.end,
                AssignmentRow.until.is_(None) | (RecordingRow.end < AssignmentRow.until),
            )
            # the officer's own (badge in the name) or, with no badge, made in their custody
            rows = s.scalars(
                select(RecordingRow).where(
                    end <= returned_at,
                    (RecordingRow.badge == badge) | (RecordingRow.badge.is_(None) & in_custody),
                )
            )
            for row in rows:
                verdict = judge(row.corrected_end or row.end, row.verified_at, hours, returns)
                if verdict.late != row.late:
                    changed += 1
                row.deadline, row.late, row.late_by_s = (
                    verdict.deadline,
                    verdict.late,
                    verdict.late_by_s,
                )
            self.ledger.append_custody(
                s,
                at,
                "duty-return-recorded",
                badge,
                {
                    "returned_at": returned_at.isoformat(),
                    "reason": reason,
                    "recordings_rejudged": changed,
                },
                actor=by,
            )
            return changed

    # holds ------------------------------------------------------------------

    def add_hold(self, recording: int, kind: str, reference: str, at: datetime, by: str) -> int:
        with self.ledger.transaction() as s:
            if s.get(RecordingRow, recording) is None:
                raise LedgerError(
                    f"no recording {recording}", hint="See `dockd recordings` for recording ids."
                )
            hold = HoldRow(
                recording_id=recording, kind=kind, reference=reference, placed_at=at, placed_by=by
            )
            s.add(hold)
            s.flush()
            self.ledger.append_custody(
                s,
                at,
                "hold-placed",
                str(recording),
                {"hold": hold.id, "kind": kind, "reference": reference},
                actor=by,
            )
            return hold.id

    def release_hold(self, hold_id: int, reason: str, at: datetime, by: str) -> None:
        with self.ledger.transaction() as s:
            hold = s.get(HoldRow, hold_id)
            if hold is None or hold.released_at is not None:
                raise LedgerError(
                    f"no active hold {hold_id}", hint="See `dockd holds list` for active holds."
                )
            hold.released_at, hold.released_by, hold.release_reason = at, by, reason
            self.ledger.append_custody(
                s,
                at,
                "hold-released",
                str(hold.recording_id),
                {"hold": hold_id, "reason": reason},
                actor=by,
            )

    def holds(self, active_only: bool = True) -> list[HoldEntry]:
        def load(s: Session) -> list[HoldEntry]:
            query = select(HoldRow).order_by(HoldRow.id)
            if active_only:
                query = query.where(HoldRow.released_at.is_(None))
            return [
                HoldEntry(
                    h.id,
                    h.recording_id,
                    h.kind,
                    h.reference,
                    h.placed_at,
                    h.placed_by,
                    h.released_at,
                )
                for h in s.scalars(query)
            ]

        return self.ledger.read(load)

    # two-person seal ----------------------------------------------------------

    def attest(self, session_id: str, operator: str, at: datetime, needed: int) -> list[str]:
        """Record an operator's attestation; the session is sealed at the `needed`-th
        distinct operator. The operators so far."""
        with self.ledger.transaction() as s:
            dock = s.get(DockSessionRow, session_id)
            if dock is None:
                raise LedgerError(
                    f"no dock session {session_id}", hint="See `dockd sessions` for session ids."
                )
            if dock.state == "running":
                raise LedgerError(
                    f"session {session_id} is still running",
                    hint="Attest it once the recorder is safe to unplug.",
                )
            known = set(
                s.scalars(
                    select(AttestationRow.operator).where(AttestationRow.session_id == session_id)
                )
            )
            if operator in known:
                raise LedgerError(
                    f"operator {operator} already attested session {session_id}",
                    hint="Offload needs two different people (004:21); ask a second operator.",
                )
            s.add(AttestationRow(session_id=session_id, operator=operator, at=at))
            known.add(operator)
            self.ledger.append_custody(
                s, at, "session-attested", session_id, {"operator": operator}, actor=operator
            )
            if len(known) >= needed and dock.sealed_at is None:
                dock.sealed_at = at
                self.ledger.append_custody(
                    s,
                    at,
                    "session-sealed",
                    session_id,
                    {"operators": sorted(known)},
                    actor=operator,
                )
            return sorted(known)

    # interruptions ------------------------------------------------------------

    def clips_around(self, serial: str, session_id: str) -> list[Clip]:
        """This session's recordings, plus the recorder's last one before them."""

        def load(s: Session) -> list[Clip]:
            rows = s.execute(
                select(RecordingRow.id, RecordingRow.start, RecordingRow.end).where(
                    RecordingRow.session_id == session_id
                )
            ).all()
            if not rows:
                return []
            first = min(r.start for r in rows)
            before = s.execute(
                select(RecordingRow.id, RecordingRow.start, RecordingRow.end)
                .where(
                    RecordingRow.serial == serial,
                    RecordingRow.start < first,
                    RecordingRow.session_id != session_id,
                )
                .order_by(RecordingRow.start.desc())
                .limit(1)
            ).first()
            chosen = [*rows, *([before] if before else [])]
            return [Clip(str(r.id), r.start, r.end) for r in chosen]

        return self.ledger.read(load)

    def record_interruptions(
        self, session_id: str, serial: str, gaps: list[Gap], at: datetime
    ) -> None:
        if not gaps:
            return
        with self.ledger.transaction() as s:
            for gap in gaps:
                s.add(
                    InterruptionRow(
                        session_id=session_id,
                        serial=serial,
                        before_recording=int(gap.before),
                        after_recording=int(gap.after),
                        gap_start=gap.start,
                        gap_end=gap.end,
                        gap_s=gap.seconds,
                        detected_at=at,
                    )
                )
            self.ledger.append_custody(
                s, at, "interruptions-found", session_id, {"serial": serial, "count": len(gaps)}
            )

    # retention ----------------------------------------------------------------

    def expirable(self, now: datetime) -> list[Expirable]:
        """Objects whose every recording is past retain-until and under no active hold."""

        def load(s: Session) -> list[Expirable]:
            held = select(HoldRow.recording_id).where(HoldRow.released_at.is_(None))
            keep = select(RecordingRow.blake3).where(
                (RecordingRow.retain_until >= now)
                | RecordingRow.retain_until.is_(None)
                | RecordingRow.id.in_(held)
            )
            rows = s.execute(
                select(
                    RecordingRow.id,
                    RecordingRow.blake3,
                    RecordingRow.object_key,
                    RecordingRow.retain_until,
                )
                .join(ObjectRow, ObjectRow.blake3 == RecordingRow.blake3)
                .where(
                    RecordingRow.retain_until < now,
                    RecordingRow.expired_at.is_(None),
                    ObjectRow.removed_at.is_(None),
                    RecordingRow.blake3.not_in(keep),
                )
                .order_by(RecordingRow.retain_until)
            ).all()
            once: dict[str, Expirable] = {}  # one object may be several recordings' bytes
            for r in rows:
                item = Expirable(r.id, r.blake3, r.object_key, r.retain_until)
                if r.blake3 not in once or once[r.blake3].retain_until < item.retain_until:
                    once[r.blake3] = item
            return sorted(once.values(), key=lambda e: e.retain_until)

        return self.ledger.read(load)

    def mark_expired(self, item: Expirable, at: datetime, by: str) -> None:
        with self.ledger.transaction() as s:
            s.execute(
                update(RecordingRow)
                .where(RecordingRow.blake3 == item.blake3, RecordingRow.expired_at.is_(None))
                .values(expired_at=at)
            )
            s.execute(
                update(ObjectRow).where(ObjectRow.blake3 == item.blake3).values(removed_at=at)
            )
            self.ledger.append_custody(
                s,
                at,
                "object-expired",
                item.key,
                {
                    "blake3": item.blake3,
                    "retain_until": item.retain_until.isoformat(),
                },
                actor=by,
            )

    # the nightly report ----------------------------------------------------------

    def last_report_until(self) -> datetime | None:
        """Where the last e-mailed report ended: the next one starts there, so a dock
        that was off at 02:00 (the timer is Persistent) never skips hours."""

        def load(s: Session) -> datetime | None:
            row = s.scalars(
                select(CustodyEventRow)
                .where(CustodyEventRow.kind == "report-issued")
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
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime
    ) -> DeadlineReport:
        def load(s: Session) -> DeadlineReport:
            who = _CustodyIndex(s)
            late = [
                LateOffload(
                    recording=r.id,
                    serial=r.serial,
                    path=r.path,
                    end=r.corrected_end or r.end,
                    deadline=r.deadline,
                    offloaded_at=r.verified_at,
                    late_by_s=r.late_by_s or 0.0,
                    **who.of(r.serial, r.end),
                )
                for r in s.scalars(
                    select(RecordingRow)
                    .where(
                        RecordingRow.late.is_(True),
                        RecordingRow.verified_at >= since,
                        RecordingRow.verified_at < until,
                    )
                    .order_by(RecordingRow.verified_at)
                )
                if r.deadline is not None
            ]
            # a recorder's last_seen is the start of its newest dock session
            last_dock = dict(s.execute(select(RecorderRow.serial, RecorderRow.last_seen)).all())
            overdue = []
            for a in s.scalars(select(AssignmentRow).where(AssignmentRow.until.is_(None))):
                late_by = overdue_by(
                    last_dock.get(a.serial), a.since, now, pack.offload.deadline_hours
                )
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
            drift = [
                drift_violation(d, **who.of(d.serial, d.started_at))
                for d in s.scalars(
                    select(DockSessionRow).where(
                        DockSessionRow.drift_verdict.in_(("warn", "violation")),
                        DockSessionRow.started_at >= since,
                        DockSessionRow.started_at < until,
                    )
                )
            ]
            paths = {}
            gaps = s.scalars(
                select(InterruptionRow).where(
                    InterruptionRow.detected_at >= since, InterruptionRow.detected_at < until
                )
            ).all()
            ids = {g.before_recording for g in gaps} | {g.after_recording for g in gaps}
            if ids:
                paths = dict(
                    s.execute(
                        select(RecordingRow.id, RecordingRow.path).where(RecordingRow.id.in_(ids))
                    ).all()
                )
            interruptions = [
                Interruption(
                    serial=g.serial,
                    before=paths.get(g.before_recording, "?"),
                    after=paths.get(g.after_recording, "?"),
                    gap_start=g.gap_start,
                    gap_end=g.gap_end,
                    gap_s=g.gap_s,
                    **who.of(g.serial, g.gap_start),
                )
                for g in gaps
            ]
            unsealed = []
            if pack.offload.two_person_seal:
                open_docks = s.scalars(
                    select(DockSessionRow)
                    .where(
                        DockSessionRow.sealed_at.is_(None),
                        DockSessionRow.state != "running",
                        DockSessionRow.started_at < until,
                    )
                    .order_by(DockSessionRow.started_at, DockSessionRow.id)
                ).all()
                operators = _attestations(s, [d.id for d in open_docks])
                unsealed = [
                    UnsealedSession(
                        session=d.id,
                        serial=d.serial,
                        finished_at=d.finished_at,
                        attestations=sorted(operators.get(d.id, [])),
                        **who.of(d.serial, d.started_at),
                    )
                    for d in open_docks
                ]
            failures = []
            for event in s.scalars(
                select(CustodyEventRow).where(CustodyEventRow.kind == "store-verified")
            ):
                at = datetime.fromisoformat(event.at)
                if since <= at < until:
                    for finding in json.loads(event.details).get("findings", []):
                        failures.append(
                            VerifyFailure(
                                at=at, object=finding["object"], problem=finding["problem"]
                            )
                        )
            return DeadlineReport(
                pack=pack.id,
                since=since,
                until=until,
                late_offloads=late,
                overdue_recorders=overdue,
                drift_violations=drift,
                interruptions=interruptions,
                unsealed_sessions=unsealed,
                verify_failures=failures,
            )

        return self.ledger.read(load)


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


class _CustodyIndex:
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
