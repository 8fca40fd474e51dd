"""In-memory twins of the retention ports: the ledger's records and the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from dockd.core.custody import GENESIS, CustodyEvent, event_hash
from dockd.core.retention import Expirable, StoredCopy


@dataclass
class FakeRetentionRecords:
    """Recordings as `StoredCopy`s, and the custody events expiry writes, in order.

    `chain` is each recording as its custody events vouch for it; `tamper` changes a
    row behind the chain's back, as a SQL shell would."""

    copies: list[StoredCopy] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # kind, key, actor
    removed: set[str] = field(default_factory=set)  # blake3 of objects marked removed
    chain: list[StoredCopy] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chain = self.chain or list(self.copies)

    def tamper(self, recording: int, **changes: Any) -> None:
        self.copies = [
            replace(c, **changes) if c.recording == recording else c for c in self.copies
        ]

    def vouching(self, recordings: Iterable[int]) -> list[CustodyEvent]:
        """One genuine recording-verified event per recording, one hold-placed per hold."""
        wanted = set(recordings)
        out: list[CustodyEvent] = []
        for copy in self.chain:
            if copy.recording not in wanted:
                continue
            until = copy.retain_until.isoformat() if copy.retain_until else None
            row = {
                "id": copy.recording,
                "blake3": copy.blake3,
                "object_key": copy.key,
                "retain_until": until,
                "expired_at": None,
            }
            out.append(
                _event(len(out) + 1, "recording-verified", copy.recording, "recordings", row)
            )
            for n in range(copy.active_holds):
                hold = {"id": n, "recording_id": copy.recording, "released_at": None}
                out.append(
                    _event(
                        len(out) + 1,
                        "hold-placed",
                        copy.recording,
                        "holds",
                        hold,
                        key=f"{copy.recording}-{n}",
                    )
                )
        return out

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
        """A hold placed through dockd: on the row and on the chain."""
        self.copies, self.chain = (
            [
                replace(c, active_holds=c.active_holds + 1) if c.recording == recording else c
                for c in copies
            ]
            for copies in (self.copies, self.chain)
        )


def _event(
    seq: int, kind: str, subject: int, table: str, row: dict[str, Any], key: str | None = None
) -> CustodyEvent:
    details = {"rows": [{"table": table, "id": key or str(row["id"]), "row": row}]}
    at = "2026-01-01T00:00:00+00:00"
    digest = event_hash(GENESIS, seq, at, kind, str(subject), "dockd", details)
    return CustodyEvent(seq, at, kind, str(subject), "dockd", details, GENESIS, digest)


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
