"""The custody log: append-only, hash-chained events about every piece of evidence.

Appends are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) so
concurrent slots and a CLI running beside the daemon can never fork the chain.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dockd.adapters.ledger.engine import LedgerEngine
from dockd.adapters.ledger.schema import CustodyEventRow
from dockd.core.custody import GENESIS, CustodyEvent, canonical_json, event_hash

_CHAIN_LOCK = 0x646F636B  # "dock": the PostgreSQL advisory lock of the custody chain


class CustodyLedger(LedgerEngine):
    """The ledger's custody chain; every aggregate's writes extend it in their transaction."""

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
