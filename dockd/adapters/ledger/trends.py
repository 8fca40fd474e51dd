"""The facts behind the report's per-unit charts: a month of offloads, drift findings and
recordings that may be missing, in three range queries on indexed times (recordings by
verified_at, dock sessions by started_at): a report costs a month of rows, not years."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.report import CustodyIndex
from dockd.adapters.ledger.schema import DockSessionRow, RecordingRow, SessionProblemRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.completeness import INCOMPLETE_CODES
from dockd.core.trends import OffloadFact, UnitEvent


class LedgerTrends:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def trend_facts(
        self, since: datetime, until: datetime
    ) -> tuple[list[OffloadFact], list[UnitEvent], list[UnitEvent]]:
        """Offloads, drift findings and possibly missing recordings in [since, until),
        each with the unit of the recorder's custodian at the time (as the report's
        sections name it)."""

        def load(s: Session) -> tuple[list[OffloadFact], list[UnitEvent], list[UnitEvent]]:
            who = CustodyIndex(s)
            offloads = [
                OffloadFact(who.of(serial, end)["unit"], verified, deadline, bool(late))
                for serial, end, verified, deadline, late in s.execute(
                    select(
                        RecordingRow.serial,
                        RecordingRow.end,
                        RecordingRow.verified_at,
                        RecordingRow.deadline,
                        RecordingRow.late,
                    ).where(
                        RecordingRow.verified_at >= since,
                        RecordingRow.verified_at < until,
                        RecordingRow.deadline.is_not(None),
                    )
                )
                if deadline is not None
            ]
            docked = (DockSessionRow.started_at >= since, DockSessionRow.started_at < until)
            drift = [
                UnitEvent(who.of(serial, at)["unit"], at)
                for serial, at in s.execute(
                    select(DockSessionRow.serial, DockSessionRow.started_at).where(
                        DockSessionRow.drift_verdict.in_(("warn", "violation")), *docked
                    )
                )
            ]
            missing = [
                UnitEvent(who.of(serial, at)["unit"], at)
                for serial, at in s.execute(
                    select(DockSessionRow.serial, DockSessionRow.started_at)
                    .join(SessionProblemRow, SessionProblemRow.session_id == DockSessionRow.id)
                    .where(SessionProblemRow.code.in_(sorted(INCOMPLETE_CODES)), *docked)
                )
            ]
            return offloads, drift, missing

        return self.ledger.read(load)
