"""The ledger's side of keeping a copy here of a recording another station verified: this
station's location of its object, opened (or reopened) with a custody event naming the
recording, the session and the stations that held it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dockd.adapters.ledger.clearing import LedgerClearing
from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import ObjectLocationRow
from dockd.adapters.ledger.sessions import Ledger


class LedgerSafeguard:
    """`dockd.ports.SafeguardRecords` over the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.verified = LedgerClearing(ledger).verified

    def add_copy(self, session_id: str, recording: int, blake3: str, at: datetime) -> None:
        with self.ledger.transaction() as session:
            holders = sorted(
                session.scalars(
                    select(ObjectLocationRow.station).where(
                        ObjectLocationRow.blake3 == blake3, ObjectLocationRow.removed_at.is_(None)
                    )
                )
            )
            row = session.get(ObjectLocationRow, (blake3, self.ledger.station))
            if row is None:
                row = ObjectLocationRow(blake3=blake3, station=self.ledger.station, since=at)
                session.add(row)
            else:
                row.since, row.removed_at = at, None
            session.flush()
            details = {"session": session_id, "blake3": blake3, "held_by": holders, **facts(row)}
            self.ledger.append_custody(session, at, "recording-copy-kept", str(recording), details)
