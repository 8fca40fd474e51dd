"""The custody log: append-only, hash-chained events about every piece of evidence.

Each station keeps its own chain on the ledger, so docks sharing one PostgreSQL
ledger never wait on each other's appends. A station's appends are serialised
(SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock keyed by the station id) so
concurrent slots and a CLI running beside the daemon can never fork its chain.
With a station key handed in, the station registers the key at its first write
(`stations.py`), and a signed checkpoint of its head follows every session end and,
at least hourly, any event, in the same transaction: a chain rewritten without the
key no longer matches its checkpoints.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from blake3 import blake3
from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session

from dockd.adapters.ledger.engine import LedgerEngine
from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import CustodyEventRow, StationRow
from dockd.adapters.ledger.stations import registered
from dockd.core.chains import KEY_MISMATCH, REGISTERED, RegisteredStation
from dockd.core.custody import LEGACY_STATION, CustodyEvent, canonical_json, event_hash, genesis
from dockd.core.signing import CHECKPOINT, checkpoint_body, checkpoint_due
from dockd.ports import Signer

#: inserted through the table (SQLAlchemy Core): the ORM's bulk path cost more per event
#: than its hash
_EVENTS = cast(Table, CustodyEventRow.__table__)


def chain_lock(station: str) -> int:
    """The PostgreSQL advisory lock of one station's chain (a signed 64-bit key; two ids
    sharing one would only queue on each other, never fork a chain)."""
    return int.from_bytes(
        blake3(b"dockd custody chain\n" + station.encode("utf-8")).digest()[:8],
        "big",
        signed=True,
    )


class CustodyLedger(LedgerEngine):
    """The ledger's custody chains; every aggregate's writes extend this station's chain
    in their transaction."""

    station: str = LEGACY_STATION
    _signer: Signer | None = None
    _checkpointed: datetime | None = None  # the newest checkpoint's time, once looked up
    _registered = False  # this station's key is in the registry (or its mismatch recorded)

    def sign_checkpoints(self, signer: Signer) -> None:
        self._signer = signer

    def append_custody(
        self,
        session: Session,
        at: datetime,
        kind: str,
        subject: str,
        details: dict[str, Any],
        actor: str = "dockd",
    ) -> None:
        self.append_custody_many(session, [(at, kind, subject, details)], actor)

    def append_custody_many(
        self,
        session: Session,
        events: Sequence[tuple[datetime, str, str, dict[str, Any]]],
        actor: str = "dockd",
    ) -> None:
        """Events (at, kind, subject, details) in this order, in one insert: a batch of
        recordings writes thousands, and an ORM object each cost more than its hash."""
        if not events:
            return
        self._open_chain(session, events[0][0])
        rows: list[dict[str, Any]] = []
        for at, kind, subject, details in events:
            seq, prev = session.info["custody_head"]
            seq += 1
            stamp = at.isoformat()
            digest = event_hash(prev, seq, stamp, kind, subject, actor, details)
            rows.append(
                {
                    "station": self.station,
                    "seq": seq,
                    "at": stamp,
                    "kind": kind,
                    "subject": subject,
                    "actor": actor,
                    "details": canonical_json(details).decode("utf-8"),
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            session.info["custody_head"] = (seq, digest)
            if self._signer is not None and checkpoint_due(
                kind, at, self._last_checkpoint(session)
            ):
                session.execute(insert(_EVENTS), rows)
                rows = []
                self._checkpoint(session, self._signer, at, seq, digest)
        if rows:
            session.execute(insert(_EVENTS), rows)

    def register_station(self, at: datetime) -> None:
        """At start, before anything is docked: this station's key into the registry (or
        a changed key onto its chain) now rather than at its first write."""
        if self._signer is not None and not self._registered:
            with self.transaction() as session:
                self._open_chain(session, at)

    def _open_chain(self, session: Session, at: datetime) -> None:
        """Once per transaction: this station's chain locked, its head read, its key
        registered if it is not yet."""
        if "custody_head" in session.info:
            return
        if self.dialect == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": chain_lock(self.station)}
            )
        session.info["custody_head"] = self._head(session)
        if self._signer is not None and not self._registered:
            self._register(session, self._signer, at)

    def _head(self, session: Session) -> tuple[int, str]:
        last = session.execute(
            select(CustodyEventRow.seq, CustodyEventRow.hash)
            .where(CustodyEventRow.station == self.station)
            .order_by(CustodyEventRow.seq.desc())
            .limit(1)
        ).first()
        return (last[0], last[1]) if last else (0, genesis(self.station))

    def _register(self, session: Session, signer: Signer, at: datetime) -> None:
        """At the station's first signed write: its key into the registry, with an event in
        its chain; a key other than the registered one is recorded, never swapped in."""
        row = session.get(StationRow, self.station)
        presented = signer.fingerprint
        if row is None:
            row = StationRow(
                id=self.station,
                fingerprint=presented,
                public_key=signer.public_pem(),
                registered_at=at,
                host=socket.gethostname(),
            )
            session.add(row)
            session.flush()
            self.append_custody(session, at, REGISTERED, self.station, facts(row))
        elif row.fingerprint != presented:
            details = {"registered": row.fingerprint, "presented": presented}
            self.append_custody(session, at, KEY_MISMATCH, self.station, details)

        def committed(_: Session) -> None:
            self._registered = True

        event.listen(session, "after_commit", committed, once=True)

    def _last_checkpoint(self, session: Session) -> datetime | None:
        if self._checkpointed is None:
            stamp = session.scalar(
                select(CustodyEventRow.at)
                .where(CustodyEventRow.station == self.station, CustodyEventRow.kind == CHECKPOINT)
                .order_by(CustodyEventRow.seq.desc())
                .limit(1)
            )
            self._checkpointed = datetime.fromisoformat(stamp) if stamp else None
        return self._checkpointed

    def _checkpoint(
        self, session: Session, signer: Signer, at: datetime, seq: int, digest: str
    ) -> None:
        stamp = at.isoformat()
        signature = signer.sign(checkpoint_body(seq, digest, stamp))
        details = {
            "seq": seq,
            "hash": digest,
            "at": stamp,
            "key": signer.fingerprint,
            "signature": signature.hex(),
        }
        self.append_custody(session, at, CHECKPOINT, str(seq), details)

        def committed(_: Session) -> None:
            self._checkpointed = at

        event.listen(session, "after_commit", committed, once=True)

    def chain_head(self) -> tuple[int, str]:
        """This station's newest event's sequence number and hash (0 and the station's
        genesis when its chain is empty)."""
        return self.read(self._head)

    def registration(self) -> RegisteredStation | None:
        """This station's row in the stations registry, once it registered its key."""

        def load(session: Session) -> RegisteredStation | None:
            row = session.get(StationRow, self.station)
            return None if row is None else registered(row)

        return self.read(load)

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        with self.transaction() as session:
            self.append_custody(session, at, kind, subject, details)

    def custody_events(self, station: str | None = None) -> list[CustodyEvent]:
        """One station's chain, or (None) every chain, each in sequence order."""

        def load(session: Session) -> list[CustodyEvent]:
            query = select(CustodyEventRow).order_by(CustodyEventRow.station, CustodyEventRow.seq)
            if station is not None:
                query = query.where(CustodyEventRow.station == station)
            return [custody_event(r) for r in session.scalars(query)]

        return self.read(load)


def custody_event(row: CustodyEventRow) -> CustodyEvent:
    return CustodyEvent(
        row.seq,
        row.at,
        row.kind,
        row.subject,
        row.actor,
        json.loads(row.details),
        row.prev_hash,
        row.hash,
        row.station,
    )
