"""The ledger's registry: recorders as fixed assets, their custodians, officers' excuses
(returns from remote duty) and operators' attestations of dock sessions.

Every change an admin makes here is a custody event: the ledger must say who
changed what, and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    AssignmentRow,
    AttestationRow,
    DeviceChangeRow,
    DeviceRow,
    DockSessionRow,
    DutyReturnRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.deadlines import judge
from dockd.core.registry import Custodian, CustodyStretch, DeviceEntry
from dockd.errors import LedgerError


class LedgerRegistry:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # devices and custodians --------------------------------------------------

    def add_device(self, serial: str, model: str, at: datetime, by: str) -> None:
        try:
            with self.ledger.transaction() as s:
                device = DeviceRow(serial=serial, model=model, registered_at=at)
                s.add(device)
                s.flush()
                details = {"model": model, **facts(device)}
                self.ledger.append_custody(s, at, "device-registered", serial, details, actor=by)
        except LedgerError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise LedgerError(
                    "recorder {serial} is already registered",
                    hint="Use `dockd devices assign` to change its custodian.",
                    serial=serial,
                ) from exc
            raise

    def assign(self, serial: str, custodian: Custodian, at: datetime, by: str) -> None:
        """Hand a recorder to an officer; the previous assignment ends at the same moment."""
        with self.ledger.transaction() as s:
            if s.get(DeviceRow, serial) is None:
                raise LedgerError(
                    "recorder {serial} is not registered",
                    hint="Register it first: dockd devices add {serial} --model M",
                    serial=serial,
                )
            ended = s.scalars(
                select(AssignmentRow).where(
                    AssignmentRow.serial == serial, AssignmentRow.until.is_(None)
                )
            ).all()
            later = [p for p in ended if p.since > at]
            if later:
                raise LedgerError(
                    "recorder {serial} was handed to {badge} at {since}, after {at}",
                    hint="An earlier handover (--at) must come after the current one began.",
                    serial=serial,
                    badge=later[0].badge,
                    since=later[0].since.isoformat(),
                    at=at.isoformat(),
                )
            retired = s.scalars(
                select(DeviceChangeRow.id).where(
                    DeviceChangeRow.serial == serial, DeviceChangeRow.kind == "retired"
                )
            ).first()
            if retired is not None:
                raise LedgerError(
                    "recorder {serial} is retired", hint="Register a new one.", serial=serial
                )
            for previous in ended:
                previous.until = at
            assignment = AssignmentRow(
                serial=serial,
                badge=custodian.badge,
                name=custodian.name,
                unit=custodian.unit,
                since=at,
                until=None,
            )
            s.add(assignment)
            s.flush()
            details = {
                "badge": custodian.badge,
                "name": custodian.name,
                "unit": custodian.unit,
                **facts(*ended, assignment),
            }
            self.ledger.append_custody(s, at, "device-assigned", serial, details, actor=by)

    def devices(self) -> list[DeviceEntry]:
        def load(s: Session) -> list[DeviceEntry]:
            out = []
            retired = {
                serial: at
                for serial, at in s.execute(
                    select(DeviceChangeRow.serial, func.min(DeviceChangeRow.at))
                    .where(DeviceChangeRow.kind == "retired")
                    .group_by(DeviceChangeRow.serial)
                )
            }
            for device in s.scalars(select(DeviceRow).order_by(DeviceRow.serial)):
                history = _history(s, device.serial)
                current = next((c for c, _, until in reversed(history) if until is None), None)
                entry = DeviceEntry(
                    device.serial, device.model, current, history, retired.get(device.serial)
                )
                out.append(entry)
            return out

        return self.ledger.read(load)

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        """The recorder's assignment history, for 'who was responsible at time T'."""
        return self.ledger.read(lambda s: _history(s, serial))

    # excuses: returns from remote duty ----------------------------------------

    def excuses(self) -> dict[str, list[datetime]]:
        """Each officer's recorded returns from remote duty, by badge."""

        def load(s: Session) -> dict[str, list[datetime]]:
            out: dict[str, list[datetime]] = {}
            for badge, at in s.execute(select(DutyReturnRow.badge, DutyReturnRow.returned_at)):
                out.setdefault(badge, []).append(at)
            return out

        return self.ledger.read(load)

    def add_excuse(
        self, badge: str, returned_at: datetime, reason: str, at: datetime, by: str, hours: float
    ) -> int:
        """Record a return from remote duty and re-judge that officer's earlier recordings;
        how many changed verdict."""
        with self.ledger.transaction() as s:
            excuse = DutyReturnRow(
                badge=badge,
                returned_at=returned_at,
                reason=reason,
                recorded_at=at,
                recorded_by=by,
            )
            s.add(excuse)
            s.flush()
            returns = [
                t
                for (t,) in s.execute(
                    select(DutyReturnRow.returned_at).where(DutyReturnRow.badge == badge)
                )
            ]
            returns.append(returned_at)
            changed = 0
            rejudged: list[RecordingRow] = []
            for row in s.scalars(_officers_recordings(badge, returned_at)):
                # judged again from the working day's end kept at ingest, not from the
                # deadline: an earlier return must bring back a deadline a later one moved
                day_end = row.day_end or _legacy_day_end(row, hours)
                verdict = judge(
                    row.corrected_end or row.end, row.verified_at, hours, returns, day_end
                )
                if verdict.late != row.late:
                    changed += 1
                if (verdict.deadline, verdict.late, verdict.late_by_s) != (
                    row.deadline,
                    row.late,
                    row.late_by_s,
                ):
                    rejudged.append(row)
                row.deadline, row.late, row.late_by_s = (
                    verdict.deadline,
                    verdict.late,
                    verdict.late_by_s,
                )
            details = {
                "returned_at": returned_at.isoformat(),
                "reason": reason,
                "recordings_rejudged": changed,
                **facts(excuse, *rejudged),
            }
            self.ledger.append_custody(s, at, "duty-return-recorded", badge, details, actor=by)
            return changed

    # two-person seal ----------------------------------------------------------

    def attest(
        self, session_id: str, operators: Sequence[str], at: datetime, needed: int
    ) -> list[str]:
        """Record the operators' attestations; the session is sealed at the `needed`-th
        distinct operator. The operators so far."""
        with self.ledger.transaction() as s:
            dock = s.get(DockSessionRow, session_id)
            if dock is None:
                raise LedgerError(
                    "no dock session {session}",
                    hint="See `dockd sessions` for session ids.",
                    session=session_id,
                )
            if dock.state == "running":
                raise LedgerError(
                    "session {session} is still running",
                    hint="Attest it once the recorder is safe to unplug.",
                    session=session_id,
                )
            known = set(
                s.scalars(
                    select(AttestationRow.operator).where(AttestationRow.session_id == session_id)
                )
            )
            for operator in operators:
                if operator in known:
                    raise LedgerError(
                        "operator {operator} already attested session {session}",
                        hint="Offload needs two different people (004:21); ask a second operator.",
                        operator=operator,
                        session=session_id,
                    )
                attestation = AttestationRow(session_id=session_id, operator=operator, at=at)
                s.add(attestation)
                s.flush()
                known.add(operator)
                details = {"operator": operator, **facts(attestation)}
                self.ledger.append_custody(
                    s, at, "session-attested", session_id, details, actor=operator
                )
            if len(known) >= needed and dock.sealed_at is None:
                dock.sealed_at = at
                s.flush()
                sealed = {"operators": sorted(known), **facts(dock)}
                actor = ",".join(operators)
                self.ledger.append_custody(s, at, "session-sealed", session_id, sealed, actor=actor)
            return sorted(known)


