"""The ledger's side of retention expiry: candidates, the intent, and the mark.

The SQL only fetches candidates (every unexpired recording of an object this
station's store holds, some recording of which is past its date);
`dockd.core.retention` decides. An expiry is two custody events around the
deletion, so a crash between them leaves the intent on the chain and the next
run finishes it. The candidates' own custody events (`vouching`) let the rule
decide on the facts the chain holds, not on rows anyone with a SQL shell could
have edited. Each station expires its own copies and finishes only its own intents;
an object (and its recordings) counts as expired once no station holds it any more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Session

from dockd.adapters.ledger.custody import custody_event
from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    CustodyEventRow,
    HoldRow,
    ObjectLocationRow,
    ObjectRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.custody import CustodyEvent, by_station, interleaved
from dockd.core.retention import Expirable, StoredCopy

INTENT = "object-expiry-started"
DONE = "object-expired"
VOUCHING = ("recording-verified", "hold-placed", "hold-released", "recording-reclassified")
"""The kinds of event whose subject is a recording id and whose facts decide its expiry."""
_BATCH = 500


class LedgerRetention:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def candidates(self, now: datetime) -> list[StoredCopy]:
        def load(s: Session) -> list[StoredCopy]:
            past = select(RecordingRow.blake3).where(
                RecordingRow.retain_until < now, RecordingRow.expired_at.is_(None)
            )
            holds = (
                select(func.count())
                .where(HoldRow.recording_id == RecordingRow.id, HoldRow.released_at.is_(None))
                .scalar_subquery()
            )
            rows = s.execute(
                select(
                    RecordingRow.id,
                    RecordingRow.blake3,
                    RecordingRow.object_key,
                    RecordingRow.retain_until,
                    holds,
                )
                .join(ObjectRow, ObjectRow.blake3 == RecordingRow.blake3)
                .where(
                    ObjectRow.removed_at.is_(None),
                    self.ledger.holds(RecordingRow.blake3),
                    RecordingRow.expired_at.is_(None),
                    RecordingRow.blake3.in_(past),
                )
                .order_by(RecordingRow.id)
            ).all()
            return [StoredCopy(r[0], r[1], r[2], r[3], r[4]) for r in rows]

        return self.ledger.read(load)

    def vouching(self, recordings: Iterable[int]) -> list[CustodyEvent]:
        """The custody events about these recordings that decide whether they may expire,
        found by subject, in chain order: no replay of the whole chain."""
        subjects = sorted({str(r) for r in recordings})

        def load(s: Session) -> list[CustodyEvent]:
            out: list[CustodyEvent] = []
            for start in range(0, len(subjects), _BATCH):
                rows = s.scalars(
                    select(CustodyEventRow).where(
                        CustodyEventRow.kind.in_(VOUCHING),
                        CustodyEventRow.subject.in_(subjects[start : start + _BATCH]),
                    )
                )
                out += [custody_event(r) for r in rows]
            # a hold placed at one station may be released at another: the stations'
            # chains interleaved by time, each in its own order
            return list(interleaved(by_station(sorted(out, key=_in_chain)).values()))

        return self.ledger.read(load)

    def started(self) -> list[Expirable]:
        """Expiries whose intent is on this station's chain but whose copy here is not
        marked removed (another station's intents are that station's to finish)."""
        stations = self.ledger.stations()

        def load(s: Session) -> list[Expirable]:
            out: dict[str, Expirable] = {}
            for event in s.scalars(
                select(CustodyEventRow)
                .where(CustodyEventRow.station.in_(stations), CustodyEventRow.kind == INTENT)
                .order_by(CustodyEventRow.at, CustodyEventRow.seq)
            ):
                details = json.loads(event.details)
                until = datetime.fromisoformat(details["retain_until"])
                out[details["blake3"]] = Expirable(details["blake3"], event.subject, until)
            if not out:
                return []
            held = set(
                s.scalars(
                    select(ObjectRow.blake3).where(
                        ObjectRow.blake3.in_(list(out)),
                        ObjectRow.removed_at.is_(None),
                        self.ledger.holds(ObjectRow.blake3),
                    )
                )
            )
            return [item for blake3, item in out.items() if blake3 in held]

        return self.ledger.read(load)

    def record_intent(self, item: Expirable, at: datetime, by: str) -> None:
        """Committed before the object is touched: no evidence leaves without a record."""
        with self.ledger.transaction() as s:
            self.ledger.append_custody(s, at, INTENT, item.key, _details(item), actor=by)

    def mark_expired(self, item: Expirable, at: datetime, by: str) -> None:
        """This station's copy is gone; the object and its recordings are expired only
        once no other station holds a copy either."""
        with self.ledger.transaction() as s:
            located = s.scalars(
                select(ObjectLocationRow).where(
                    ObjectLocationRow.blake3 == item.blake3,
                    ObjectLocationRow.removed_at.is_(None),
                )
            ).all()
            mine = set(self.ledger.stations())
            locations = [loc for loc in located if loc.station in mine]
            for location in locations:
                location.removed_at = at
            changed: list[DeclarativeBase] = [*locations]
            if all(loc.station in mine for loc in located):
                recordings = s.scalars(
                    select(RecordingRow).where(
                        RecordingRow.blake3 == item.blake3, RecordingRow.expired_at.is_(None)
                    )
                ).all()
                for recording in recordings:
                    recording.expired_at = at
                stored = s.get_one(ObjectRow, item.blake3)
                stored.removed_at = at
                changed = [stored, *recordings, *locations]
            s.flush()
            details = {**_details(item), **facts(*changed)}
            self.ledger.append_custody(s, at, DONE, item.key, details, actor=by)


def _in_chain(event: CustodyEvent) -> tuple[str, int]:
    return event.station, event.seq


def _details(item: Expirable) -> dict[str, object]:
    return {"blake3": item.blake3, "retain_until": item.retain_until.isoformat()}
