"""The ledger's side of clearing a recorder: candidates for `dockd.core.clearing`.

One read of the recorder's verified recordings with the identity each was copied under,
the session that verified it, whether its object is still held by this station (or only
by another station of a shared ledger), and whether its central copy is
confirmed; one count of the active holds on the recorder's recordings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Exists, func, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.holds import lock_objects
from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    HoldRow,
    ObjectLocationRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.clearing import ClearCandidate


class LedgerClearing:
    """`dockd.ports.ClearingRecords` over the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.record_event = ledger.record_event

    def verified(self, serial: str) -> list[ClearCandidate]:
        stations = self.ledger.stations()

        def located(here: bool) -> Exists:
            """The recording's object has a live copy in this station's stores (or not)."""
            station = ObjectLocationRow.station
            return (
                select(ObjectLocationRow.blake3)
                .where(
                    ObjectLocationRow.blake3 == RecordingRow.blake3,
                    station.in_(stations) if here else station.not_in(stations),
                    ObjectLocationRow.removed_at.is_(None),
                )
                .exists()
            )

        def load(session: Session) -> list[ClearCandidate]:
            held, elsewhere = located(True), located(False)
            confirmed = (
                select(CentralCopyRow.blake3)
                .where(
                    CentralCopyRow.blake3 == RecordingRow.blake3,
                    CentralCopyRow.state == "confirmed",
                )
                .exists()
            )
            rows = session.execute(
                select(
                    RecordingRow.id,
                    RecordingRow.path_raw,
                    RecordingRow.size,
                    RecordingRow.mtime_ns,
                    RecordingRow.blake3,
                    RecordingRow.object_key,
                    RecordingRow.session_id,
                    RecordingRow.expired_at.is_(None) & held,
                    confirmed,
                    RecordingRow.expired_at.is_(None) & elsewhere,
                ).where(RecordingRow.serial == serial)
            )
            return [
                ClearCandidate(
                    r[0],
                    bytes(r[1]),
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    bool(r[7]),
                    bool(r[8]),
                    bool(r[9]),
                )
                for r in rows
            ]

        return self.ledger.read(load)

    def holds_on(self, serial: str) -> int:
        return self.ledger.read(lambda session: _holds(session, serial))

    def announce_clearing(
        self, at: datetime, session_id: str, serial: str, blake3: str, details: dict[str, Any]
    ) -> int:
        """The candidate's object row is locked first, the lock hold placement takes
        (`ledger.holds.lock_objects`; object row, then the chain's advisory lock): a hold
        on any recording of these bytes is either seen here or placed only after the
        intent is committed. Holds on the recorder's other recordings are counted too, as
        committed when asked: they stop the rest of the clearing."""
        with self.ledger.transaction() as session:
            lock_objects(session, [blake3])
            held = _holds(session, serial)
            if not held:
                self.ledger.append_custody(
                    session, at, "recorder-file-clearing", session_id, dict(details)
                )
            return held


def _holds(session: Session, serial: str) -> int:
    """The recorder's recordings under an active hold."""
    query: Any = (
        select(func.count(func.distinct(HoldRow.recording_id)))
        .join(RecordingRow, RecordingRow.id == HoldRow.recording_id)
        .where(RecordingRow.serial == serial, HoldRow.released_at.is_(None))
    )
    return int(session.scalar(query) or 0)
