"""The ledger's side of freeing a local copy once its central copy is confirmed: two
custody events around the deletion. `local-copy-freeing`, the intent, is committed
before the copy is set aside; then, in a transaction that serialises with hold
placement, `local-copy-freed` with the location rows, or `local-copy-free-abandoned`
with the reason when a hold appeared meanwhile. A crash between leaves the intent, and
the next pass finishes it.

Both transactions check the object's facts (holds, retention, central copy) under the
object row's lock that hold placement takes (`ledger.holds.lock_objects`: object rows
first, then the chain's advisory lock)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.holds import lock_objects
from dockd.adapters.ledger.schema import CentralCopyRow, CustodyEventRow, ObjectLocationRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.forwarding import CentralCopy, ObjectLock, Outgoing

#: the lock an object needs by the ledger's facts and its central copy, read in a session
FactsNow = Callable[[Session, str], tuple[ObjectLock, CentralCopy | None]]

FREEING = "local-copy-freeing"
FREED = "local-copy-freed"
FREE_ABANDONED = "local-copy-free-abandoned"


class LedgerFreeing:
    """`dockd.ports.FreeingRecords` over the ledger. `facts_now` is forwarding's own read
    of an object's wanted lock and central copy (`ledger.central`), so a free and a lock
    update judge the same facts."""

    def __init__(self, ledger: Ledger, facts_now: FactsNow) -> None:
        self.ledger = ledger
        self.facts_now = facts_now

    def record_freeing(self, item: Outgoing, at: datetime, *, resumed: bool = False) -> bool:
        """The object's holds, retention and central copy are read again in the intent's
        own transaction: a pass's facts can be hours old, and a hold placed or a retention
        grown since, or a central copy changed by another station, refuses the free
        (False, nothing written); the next pass decides again on fresh facts. `resumed`:
        the intent is already on the chain (a crash cut the free short): only the check
        is made."""
        with self.ledger.transaction() as s:
            if self._changed(s, item) is not None:
                return False
            if resumed:
                return True
            details = {"blake3": item.blake3, "key": item.local_key, "station": self.ledger.station}
            self.ledger.append_custody(s, at, FREEING, item.blake3, details)
            return True

    def _changed(self, s: Session, item: Outgoing) -> str | None:
        """Why the object's facts are no longer what `item` says, or None. Its row is
        locked first, as hold placement locks it before it writes: a hold is either seen
        here or placed only after this transaction has committed, and then the object's
        free is already recorded."""
        lock_objects(s, [item.blake3])
        lock, copy = self.facts_now(s, item.blake3)
        if lock.legal_hold != item.lock.legal_hold:
            return "hold-placed" if lock.legal_hold else "hold-released"
        if lock != item.lock:
            return "retention-changed"
        if copy != item.copy:
            return "central-copy-changed"
        return None

    def freeing_started(self) -> set[str]:
        """Only this station's own intents, each newer than the location it was about: an
        intent of another station holding the same bytes, or an old one of this station's
        for an object it holds again since, is no free of this copy. The events are joined
        to the live locations in SQL: a freed copy's intents are not read again."""

        def load(s: Session) -> set[str]:
            rows = s.execute(
                select(CustodyEventRow.subject, CustodyEventRow.at, ObjectLocationRow.since)
                .join(ObjectLocationRow, ObjectLocationRow.blake3 == CustodyEventRow.subject)
                .where(
                    CustodyEventRow.station == self.ledger.station,
                    CustodyEventRow.kind == FREEING,
                    ObjectLocationRow.station.in_(self.ledger.stations()),
                    ObjectLocationRow.removed_at.is_(None),
                )
            )
            return {b for b, at, since in rows if datetime.fromisoformat(at) >= since}

        return self.ledger.read(load)

    def mark_freed(self, item: Outgoing, at: datetime) -> str | None:
        """After the local copy was set aside, the facts once more, under the row lock
        hold placement takes: a hold placed since the intent abandons the free (its
        reason on the chain, the locations kept, the copy to be put back)."""
        with self.ledger.transaction() as s:
            reason = self._changed(s, item)
            if reason is not None:
                why = {
                    "blake3": item.blake3,
                    "key": item.local_key,
                    "station": self.ledger.station,
                    "reason": reason,
                }
                self.ledger.append_custody(s, at, FREE_ABANDONED, item.blake3, why)
                return reason
            locations = s.scalars(
                select(ObjectLocationRow).where(
                    ObjectLocationRow.blake3 == item.blake3,
                    ObjectLocationRow.station.in_(self.ledger.stations()),
                    ObjectLocationRow.removed_at.is_(None),
                )
            ).all()
            for location in locations:
                location.removed_at = at
            copy = s.get_one(CentralCopyRow, item.blake3)
            s.flush()
            details = {
                "blake3": item.blake3,
                "key": item.local_key,
                "station": self.ledger.station,
                "central_key": copy.key,
                "central_version": copy.version_id,
                **facts(*locations),
            }
            self.ledger.append_custody(s, at, FREED, item.blake3, details)
            return None

    def freed_here(self, blake3s: Collection[str]) -> set[str]:
        """Every location of this station marked removed: an object the ledger knows
        nothing of here, or holds here, is not among them (its set-aside copy is put back,
        the safe side)."""
        query = (
            select(ObjectLocationRow.blake3)
            .where(
                ObjectLocationRow.blake3.in_(list(blake3s)),
                ObjectLocationRow.station.in_(self.ledger.stations()),
            )
            .group_by(ObjectLocationRow.blake3)
            .having(func.count(ObjectLocationRow.removed_at) == func.count())
        )
        return self.ledger.read(lambda s: set(s.scalars(query))) if blake3s else set()
