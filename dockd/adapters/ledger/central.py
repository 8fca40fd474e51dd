"""The ledger's side of forwarding: what this station must send or keep locked centrally,
and the record of what the central store confirmed.

The SQL fetches candidates and their facts (recordings' retain-until, open holds);
`dockd.core.forwarding` decides. Every write to `central_copies` or `object_locations`
carries the rows it wrote (`facts`) in a custody event of the same transaction, so
`dockd audit verify` vouches for them: `central-confirmed`, `central-failed`,
`central-lock-updated` (after `central-lock-upkeep-taken-over` when this station updates
another station's copy), `central-lock-failed`. Freeing a local copy has its own
transactions (`dockd.adapters.ledger.freeing`), judged on this module's facts. Where an
object lives is then read from the ledger alone: the stations whose location is not
removed, and `central` when its central copy is confirmed.

Lock upkeep is not only the sender's: `outgoing` also brings every other station's
confirmed copy whose lock may lag (`dockd.adapters.ledger.upkeep`), with the station that
sent it and when the lag began, for the pass to take over once overdue; `lock_lags` counts
them all for the backlog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.freeing import LedgerFreeing
from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    CentralUploadRow,
    DockSessionRow,
    HoldRow,
    ObjectRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.ledger.upkeep import changes, may_lag
from dockd.core.forwarding import (
    CentralCopy,
    CentralHead,
    ObjectLock,
    Outgoing,
    Step,
    central_key,
    lag_since,
    needed_lock,
    step,
)
from dockd.core.retention import retain_until

CONFIRMED = "central-confirmed"
FAILED = "central-failed"
LOCK_UPDATED = "central-lock-updated"
LOCK_FAILED = "central-lock-failed"
TAKEN_OVER = "central-lock-upkeep-taken-over"
_CHUNK = 2000  # BLAKE3s per IN list: far below any driver's bound-parameter limit


class LedgerCentral:
    """`routine_months` dates an object no dated recording covers (a manifest of a session
    without recordings): the pack's longest routine period from when it was stored."""

    def __init__(self, ledger: Ledger, prefix: str, routine_months: int) -> None:
        self.ledger = ledger
        self.prefix = prefix
        self.routine_months = routine_months
        freeing = LedgerFreeing(ledger, self._facts_now)
        self.record_freeing, self.mark_freed = freeing.record_freeing, freeing.mark_freed
        self.freeing_started, self.freed_here = freeing.freeing_started, freeing.freed_here

    def _wanted(self) -> ColumnElement[bool]:
        """SQL over `objects` joined to `central_copies`: held here, or sent from here and
        confirmed (its local copy may be freed, its lock still needs upkeep)."""
        sent_here = and_(
            CentralCopyRow.station.in_(self.ledger.stations()),
            CentralCopyRow.state == "confirmed",
        )
        return and_(
            ObjectRow.removed_at.is_(None), or_(self.ledger.holds(ObjectRow.blake3), sent_here)
        )

    def _lagging(self, s: Session) -> list[Outgoing]:
        """Every live object whose confirmed central copy, whoever sent it, may lag. The
        candidates are read once (a scan of the confirmed copies against their recordings
        and holds), then loaded in chunks by BLAKE3: the lagging are few, and the scan is
        not repeated by each of the loading's reads."""
        found = sorted(set(s.scalars(may_lag())))
        items: list[Outgoing] = []
        for start in range(0, len(found), _CHUNK):
            chunk = found[start : start + _CHUNK]
            items += self._load(
                s,
                and_(
                    ObjectRow.removed_at.is_(None),
                    CentralCopyRow.state == "confirmed",
                    CentralCopyRow.blake3.in_(chunk),
                ),
            )
        return items

    def outgoing(self) -> list[Outgoing]:
        """What this station sends or keeps locked, oldest first, then every other
        station's copy whose lock may lag (its `sender` named): the pass takes those over
        once overdue."""

        def load(s: Session) -> list[Outgoing]:
            items = self._load(s, self._wanted())
            known = {i.blake3 for i in items}
            return items + [i for i in self._lagging(s) if i.blake3 not in known]

        return self.ledger.read(load)

    def lock_lags(self) -> list[datetime]:
        """When each object's central lock, of any station, began to lag what the ledger
        wants (the backlog's "lock upkeep overdue")."""
        return self.ledger.read(
            lambda s: [i.lag_since for i in self._lagging(s) if i.lag_since is not None]
        )

    def wanted_lock(self, item: Outgoing) -> ObjectLock:
        """The lock the object needs by the ledger's facts now, read right before a lock is
        changed: a pass's facts can be minutes old, and another station may have acted on
        newer ones (a hold switched ON must not be switched OFF again from a stale read)."""

        def load(s: Session) -> ObjectLock:
            obj = s.get_one(ObjectRow, item.blake3)
            copy = s.get(CentralCopyRow, item.blake3)
            return self._lock_now(s, obj, copy)

        return self.ledger.read(load)

    def _facts_now(self, s: Session, blake3: str) -> tuple[ObjectLock, CentralCopy | None]:
        """The object's wanted lock and central copy as `s` reads them (a free's checks)."""
        obj = s.get_one(ObjectRow, blake3)
        copy = s.get(CentralCopyRow, blake3)
        return self._lock_now(s, obj, copy), (_copy(copy) if copy is not None else None)

    def _lock_now(self, s: Session, obj: ObjectRow, copy: CentralCopyRow | None) -> ObjectLock:
        wanted = select(ObjectRow.blake3).where(ObjectRow.blake3 == obj.blake3)
        dates, holds = self._covering(s, wanted)
        return self._lock(obj, copy, dates.get(obj.blake3, []), holds.get(obj.blake3, 0))

    def _load(self, s: Session, where: ColumnElement[bool]) -> list[Outgoing]:
        rows = s.execute(
            select(ObjectRow, CentralCopyRow, self.ledger.holds(ObjectRow.blake3))
            .outerjoin(CentralCopyRow, CentralCopyRow.blake3 == ObjectRow.blake3)
            .where(where)
            .order_by(ObjectRow.stored_at, ObjectRow.blake3)
        ).all()
        if not rows:
            return []
        wanted = (
            select(ObjectRow.blake3)
            .outerjoin(CentralCopyRow, CentralCopyRow.blake3 == ObjectRow.blake3)
            .where(where)
        )
        dates, holds = self._covering(s, wanted)
        mine = self.ledger.stations()
        items = [
            self._outgoing(
                obj,
                copy,
                local,
                dates.get(obj.blake3, []),
                holds.get(obj.blake3, 0),
                copy.station
                if copy is not None and copy.station not in mine and not local
                else None,
            )
            for obj, copy, local in rows
        ]
        lagging = {i.blake3: i for i in items if step(i) is Step.UPDATE_LOCK}
        changed = changes(s, lagging)
        updated = {copy.blake3: copy.updated_at for _, copy, _ in rows if copy is not None}
        return [
            replace(i, lag_since=lag_since(updated[i.blake3], changed.get(i.blake3, [])))
            if i.blake3 in lagging
            else i
            for i in items
        ]

    def _covering(
        self, s: Session, wanted: Select[Any]
    ) -> tuple[dict[str, list[datetime | None]], dict[str, int]]:
        """Per `wanted` object (a query of BLAKE3s), the retain-until of every recording it
        is (a manifest: of its session's recordings) and how many open holds cover them;
        only the recordings of wanted objects are read, whatever other stations share the
        ledger."""
        sessions = select(DockSessionRow.id, DockSessionRow.manifest_blake3).where(
            DockSessionRow.manifest_blake3.in_(wanted)
        )
        manifests = {session: digest for session, digest in s.execute(sessions)}
        covered = and_(
            RecordingRow.expired_at.is_(None),
            or_(
                RecordingRow.blake3.in_(wanted),
                RecordingRow.session_id.in_(sessions.with_only_columns(DockSessionRow.id)),
            ),
        )
        open_holds: dict[int, int] = defaultdict(int)
        for recording_id in s.scalars(
            select(HoldRow.recording_id)
            .join(RecordingRow, RecordingRow.id == HoldRow.recording_id)
            .where(HoldRow.released_at.is_(None), covered)
        ):
            open_holds[recording_id] += 1
        dates: dict[str, list[datetime | None]] = defaultdict(list)
        holds: dict[str, int] = defaultdict(int)
        for rid, digest, session, until in s.execute(
            select(
                RecordingRow.id,
                RecordingRow.blake3,
                RecordingRow.session_id,
                RecordingRow.retain_until,
            ).where(covered)
        ):
            for target in {digest, manifests.get(session)} - {None}:
                assert target is not None
                dates[target].append(until)
                holds[target] += open_holds[rid]
        return dates, holds

    def _outgoing(
        self,
        obj: ObjectRow,
        copy: CentralCopyRow | None,
        local: bool,
        dates: list[datetime | None],
        holds: int,
        sender: str | None,
    ) -> Outgoing:
        confirmed = copy if copy is not None and copy.state == "confirmed" else None
        return Outgoing(
            blake3=obj.blake3,
            sha256=obj.sha256,
            size=obj.size,
            local_key=obj.key,
            # a confirmed copy keeps the key it was stored under, whatever the prefix is now
            key=confirmed.key if confirmed else central_key(self.prefix, obj.key),
            lock=self._lock(obj, copy, dates, holds),
            copy=_copy(copy) if copy is not None else None,
            local=bool(local),
            sender=sender,
        )

    def _lock(
        self,
        obj: ObjectRow,
        copy: CentralCopyRow | None,
        dates: list[datetime | None],
        holds: int,
    ) -> ObjectLock:
        fallback = retain_until(obj.stored_at, self.routine_months)
        confirmed = copy.retain_until if copy is not None and copy.state == "confirmed" else None
        return needed_lock(dates, holds, fallback, confirmed)

    def _row(self, s: Session, item: Outgoing, at: datetime) -> CentralCopyRow:
        row = s.get(CentralCopyRow, item.blake3)
        if row is None:
            row = CentralCopyRow(
                blake3=item.blake3,
                station=self.ledger.station,
                key=item.key,
                state="pending",
                parts=0,
                legal_hold=False,
                attempts=0,
            )
            s.add(row)
        row.updated_at = at
        return row

    def record_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None:
        """Only a change is written: a failure repeated pass after pass (the same code) is
        the journal's to tell, not a new custody event each time."""
        with self.ledger.transaction() as s:
            known = s.get(CentralCopyRow, item.blake3)
            if known is not None and known.state == "confirmed":
                return  # a confirmed copy stays confirmed; the failure is logged
            if known is not None and known.state == "failed" and known.error_code == code:
                return
            row = self._row(s, item, at)
            row.state, row.error_code, row.error = "failed", code, message
            row.attempts += 1
            s.flush()
            details = {"key": item.key, "code": code, "message": message, **facts(row)}
            self.ledger.append_custody(s, at, FAILED, item.blake3, details)

    def record_confirmed(
        self, item: Outgoing, head: CentralHead, parts: int, adopted: bool, at: datetime
    ) -> None:
        with self.ledger.transaction() as s:
            row = self._row(s, item, at)
            row.station = self.ledger.station
            row.key, row.state, row.version_id = item.key, "confirmed", head.version_id
            row.checksum, row.parts = head.checksum, parts
            row.retain_until, row.legal_hold = head.retain_until, head.legal_hold
            row.foreign_hold = adopted and head.legal_hold and not item.lock.legal_hold
            row.confirmed_at, row.error_code, row.error = at, None, None
            row.attempts += 1
            s.flush()
            details = {"key": item.key, "adopted": adopted, **facts(row)}
            self.ledger.append_custody(s, at, CONFIRMED, item.blake3, details)

    def record_lock_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None:
        """On the confirmed row, which stays confirmed (the object is forwarded; its lock
        lags): only a change is written, as for `record_failed`."""
        with self.ledger.transaction() as s:
            row = s.get(CentralCopyRow, item.blake3)
            if row is None or row.state != "confirmed" or row.error_code == code:
                return
            row.error_code, row.error, row.updated_at = code, message, at
            s.flush()
            details = {"key": row.key, "code": code, "message": message, **facts(row)}
            self.ledger.append_custody(s, at, LOCK_FAILED, item.blake3, details)

    def record_lock(self, item: Outgoing, head: CentralHead, at: datetime) -> None:
        """Another station's copy (`item.sender`): the takeover is an event of this
        station's chain first, naming the sender and how long the lock had lagged."""
        with self.ledger.transaction() as s:
            row = s.get_one(CentralCopyRow, item.blake3)
            if item.sender is not None:
                details = {
                    "key": row.key,
                    "sender": item.sender,
                    "station": self.ledger.station,
                    "lag_since": item.lag_since.isoformat() if item.lag_since else None,
                }
                self.ledger.append_custody(s, at, TAKEN_OVER, item.blake3, details)
            row.error_code, row.error = None, None
            row.retain_until, row.legal_hold, row.updated_at = (
                head.retain_until,
                head.legal_hold,
                at,
            )
            s.flush()
            self.ledger.append_custody(s, at, LOCK_UPDATED, item.blake3, facts(row))

    def upload_started(self, key: str, upload_id: str, at: datetime) -> None:
        with self.ledger.transaction() as s:
            s.add(
                CentralUploadRow(
                    upload_id=upload_id, station=self.ledger.station, key=key, started_at=at
                )
            )

    def upload_ended(self, upload_ids: Collection[str]) -> None:
        if not upload_ids:
            return
        with self.ledger.transaction() as s:
            s.execute(
                delete(CentralUploadRow).where(
                    CentralUploadRow.station == self.ledger.station,
                    CentralUploadRow.upload_id.in_(list(upload_ids)),
                )
            )

    def unfinished_uploads(self) -> list[str]:
        return self.ledger.read(
            lambda s: list(
                s.scalars(
                    select(CentralUploadRow.upload_id).where(
                        CentralUploadRow.station == self.ledger.station
                    )
                )
            )
        )

    def copies(self) -> dict[str, CentralCopy]:
        """Every object's central copy the ledger knows, by BLAKE3 (`recordings --json`)."""
        return self.ledger.read(
            lambda s: {r.blake3: _copy(r) for r in s.scalars(select(CentralCopyRow))}
        )


def _copy(row: CentralCopyRow) -> CentralCopy:
    return CentralCopy(
        blake3=row.blake3,
        key=row.key,
        state=row.state,
        version_id=row.version_id,
        checksum=row.checksum,
        retain_until=row.retain_until,
        legal_hold=row.legal_hold,
        confirmed_at=row.confirmed_at,
        attempts=row.attempts,
        error_code=row.error_code,
        foreign_hold=bool(row.foreign_hold),
    )
