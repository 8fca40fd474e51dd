"""The ledger reads `dockd audit verify` needs: the chain and every evidence row, each
row encoded exactly as the custody events encode it (`facts.row_fact`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import EVIDENCE_TABLES, row_fact
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.custody import CustodyEvent

_CHUNK = 1000


class LedgerAudit:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @property
    def evidence_tables(self) -> Sequence[str]:
        return [str(table.__tablename__) for table in EVIDENCE_TABLES]

    def custody_events(self) -> list[CustodyEvent]:
        return self.ledger.custody_events()

    def evidence_rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every row of every evidence table, streamed a chunk at a time."""

        def load(s: Session) -> dict[tuple[str, str], dict[str, Any]]:
            out: dict[tuple[str, str], dict[str, Any]] = {}
            for table in EVIDENCE_TABLES:
                rows = s.scalars(select(table).execution_options(yield_per=_CHUNK))
                for row in rows:
                    fact = row_fact(row)
                    out[(fact.table, fact.id)] = fact.fields
                s.expunge_all()
            return out

        return self.ledger.read(load)
