"""The custody log: append-only, hash-chained events about every piece of evidence.

Appends are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) so
concurrent slots and a CLI running beside the daemon can never fork the chain.
With a station key handed in, a signed checkpoint of the head follows every session
end and, at least hourly, any event, in the same transaction: a chain rewritten
without the key no longer matches its checkpoints.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from dockd.adapters.ledger.engine import LedgerEngine
from dockd.adapters.ledger.schema import CustodyEventRow
from dockd.core.custody import GENESIS, CustodyEvent, canonical_json, event_hash
from dockd.core.signing import CHECKPOINT, checkpoint_body, checkpoint_due
from dockd.ports import Signer

_CHAIN_LOCK = 0x646F636B  # "dock": the PostgreSQL advisory lock of the custody chain


class CustodyLedger(LedgerEngine):
    """The ledger's custody chain; every aggregate's writes extend it in their transaction."""

    _signer: Signer | None = None
    _checkpointed: datetime | None = None  # the newest checkpoint's time, once looked up

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
        head: tuple[int, str] | None = session.info.get("custody_head")
        if head is None:
            if self.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
            last = session.execute(
                select(CustodyEventRow.seq, CustodyEventRow.hash)
                .order_by(CustodyEventRow.seq.desc())
                .limit(1)
            ).first()
            head = (last[0], last[1]) if last else (0, GENESIS)
        seq, prev = head[0] + 1, head[1]
        stamp = at.isoformat()
        digest = event_hash(prev, seq, stamp, kind, subject, actor, details)
        session.add(
            CustodyEventRow(
                seq=seq,
                at=stamp,
                kind=kind,
                subject=subject,
                actor=actor,
                details=canonical_json(details).decode("utf-8"),
                prev_hash=prev,
                hash=digest,
            )
        )
        session.info["custody_head"] = (seq, digest)
        if self._signer is not None and checkpoint_due(kind, at, self._last_checkpoint(session)):
            self._checkpoint(session, self._signer, at, seq, digest)

    def _last_checkpoint(self, session: Session) -> datetime | None:
        if self._checkpointed is None:
            stamp = session.scalar(
                select(CustodyEventRow.at)
                .where(CustodyEventRow.kind == CHECKPOINT)
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
        """The newest event's sequence number and hash (0 and the genesis hash when empty)."""

        def load(session: Session) -> tuple[int, str]:
            last = session.execute(
                select(CustodyEventRow.seq, CustodyEventRow.hash)
                .order_by(CustodyEventRow.seq.desc())
                .limit(1)
            ).first()
            return (last[0], last[1]) if last else (0, GENESIS)

        return self.read(load)

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        with self.transaction() as session:
            self.append_custody(session, at, kind, subject, details)

    def custody_events(self) -> list[CustodyEvent]:
        def load(session: Session) -> list[CustodyEvent]:
            rows = session.scalars(select(CustodyEventRow).order_by(CustodyEventRow.seq))
            return [custody_event(r) for r in rows]

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
    )
