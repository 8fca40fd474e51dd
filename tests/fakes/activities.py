"""The agency's activity list in memory: records what was asked of it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from dockd.core.activities import Activity, Matching
from dockd.core.policy import PolicyPack
from dockd.errors import DockdError


class FakeActivityRecords:
    def __init__(self, fail: DockdError | None = None) -> None:
        self.calls: list[tuple[str, datetime, datetime | None, str]] = []
        self.fail = fail

    def existing(self, ids: Collection[str]) -> dict[str, Activity]:
        return {}

    def add(
        self, activities: Sequence[Activity], pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        return Matching((), (), 0, ())

    def rematch(self, since: datetime, pack: PolicyPack, at: datetime, by: str) -> Matching:
        self.calls.append(("rematch", since, None, by))
        return Matching((), (), 0, ())

    def match_window(
        self, since: datetime, until: datetime, pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        if self.fail is not None:
            raise self.fail
        self.calls.append(("match_window", since, until, by))
        return Matching((), (), 1, ())