def _history(s: Session, serial: str) -> list[CustodyStretch]:
    rows = s.scalars(
        select(AssignmentRow).where(AssignmentRow.serial == serial).order_by(AssignmentRow.since)
    )
    return [(Custodian(r.badge, r.name, r.unit), r.since, r.until) for r in rows]


def _legacy_day_end(row: RecordingRow, hours: float) -> datetime | None:
    """A recording ingested before 0012 kept no working-day end: its deadline less the
    hours is the best bound left (exact unless a return had already moved it)."""
    return row.deadline - timedelta(hours=hours) if row.deadline else None


def _officers_recordings(badge: str, returned_at: datetime) -> Select[RecordingRow]:
    """The officer's own recordings (badge in the name) or, with no badge, those made in
    their custody, that ended before the return."""
    end = func.coalesce(RecordingRow.corrected_end, RecordingRow.end)
    in_custody = exists().where(
        AssignmentRow.serial == RecordingRow.serial,
        AssignmentRow.badge == badge,
        AssignmentRow.since <= RecordingRow.end,
        AssignmentRow.until.is_(None) | (RecordingRow.end < AssignmentRow.until),
    )
    return select(RecordingRow).where(
        end <= returned_at,
        (RecordingRow.badge == badge) | (RecordingRow.badge.is_(None) & in_custody),
    )
