"""The ledger's viewing register: requests, approvals, refusals and viewings (000:28 and
its sisters: the custodian registers who viewed, why and when).

Each write is a custody event in the same transaction, naming the operator who acted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    AssignmentRow,
    OperatorRow,
    RecordingRow,
    ViewingApprovalRow,
    ViewingRecordingRow,
    ViewingRequestRow,
    ViewingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.archive import Footage
from dockd.core.model import Digests
from dockd.core.viewing import Approval, Person, Viewing, ViewingRequest
from dockd.errors import LedgerError


class LedgerViewing:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def recording_units(self, recordings: Sequence[int]) -> list[str | None]:
        def load(s: Session) -> list[str | None]:
            units = []
            for row in _recordings(s, recordings):
                start = row.corrected_start or row.start
                units.append(
                    s.scalar(
                        select(AssignmentRow.unit).where(
                            AssignmentRow.serial == row.serial,
                            AssignmentRow.since <= start,
                            AssignmentRow.until.is_(None) | (start < AssignmentRow.until),
                        )
                    )
                )
            return units

        return self.ledger.read(load)

    def footage(self, recordings: Sequence[int]) -> list[Footage]:
        def load(s: Session) -> list[Footage]:
            return [
                Footage(r.id, r.path, r.object_key, Digests(r.blake3, r.sha256), r.size)
                for r in _recordings(s, recordings)
            ]

        return self.ledger.read(load)

    def add_request(self, request: ViewingRequest, at: datetime) -> int:
        with self.ledger.transaction() as s:
            row = ViewingRequestRow(
                viewer=request.viewer.badge,
                reason=request.reason,
                requested_at=at,
                tier=request.tier,
                required_roles=json.dumps(request.required_roles, ensure_ascii=False),
                ordered=request.ordered,
                open_hours=request.open_hours,
                pack=request.pack,
                recordings=[ViewingRecordingRow(recording_id=r) for r in request.recordings],
            )
            s.add(row)
            s.flush()
            details = {
                "recordings": request.recordings,
                "reason": request.reason,
                "tier": request.tier,
                "required_roles": request.required_roles,
                "ordered": request.ordered,
                "pack": request.pack,
                **facts(row, *row.recordings),
            }
            subject = f"viewing:{row.id}"
            self.ledger.append_custody(
                s, at, "viewing-requested", subject, details, actor=request.viewer.badge
            )
            return row.id

    def request(self, request_id: int) -> ViewingRequest | None:
        def load(s: Session) -> ViewingRequest | None:
            row = s.get(ViewingRequestRow, request_id)
            return None if row is None else _request(s, row)

        return self.ledger.read(load)

    def requests(self) -> list[ViewingRequest]:
        def load(s: Session) -> list[ViewingRequest]:
            rows = s.scalars(select(ViewingRequestRow).order_by(ViewingRequestRow.id))
            return [_request(s, r) for r in rows]

        return self.ledger.read(load)

    def add_approval(
        self, request_id: int, approver: str, role: str, at: datetime, seen: int, complete: bool
    ) -> None:
        with self.ledger.transaction() as s:
            count = s.scalar(
                select(func.count())
                .select_from(ViewingApprovalRow)
                .where(ViewingApprovalRow.request_id == request_id)
            )
            if count != seen:
                raise LedgerError(
                    "viewing request {request_id} was approved by someone else meanwhile",
                    hint="Look at `dockd view register` and approve again if still needed.",
                    request_id=request_id,
                )
            approval = ViewingApprovalRow(
                request_id=request_id, approver=approver, role=role, at=at
            )
            s.add(approval)
            s.flush()
            details = {"role": role, "complete": complete, **facts(approval)}
            subject = f"viewing:{request_id}"
            self.ledger.append_custody(s, at, "viewing-approved", subject, details, actor=approver)

    def refuse(self, request_id: int, by: str, reason: str, at: datetime) -> None:
        with self.ledger.transaction() as s:
            row = s.get(ViewingRequestRow, request_id, with_for_update=True)
            if row is None or row.refused_at is not None:
                raise LedgerError(
                    "viewing request {request_id} cannot be refused now", request_id=request_id
                )
            row.refused_at, row.refused_by, row.refusal_reason = at, by, reason
            s.flush()
            subject = f"viewing:{request_id}"
            details = {"reason": reason, **facts(row)}
            self.ledger.append_custody(s, at, "viewing-refused", subject, details, actor=by)

    def add_viewing(self, request_id: int, viewing: Viewing) -> None:
        with self.ledger.transaction() as s:
            opened = ViewingRow(
                request_id=request_id,
                viewer=viewing.viewer.badge,
                opened_at=viewing.opened_at,
                until=viewing.until,
                out=viewing.out,
                files=viewing.files,
                bytes=viewing.bytes,
            )
            s.add(opened)
            s.flush()
            details = {
                "until": viewing.until.isoformat(),
                "out": viewing.out,
                "files": viewing.files,
                "bytes": viewing.bytes,
                **facts(opened),
            }
            self.ledger.append_custody(
                s,
                viewing.opened_at,
                "viewing-opened",
                f"viewing:{request_id}",
                details,
                actor=viewing.viewer.badge,
            )


def _recordings(s: Session, ids: Sequence[int]) -> list[RecordingRow]:
    rows = {r.id: r for r in s.scalars(select(RecordingRow).where(RecordingRow.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise LedgerError(
            "no recording {recordings}",
            hint="See `dockd recordings` for recording ids.",
            recordings=", ".join(map(str, missing)),
        )
    gone = [i for i in ids if rows[i].expired_at is not None]
    if gone:
        raise LedgerError(
            "recording {recordings} expired: its footage is no longer stored",
            recordings=", ".join(map(str, gone)),
        )
    return [rows[i] for i in ids]


def _person(s: Session, badge: str) -> Person:
    row = s.get(OperatorRow, badge)
    if row is None:
        return Person(badge=badge, name="?", unit=None)
    return Person(badge=row.badge, name=row.name, unit=row.unit)


def _request(s: Session, row: ViewingRequestRow) -> ViewingRequest:
    return ViewingRequest(
        id=row.id,
        viewer=_person(s, row.viewer),
        recordings=[r.recording_id for r in row.recordings],
        reason=row.reason,
        requested_at=row.requested_at,
        pack=row.pack,
        tier="own-unit" if row.tier == "own-unit" else "outside-unit",
        required_roles=json.loads(row.required_roles),
        ordered=row.ordered,
        open_hours=row.open_hours,
        approvals=[
            Approval(approver=_person(s, a.approver), role=a.role, at=a.at) for a in row.approvals
        ],
        refused_at=row.refused_at,
        refused_by=_person(s, row.refused_by) if row.refused_by else None,
        refusal_reason=row.refusal_reason,
        viewings=[
            Viewing(
                viewer=_person(s, v.viewer),
                opened_at=v.opened_at,
                until=v.until,
                out=v.out,
                files=v.files,
                bytes=v.bytes,
            )
            for v in row.viewings
        ],
    )
