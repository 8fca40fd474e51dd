"""The ledger's interruptions: holes between a recorder's consecutive clips, found at
the end of a dock session and kept for a supervisor to review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import InterruptionRow, RecordingRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.gaps import Clip, Gap


class LedgerInterruptions:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

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
            rows = [
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
                for gap in gaps
            ]
            s.add_all(rows)
            s.flush()
            details = {"serial": serial, "count": len(gaps), **facts(*rows)}
            self.ledger.append_custody(s, at, "interruptions-found", session_id, details)
