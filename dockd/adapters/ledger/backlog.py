"""The ledger's side of the forwarding backlog: candidates for `dockd.core.backlog`.

Two indexed reads of this station's copies: the held objects grouped by their central
state (one row per state and error code, so the status page's poll does not grow with
the backlog), and the recordings whose central deadline may have passed. The SQL fetches
candidates; the pure rules decide what is backlog and what is late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.central import LedgerCentral
from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    DockSessionRow,
    ObjectLocationRow,
    ObjectRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.backlog import CentralCandidate, HeldGroup


class LedgerBacklog:
    """What this station's ledger says about its objects' central copies
    (`dockd.ports.BacklogRecords`)."""

    def __init__(self, ledger: Ledger, central: LedgerCentral | None = None) -> None:
        self.ledger = ledger
        self.central = central

    def lock_lags(self) -> list[datetime]:
        """When each lagging central lock, any station's, began to lag (none without the
        forwarding records)."""
        return self.central.lock_lags() if self.central is not None else []

    def held(self) -> list[HeldGroup]:
        """The objects this station's store holds, grouped by central state and error."""
        return self.ledger.read(self._held)

    def central_candidates(
        self, within: timedelta, since: datetime, until: datetime
    ) -> list[CentralCandidate]:
        """Recordings of this station's dock sessions offloaded more than `within` before
        `until` whose object it still holds unconfirmed, or that were confirmed since
        `since` (a recording freed here unconfirmed was expired by retention: not late)."""
        return self.ledger.read(lambda s: self._candidates(s, until - within, since))

    def _held(self, s: Session) -> list[HeldGroup]:
        rows = s.execute(
            select(
                CentralCopyRow.state,
                CentralCopyRow.error_code,
                func.count(),
                func.coalesce(func.sum(ObjectRow.size), 0),
                func.min(ObjectRow.stored_at),
            )
            .select_from(ObjectRow)
            .outerjoin(CentralCopyRow, CentralCopyRow.blake3 == ObjectRow.blake3)
            .where(ObjectRow.removed_at.is_(None), self.ledger.holds(ObjectRow.blake3))
            .group_by(CentralCopyRow.state, CentralCopyRow.error_code)
        )
        return [
            HeldGroup(state, code, int(n), int(nbytes), oldest)
            for state, code, n, nbytes, oldest in rows
        ]

    def _candidates(self, s: Session, due: datetime, since: datetime) -> list[CentralCandidate]:
        """Two reads, each bounded by what matters rather than by the years of recordings:
        the objects held here now (the station index of object_locations), and the copies
        confirmed since `since` (the state index: a copy's updated_at is never before its
        confirmed_at)."""
        stations = self.ledger.stations()
        columns = (
            RecordingRow.id,
            RecordingRow.serial,
            RecordingRow.path,
            RecordingRow.verified_at,
            CentralCopyRow.state,
            CentralCopyRow.confirmed_at,
            CentralCopyRow.error_code,
        )
        held_open = (
            select(*columns)
            .select_from(ObjectLocationRow)
            .join(RecordingRow, RecordingRow.blake3 == ObjectLocationRow.blake3)
            .join(DockSessionRow, DockSessionRow.id == RecordingRow.session_id)
            .outerjoin(CentralCopyRow, CentralCopyRow.blake3 == RecordingRow.blake3)
            .where(
                ObjectLocationRow.station.in_(stations),
                ObjectLocationRow.removed_at.is_(None),
                DockSessionRow.station.in_(stations),
                RecordingRow.verified_at < due,
                or_(CentralCopyRow.state.is_(None), CentralCopyRow.state != "confirmed"),
            )
        )
        confirmed_lately = (
            select(*columns)
            .select_from(CentralCopyRow)
            .join(RecordingRow, RecordingRow.blake3 == CentralCopyRow.blake3)
            .join(DockSessionRow, DockSessionRow.id == RecordingRow.session_id)
            .where(
                CentralCopyRow.state == "confirmed",
                CentralCopyRow.updated_at >= since,
                CentralCopyRow.confirmed_at >= since,
                DockSessionRow.station.in_(stations),
                RecordingRow.verified_at < due,
            )
        )
        found = {row[0]: CentralCandidate(*row) for row in s.execute(held_open)}
        found |= {row[0]: CentralCandidate(*row) for row in s.execute(confirmed_lately)}
        return sorted(found.values(), key=lambda c: (c.offloaded_at, c.recording))
