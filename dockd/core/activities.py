"""Activities that must be recorded (000:11, 001:6, 002:9, 003/A:4, 004:10), matched to
the recordings their officers made in their time window.

Audits keep finding dispatches with no footage; an activity whose window the officers'
recordings do not cover is what a supervisor must see. Pure: rows in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HEADER = ("id", "type", "badges", "unit", "start", "end", "place")


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    type: str
    badges: tuple[str, ...]
    unit: str
    start: datetime
    end: datetime
    place: str


@dataclass(frozen=True, slots=True)
class Footage:
    """One recording as matching needs it: whose, and when (corrected times)."""

    recording: int
    badge: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Coverage:
    activity: Activity
    recordings: tuple[int, ...]
    covered_s: float

    @property
    def window_s(self) -> float:
        return (self.activity.end - self.activity.start).total_seconds()

    @property
    def state(self) -> str:
        """'recorded', 'partial' or 'unrecorded' (no footage at all)."""
        if not self.recordings:
            return "unrecorded"
        return "recorded" if self.covered_s >= self.window_s else "partial"


def parse_row(line: int, row: Sequence[str]) -> Activity:
    """One CSV row; ValueError naming the line, the field and the fix."""
    if len(row) != len(HEADER):
        raise ValueError(
            f"line {line}: {len(row)} fields, expected {len(HEADER)} ({', '.join(HEADER)})"
        )
    ident, kind, badges, unit, start, end, place = (v.strip() for v in row)
    for field, value in (("id", ident), ("type", kind), ("badges", badges)):
        if not value:
            raise ValueError(f"line {line}: {field} is empty")
    times = []
    for field, value in (("start", start), ("end", end)):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"line {line}: {field} {value!r} is not an ISO time like 2026-03-03T09:00+08:00"
            ) from None
        if moment.tzinfo is None:
            raise ValueError(f"line {line}: {field} {value!r} has no UTC offset: add one (+08:00)")
        times.append(moment)
    if times[1] <= times[0]:
        raise ValueError(f"line {line}: end {end} is not after start {start}")
    officers = tuple(b.strip() for b in badges.split(";") if b.strip())
    return Activity(ident, kind, officers, unit, times[0], times[1], place)


def coverage(activity: Activity, footage: Iterable[Footage]) -> Coverage:
    """How much of the activity's window its officers' recordings cover (overlaps merged)."""
    spans: list[tuple[datetime, datetime]] = []
    ids: list[int] = []
    for f in footage:
        if f.badge not in activity.badges:
            continue
        start, end = max(f.start, activity.start), min(f.end, activity.end)
        if start < end:
            spans.append((start, end))
            ids.append(f.recording)
    covered = timedelta()
    reach = activity.start
    for start, end in sorted(spans):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return Coverage(activity, tuple(sorted(set(ids))), covered.total_seconds())


def unrecorded(covered: Iterable[Coverage], need_footage: Sequence[str]) -> list[Coverage]:
    """The activities that needed footage and have none, or only part of their window."""
    return [c for c in covered if c.activity.type in need_footage and c.state != "recorded"]
