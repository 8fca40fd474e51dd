"""In-memory twins of the retention ports: the ledger's records and the store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from dockd.core.retention import Expirable, StoredCopy


@dataclass
class FakeRetentionRecords:
    """Recordings as `StoredCopy`s, and the custody events expiry writes, in order."""

    copies: list[StoredCopy] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # kind, key, actor
    removed: set[str] = field(default_factory=set)  # blake3 of objects marked removed

    def candidates(self, now: datetime) -> list[StoredCopy]:
        """Deliberately generous (every recording of every unremoved object): the rule
        must decide, not the fetch."""
        return [c for c in self.copies if c.blake3 not in self.removed]

    def started(self) -> list[Expirable]:
        started = {key for kind, key, _ in self.events if kind == "intent"}
        return [
            Expirable(c.blake3, c.key, c.retain_until or datetime.min)
            for c in self.copies
            if c.key in started and c.blake3 not in self.removed
        ]

    def record_intent(self, item: Expirable, at: datetime, by: str) -> None:
        self.events.append(("intent", item.key, by))

    def mark_expired(self, item: Expirable, at: datetime, by: str) -> None:
        self.removed.add(item.blake3)
        self.events.append(("expired", item.key, by))

    def hold(self, recording: int) -> None:
        self.copies = [
            replace(c, active_holds=c.active_holds + 1) if c.recording == recording else c
            for c in self.copies
        ]


class StoreCrashed(Exception):
    """Stands in for the process dying inside the store call."""


@dataclass
class FakeStore:
    objects: set[str] = field(default_factory=set)
    crash_before: bool = False
    crash_after: bool = False

    def remove_expired(self, key: str) -> bool:
        if self.crash_before:
            raise StoreCrashed(key)
        there = key in self.objects
        self.objects.discard(key)
        if self.crash_after:
            raise StoreCrashed(key)
        return there
