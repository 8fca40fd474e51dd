"""The ledger's holds: a case number or a long-term reason keeps a recording whatever
its retention date; placing and releasing one are custody events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    DockSessionRow,
    HoldRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.registry import HoldEntry
from dockd.errors import LedgerError


class LedgerHolds:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def add(self, recording: int, kind: str, reference: str, at: datetime, by: str) -> int:
        with self.ledger.transaction() as s:
            row = s.get(RecordingRow, recording)
            if row is None:
                raise LedgerError(
                    "no recording {recording}",
                    hint="See `dockd recordings` for recording ids.",
                    recording=recording,
                )
            # the recorder's row, as a clearing's deletion intent locks it (PostgreSQL):
            # the hold waits for an intent being decided, and the next intent sees the hold
            s.execute(
                select(RecorderRow.id).where(RecorderRow.id == row.recorder_id).with_for_update()
            )
            _lock_objects(s, row)
            hold = HoldRow(
                recording_id=recording, kind=kind, reference=reference, placed_at=at, placed_by=by
            )
            s.add(hold)
            s.flush()
            details = {"hold": hold.id, "kind": kind, "reference": reference, **facts(hold)}
            self.ledger.append_custody(s, at, "hold-placed", str(recording), details, actor=by)
            return hold.id

    def release(self, hold_id: int, reason: str, at: datetime, by: str) -> None:
        with self.ledger.transaction() as s:
            hold = s.get(HoldRow, hold_id)
            if hold is None or hold.released_at is not None:
                raise LedgerError(
                    "no active hold {hold_id}",
                    hint="See `dockd holds list` for active holds.",
                    hold_id=hold_id,
                )
            hold.released_at, hold.released_by, hold.release_reason = at, by, reason
            details = {"hold": hold_id, "reason": reason, **facts(hold)}
            self.ledger.append_custody(
                s, at, "hold-released", str(hold.recording_id), details, actor=by
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


def _lock_objects(s: Session, recording: RecordingRow) -> None:
    """The rows of the objects the hold covers (the recording's own, its session's
    manifest), locked before the hold is written (PostgreSQL; SQLite's writers are
    serial), in one order: a free of either object checks for holds under the same lock,
    so it sees this hold or is recorded before the hold exists."""
    manifest = (
        select(DockSessionRow.manifest_blake3)
        .where(DockSessionRow.id == recording.session_id)
        .scalar_subquery()
    )
    s.execute(
        select(ObjectRow.blake3)
        .where(or_(ObjectRow.blake3 == recording.blake3, ObjectRow.blake3 == manifest))
        .order_by(ObjectRow.blake3)
        .with_for_update()
    ).all()
