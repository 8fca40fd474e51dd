"""The ledger's side of supervision: spot-check draws and reviews, interruption
explanations, work records, recorders reclaimed or retired, and unplug times.

Each write is one transaction whose custody event carries the rows it wrote, so
`dockd audit verify` vouches for them like for every other evidence row.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.report import CustodyIndex
from dockd.adapters.ledger.schema import (
    AssignmentRow,
    CustodyEventRow,
    DeviceChangeRow,
    DeviceRow,
    InterruptionReviewRow,
    InterruptionRow,
    RecorderUnplugRow,
    RecordingRow,
    SpotCheckDrawRow,
    SpotCheckItemRow,
    WorkRecordRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.supervision import Draw, Member, RecordedDraw, Review, WorkRecord
from dockd.errors import ChainMovedError, LedgerError


class LedgerSupervision:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def chain_head(self) -> tuple[int, str]:
        return self.ledger.chain_head()

    # spot checks ---------------------------------------------------------------

    def population(self, since: datetime, until: datetime) -> list[Member]:
        """The period's recordings still in the store, each with its stratum."""

        def load(s: Session) -> list[Member]:
            who = CustodyIndex(s)
            rows = s.execute(
                select(RecordingRow.id, RecordingRow.serial, RecordingRow.start)
                .where(
                    RecordingRow.start >= since,
                    RecordingRow.start < until,
                    RecordingRow.expired_at.is_(None),
                )
                .order_by(RecordingRow.id)
            )
            out = []
            for rid, serial, start in rows:
                found = who.of(serial, start)
                out.append(Member(rid, found["unit"], found["custodian"]))
            return out

        return self.ledger.read(load)

    def record_draw(self, draw: Draw, at: datetime, by: str) -> int:
        population = [[m.recording, m.unit, m.custodian] for m in draw.population]
        with self.ledger.transaction() as s:
            row = SpotCheckDrawRow(
                drawn_at=at,
                drawn_by=by,
                since=draw.since,
                until=draw.until,
                seed=draw.seed,
                ratio=draw.ratio,
                population=json.dumps(population, ensure_ascii=False),
            )
            s.add(row)
            s.flush()
            items = [
                SpotCheckItemRow(
                    draw_id=row.id, recording=m.recording, unit=m.unit, custodian=m.custodian
                )
                for m in draw.sample
            ]
            s.add_all(items)
            s.flush()
            details = {"seed": draw.seed, "ratio": draw.ratio, **facts(row, *items)}
            self.ledger.append_custody(s, at, "spotcheck-drawn", str(row.id), details, actor=by)
            if _prev_hash(s, str(row.id)) != draw.seed:
                raise ChainMovedError(
                    "the custody chain moved while draw {row_id} was made", row_id=row.id
                )
            return row.id

    def draw(self, draw_id: int) -> RecordedDraw | None:
        def load(s: Session) -> RecordedDraw | None:
            row = s.get(SpotCheckDrawRow, draw_id)
            if row is None:
                return None
            items = s.scalars(
                select(SpotCheckItemRow)
                .where(SpotCheckItemRow.draw_id == draw_id)
                .order_by(SpotCheckItemRow.id)
            )
            return RecordedDraw(
                id=row.id,
                seed=row.seed,
                chained_after=_prev_hash(s, str(row.id)),
                ratio=row.ratio,
                population=[Member(int(r), u, c) for r, u, c in json.loads(row.population)],
                items=[(i.id, Member(i.recording, i.unit, i.custodian)) for i in items],
            )

        return self.ledger.read(load)

    def review_item(self, item_id: int, review: Review, at: datetime) -> None:
        with self.ledger.transaction() as s:
            item = s.get(SpotCheckItemRow, item_id)
            if item is None:
                raise LedgerError(
                    "no spot-check item {item_id}",
                    hint="See `dockd spotcheck draw --json` or the report for item ids.",
                    item_id=item_id,
                )
            if item.reviewed_at is not None:
                raise LedgerError(
                    "spot-check item {item_id} was already reviewed by {reviewer}",
                    hint="A review is final; add a note to a new draw instead.",
                    item_id=item_id,
                    reviewer=item.reviewer,
                )
            item.reviewed_at, item.reviewer, item.note = at, review.reviewer, review.note
            item.recorded, item.uninterrupted = review.recorded, review.uninterrupted
            item.handed_over = review.handed_over
            s.flush()
            details = {"recording": item.recording, **facts(item)}
            self.ledger.append_custody(
                s, at, "spotcheck-reviewed", str(item_id), details, actor=review.reviewer
            )

    # interruptions -------------------------------------------------------------

    def explain(self, interruption_id: int, text: str, by: str, at: datetime) -> None:
        with self.ledger.transaction() as s:
            if s.get(InterruptionRow, interruption_id) is None:
                raise LedgerError(
                    "no interruption {interruption_id}",
                    hint="See `dockd report deadlines --json` for interruption ids.",
                    interruption_id=interruption_id,
                )
            if s.get(InterruptionReviewRow, interruption_id) is not None:
                raise LedgerError(
                    "interruption {interruption_id} is already explained",
                    interruption_id=interruption_id,
                )
            row = InterruptionReviewRow(
                interruption_id=interruption_id, explanation=text, explained_by=by, explained_at=at
            )
            s.add(row)
            s.flush()
            self.ledger.append_custody(
                s, at, "interruption-explained", str(interruption_id), facts(row), actor=by
            )

    def review_interruption(self, interruption_id: int, by: str, at: datetime) -> None:
        with self.ledger.transaction() as s:
            row = s.get(InterruptionReviewRow, interruption_id)
            if row is None:
                raise LedgerError(
                    "interruption {interruption_id} has no explanation yet",
                    hint="First: dockd interruptions explain {interruption_id} --by B --text T",
                    interruption_id=interruption_id,
                )
            if row.reviewed_at is not None:
                raise LedgerError(
                    "interruption {interruption_id} was already reviewed",
                    interruption_id=interruption_id,
                )
            row.reviewed_by, row.reviewed_at = by, at
            s.flush()
            self.ledger.append_custody(
                s, at, "interruption-reviewed", str(interruption_id), facts(row), actor=by
            )

    # work records, devices, unplugs ---------------------------------------------

    def add_work_record(self, record: WorkRecord, at: datetime, by: str) -> int:
        with self.ledger.transaction() as s:
            row = WorkRecordRow(
                badge=record.badge,
                start=record.start,
                end=record.end,
                reason=record.reason,
                basis=record.basis,
                reported_to=record.reported_to,
                recorded_at=at,
                recorded_by=by,
            )
            s.add(row)
            s.flush()
            self.ledger.append_custody(
                s, at, "work-record-added", record.badge, facts(row), actor=by
            )
            return row.id

    def change_device(self, serial: str, kind: str, reason: str, at: datetime, by: str) -> None:
        """Reclaim (back to the pool) or retire: either ends the current assignment."""
        with self.ledger.transaction() as s:
            if s.get(DeviceRow, serial) is None:
                raise LedgerError("recorder {serial} is not registered", serial=serial)
            if _retired(s, serial):
                raise LedgerError("recorder {serial} is retired", serial=serial)
            ended = s.scalars(
                select(AssignmentRow).where(
                    AssignmentRow.serial == serial, AssignmentRow.until.is_(None)
                )
            ).all()
            if kind == "reclaimed" and not ended:
                raise LedgerError(
                    "recorder {serial} is already in the pool",
                    hint="Only an assigned recorder can be reclaimed.",
                    serial=serial,
                )
            for previous in ended:
                previous.until = at
            row = DeviceChangeRow(serial=serial, kind=kind, reason=reason, at=at, by=by)
            s.add(row)
            s.flush()
            details = {"reason": reason, **facts(*ended, row)}
            self.ledger.append_custody(s, at, f"device-{kind}", serial, details, actor=by)

    def record_unplug(self, serial: str, session_id: str | None, at: datetime) -> None:
        with self.ledger.transaction() as s:
            row = RecorderUnplugRow(serial=serial, session_id=session_id, unplugged_at=at)
            s.add(row)
            s.flush()
            self.ledger.append_custody(s, at, "recorder-unplugged", serial, facts(row))


def _prev_hash(s: Session, draw_id: str) -> str | None:
    return s.scalars(
        select(CustodyEventRow.prev_hash).where(
            CustodyEventRow.kind == "spotcheck-drawn", CustodyEventRow.subject == draw_id
        )
    ).first()


def _retired(s: Session, serial: str) -> bool:
    found = s.scalars(
        select(DeviceChangeRow.id).where(
            DeviceChangeRow.serial == serial, DeviceChangeRow.kind == "retired"
        )
    ).first()
    return found is not None
