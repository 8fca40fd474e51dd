"""The status page's reads of the ledger, as plain facts: no HTML, no assembly.

Every query goes through `Ledger.read` (which turns SQLAlchemy errors into LedgerError) and
is indexed, so that its cost does not grow with the years of recordings behind it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from dockd.adapters.ledger.mapping import drift_violation, session_line
from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.adapters.ledger.report import LedgerReport
from dockd.adapters.ledger.schema import CustodyEventRow, DockSessionRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.policy import PolicyPack
from dockd.core.status import Assignment, LedgerFacts, VerifyRun
from dockd.core.status_document import DriftVerdict
from dockd.core.views import DeadlineReport, RecordingView, SessionView


class StatusReads:
    """What the status service asks the ledger (`dockd.ports.StatusLedger`)."""

    def __init__(self, ledger: Ledger, registry: LedgerRegistry, report: LedgerReport) -> None:
        self.ledger = ledger
        self.registry = registry
        self.report = report

    def facts(self, since: datetime, week: datetime, slot_sessions: Collection[str]) -> LedgerFacts:
        """This station's: today's dock sessions (since `since`, or still running), bytes
        since `week`, the all-time counts, and the verdicts of the docked recorders' finished
        sessions. Other stations on a shared ledger show theirs on their own pages; the
        agency's late offloads come from `deadline_report`."""
        stations = self.ledger.stations()
        return self.ledger.read(lambda db: _facts(db, since, week, slot_sessions, stations))

    def verify_runs(self) -> list[VerifyRun]:
        """Every `dockd verify` (custody events store-verified), oldest first."""
        stations = self.ledger.stations()
        return self.ledger.read(lambda db: _verify_runs(db, stations))

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime
    ) -> DeadlineReport:
        """The agency's: the page shows every station's late offloads, each with its station."""
        return self.report.deadline_report(since, until, pack, now, agency=True)

    def assignments(self, serial: str) -> list[Assignment]:
        return [
            Assignment(c.name, c.badge, c.unit, since, until)
            for c, since, until in self.registry.custodians_at(serial)
        ]

    def session(self, session_id: str) -> SessionView | None:
        return self.ledger.session(session_id)

    def recordings(self, session_id: str) -> list[RecordingView]:
        return self.ledger.recordings(session_id)


def _facts(
    db: Session,
    since: datetime,
    week: datetime,
    slot_sessions: Collection[str],
    stations: Collection[str],
) -> LedgerFacts:
    mine = DockSessionRow.station.in_(stations)
    today = db.scalars(
        select(DockSessionRow)
        .options(selectinload(DockSessionRow.problems))
        .where(mine, or_(DockSessionRow.started_at >= since, DockSessionRow.state == "running"))
        .order_by(DockSessionRow.started_at.desc(), DockSessionRow.id)
    ).all()
    week_bytes = db.scalar(
        select(func.coalesce(func.sum(DockSessionRow.bytes_copied), 0)).where(
            mine, DockSessionRow.started_at >= week
        )
    )
    by_state: dict[str, int] = {}
    recordings = nbytes = 0
    for state, count, copied, copied_bytes in db.execute(
        select(
            DockSessionRow.state,
            func.count(),
            func.coalesce(func.sum(DockSessionRow.copied), 0),
            func.coalesce(func.sum(DockSessionRow.bytes_copied), 0),
        )
        .where(mine)
        .group_by(DockSessionRow.state)
    ):
        by_state[state] = int(count)
        recordings += int(copied)
        nbytes += int(copied_bytes)
    verdicts = {
        sid: cast(DriftVerdict, verdict)  # the query leaves out sessions without a verdict
        for sid, verdict in db.execute(
            select(DockSessionRow.id, DockSessionRow.drift_verdict).where(
                DockSessionRow.id.in_(slot_sessions),
                DockSessionRow.state != "running",
                DockSessionRow.drift_verdict.is_not(None),
            )
        )
    }
    return LedgerFacts(
        sessions_today=[session_line(row) for row in today],
        drift_today=[
            drift_violation(row)
            for row in today
            if row.drift_verdict in ("warn", "violation") and row.started_at >= since
        ],
        verdicts=verdicts,
        week_bytes=int(week_bytes or 0),
        recordings=recordings,
        bytes=nbytes,
        by_state=by_state,
    )


def _verify_runs(db: Session, stations: Collection[str]) -> list[VerifyRun]:
    """This station's verify runs (its own store's), oldest first."""
    runs = []
    for stamp, text in db.execute(
        select(CustodyEventRow.at, CustodyEventRow.details)
        .where(CustodyEventRow.station.in_(stations), CustodyEventRow.kind == "store-verified")
        .order_by(CustodyEventRow.at, CustodyEventRow.seq)
    ):
        details = json.loads(text)
        found = list(details.get("findings") or [])
        ok = details.get("ok")
        runs.append(
            VerifyRun(
                at=datetime.fromisoformat(stamp),
                checked=int(details.get("checked", 0)),
                ok=None if ok is None else int(ok),
                findings=[(str(f.get("object", "?")), str(f.get("problem", "?"))) for f in found],
            )
        )
    return runs
