"""Retention expiry: the one way evidence leaves the store, crash-safe.

Each object goes in three steps: the intent is committed to the custody chain,
the object is removed, the removal is marked (a second custody event). A crash
after the intent leaves it on the chain; the next run finishes every started
expiry the rule still allows (removing an object already gone is a no-op), so
nothing is ever deleted without a record.

The rule decides on the facts the custody chain holds: each candidate's row is checked
against its own events, and one that disagrees (a retain-until moved with a SQL shell, a
hold row deleted) keeps its object and is logged for the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from dockd.core.audit import RowDifference, confirm
from dockd.core.retention import Expirable, expirable
from dockd.ports import ExpiringStore, RetentionRecords

log = structlog.get_logger("dockd.services.retention")


@dataclass(frozen=True, slots=True)
class Expiry:
    item: Expirable
    finished: bool  # an expiry a previous run started and did not complete


class Retention:
    def __init__(
        self, records: RetentionRecords, store: ExpiringStore, clock: Callable[[], datetime]
    ) -> None:
        self.records = records
        self.store = store
        self.clock = clock

    def due(self, now: datetime) -> list[Expiry]:
        """What an expiry at `now` removes, as the rule decides: expiries a previous run
        started first. A started one the rule now forbids (a hold placed since) is left
        alone: its bytes may be gone, and `dockd verify` then says so, but a held object
        that is still there is never deleted."""
        allowed, _ = self.plan(now)
        return allowed

    def plan(self, now: datetime) -> tuple[list[Expiry], list[RowDifference]]:
        """What is due, and the candidates kept because their rows disagree with the chain."""
        candidates = self.records.candidates(now)
        copies, disputed = confirm(
            candidates, self.records.vouching(c.recording for c in candidates)
        )
        for found in disputed:
            log.warning(
                "retention-disputed",
                table=found.table,
                id=found.id,
                field=found.field,
                chain=found.vouched,
                row=found.row,
                message="kept: the ledger row disagrees with its custody chain",
            )
        allowed = expirable(copies, now)
        started = {item.blake3 for item in self.records.started()}
        due = sorted(
            (Expiry(item, item.blake3 in started) for item in allowed),
            key=lambda e: not e.finished,
        )
        return due, disputed

    def expire(
        self,
        by: str,
        done: Callable[[Expiry], None] = lambda _: None,
        disputed: Callable[[RowDifference], None] = lambda _: None,
    ) -> list[Expiry]:
        """Remove every due object; `done` is told of each as soon as it is marked,
        `disputed` of each candidate kept because its row disagrees with the chain."""
        due, kept = self.plan(self.clock())
        for found in kept:
            disputed(found)
        for expiry in due:
            if not expiry.finished:
                self.records.record_intent(expiry.item, self.clock(), by)
            self.store.remove_expired(expiry.item.key)
            self.records.mark_expired(expiry.item, self.clock(), by)
            done(expiry)
        return due
