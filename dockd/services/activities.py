"""Activities that must be recorded (000:11, 001:6, 002:9, 003/A:4, 004:10): the agency's
case or dispatch list imported, each activity matched to its officers' footage.

An import is all or nothing: a list with one bad line is refused whole, with every bad
line named, so the ledger never holds half a day's dispatches. Importing the same list
again is a no-op (each id already there with the same facts is skipped); an id already
there with other facts is refused, since an imported activity is evidence, not edited.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from dockd.core.activities import Matching, conflicts, parse_list
from dockd.core.model import VerifiedRecording
from dockd.core.policy import PolicyPack
from dockd.errors import ActivityListError
from dockd.ports import ActivityRecords


class Activities:
    def __init__(
        self, records: ActivityRecords, policy: PolicyPack, clock: Callable[[], datetime]
    ) -> None:
        self.records = records
        self.policy = policy
        self.clock = clock

    def import_list(self, text: str, source: str, by: str) -> Matching:
        """Validate the whole list, then add and match its new activities in one go."""
        try:
            activities = parse_list(csv.reader(text.splitlines()))
        except ValueError as exc:
            raise ActivityListError("{source}:\n{exc}", source=source, exc=exc) from None
        existing = self.records.existing([a.id for a in activities])
        refused = conflicts(activities, existing)
        if refused:
            raise ActivityListError(f"{source}:\n" + "\n".join(refused))
        new = [a for a in activities if a.id not in existing]
        done = self.records.add(new, self.policy, self.clock(), by)
        return replace(
            done,
            added=tuple(a.id for a in new),
            unchanged=tuple(a.id for a in activities if a.id in existing),
        )

    def rematch(self, since: timedelta, by: str) -> Matching:
        """Match the period's activities again: footage docked after their list was."""
        now = self.clock()
        return self.records.rematch(now - since, self.policy, now, by)


def match_docked(
    records: ActivityRecords,
    recordings: Sequence[VerifiedRecording],
    pack: PolicyPack,
    at: datetime,
) -> Matching | None:
    """After a dock session: match the activities its recordings may cover, so the report
    never waits for a `dockd activities match`; None when nothing was copied."""
    if not recordings:
        return None
    starts = [t for r in recordings for t in (r.times.start, r.corrected_start) if t]
    ends = [t for r in recordings for t in (r.times.end, r.corrected_end) if t]
    return records.match_window(min(starts), max(ends), pack, at, "dockd")
