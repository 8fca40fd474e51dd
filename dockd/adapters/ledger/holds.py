"""The ledger's holds: a case number or a long-term reason keeps a recording whatever
its retention date; placing and releasing one are custody events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    DockSessionRow,
    HoldRow,
    ObjectRow,
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
            lock_objects(s, _covered(s, row))
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


def lock_objects(s: Session, blake3s: Collection[str]) -> None:
    """The one lock of the rule "a hold and a deletion decided at the same moment see each
    other": the rows of the objects concerned (PostgreSQL; SQLite's writers are serial).
    Hold placement locks the objects the hold covers before writing it; every deletion
    that must respect holds checks them under the row lock of the object it deletes: a
    clearing's deletion intent (`ledger.clearing`), a free's intent and final check
    (`ledger.freeing`). So each sees the hold, or is committed before the hold exists.

    Lock order, the same in every transaction: object rows first, in BLAKE3 order, then
    the station's custody-chain advisory lock (taken by the first `append_custody`). No
    transaction takes the chain lock and then waits for an object row, so two can never
    deadlock."""
    s.execute(
        select(ObjectRow.blake3)
        .where(ObjectRow.blake3.in_(sorted(blake3s)))
        .order_by(ObjectRow.blake3)
        .with_for_update()
    ).all()


def _covered(s: Session, recording: RecordingRow) -> set[str]:
    """The objects a hold on the recording covers: its own, its session's manifest."""
    manifest = s.scalar(
        select(DockSessionRow.manifest_blake3).where(DockSessionRow.id == recording.session_id)
    )
    return {recording.blake3} | ({manifest} if manifest else set())
