"""The ledger reads `dockd audit verify` needs: every station's chain, the registered
station keys, and every evidence row, each row encoded exactly as the custody events
encode it (`facts.row_fact`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import EVIDENCE_TABLES, row_fact
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.ledger.stations import registered, station_rows, verifier
from dockd.core.chains import RegisteredStation
from dockd.core.custody import LEGACY_STATION, CustodyEvent
from dockd.core.signing import Verify

_CHUNK = 1000


class LedgerAudit:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @property
    def evidence_tables(self) -> Sequence[str]:
        return [str(table.__tablename__) for table in EVIDENCE_TABLES]

    @property
    def station(self) -> str:
        return self.ledger.station

    def custody_events(self) -> list[CustodyEvent]:
        return self.ledger.custody_events()

    def stations(self) -> list[RegisteredStation]:
        return self.ledger.read(lambda s: [registered(row) for row in station_rows(s)])

    def owns_legacy(self) -> bool:
        return LEGACY_STATION in self.ledger.stations()

    def verifiers(self) -> dict[str, Verify]:
        def load(s: Session) -> dict[str, Verify]:
            out = {}
            for row in station_rows(s):
                verify = verifier(row.public_key)
                if verify is not None:
                    out[row.fingerprint] = verify
            return out

        return self.ledger.read(load)

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
