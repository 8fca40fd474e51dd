"""Retention expiry: the one way evidence leaves the store, crash-safe.

Each object goes in three steps: the intent is committed to the custody chain,
the object is removed, the removal is marked (a second custody event). A crash
after the intent leaves it on the chain; the next run finishes every started
expiry before it looks for new ones, so nothing is ever deleted without a record
and nothing recorded stays half done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dockd.core.retention import Expirable, expirable
from dockd.ports import ExpiringStore, RetentionRecords


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
        """What an expiry at `now` removes: started ones first, then what the rule allows."""
        started = self.records.started()
        begun = {item.blake3 for item in started}
        fresh = [
            item
            for item in expirable(self.records.candidates(now), now)
            if item.blake3 not in begun
        ]
        return [Expiry(i, True) for i in started] + [Expiry(i, False) for i in fresh]

    def expire(self, by: str, done: Callable[[Expiry], None] = lambda _: None) -> list[Expiry]:
        """Remove every due object; `done` is told of each as soon as it is marked."""
        due = self.due(self.clock())
        for expiry in due:
            if not expiry.finished:
                self.records.record_intent(expiry.item, self.clock(), by)
            self.store.remove_expired(expiry.item.key)
            self.records.mark_expired(expiry.item, self.clock(), by)
            done(expiry)
        return due
