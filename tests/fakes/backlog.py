"""An in-memory twin of `dockd.ports.BacklogRecords`: held objects and recordings, fetched
as the ledger's SQL fetches them (grouped by central state; candidates by period)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dockd.core.backlog import CentralCandidate, HeldGroup


@dataclass(frozen=True)
class HeldObject:
    size: int
    stored_at: datetime
    state: str | None  # None: no central_copies row
    error_code: str | None = None


def grouped(objects: Iterable[HeldObject]) -> list[HeldGroup]:
    """What `GROUP BY state, error_code` with count, sum(size), min(stored_at) returns."""
    groups: dict[tuple[str | None, str | None], list[HeldObject]] = {}
    for o in objects:
        groups.setdefault((o.state, o.error_code), []).append(o)
    return [
        HeldGroup(state, code, len(g), sum(o.size for o in g), min(o.stored_at for o in g))
        for (state, code), g in groups.items()
    ]


@dataclass
class FakeBacklogRecords:
    objects: list[HeldObject] = field(default_factory=list)
    recordings: list[CentralCandidate] = field(default_factory=list)
    lags: list[datetime] = field(default_factory=list)  # when each lagging lock began to lag
    asked: int = 0

    def held(self) -> list[HeldGroup]:
        self.asked += 1
        return grouped(self.objects)

    def central_candidates(
        self, within: timedelta, since: datetime, until: datetime
    ) -> list[CentralCandidate]:
        return [
            c
            for c in self.recordings
            if c.offloaded_at < until - within
            and (c.state != "confirmed" or (c.confirmed_at is not None and c.confirmed_at >= since))
        ]

    def lock_lags(self) -> list[datetime]:
        return list(self.lags)
