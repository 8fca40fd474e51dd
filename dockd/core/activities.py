"""Activities that must be recorded (000:11, 001:6, 002:9, 003/A:4, 004:10), matched to
the recordings their officers made in their time window.

Audits keep finding dispatches with no footage; an activity whose window the officers'
recordings do not cover is what a supervisor must see. Pure: rows in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from dockd.core.policy import ActivityPolicy, RetentionPolicy
from dockd.core.retention import add_months

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
    def state(self) -> Literal["recorded", "partial", "unrecorded"]:
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


def parse_list(rows: Iterable[Sequence[str]]) -> list[Activity]:
    """A whole CSV (header first); ValueError listing every bad line, so one run finds all."""
    lines = iter(rows)
    header = tuple(v.strip().lower() for v in next(lines, ()))
    if header not in (HEADER, ("id", "type", "badge", *HEADER[3:])):
        raise ValueError(f"line 1: the header must be {','.join(HEADER)}, not {','.join(header)}")
    errors: list[str] = []
    found: dict[str, int] = {}
    out: list[Activity] = []
    for number, row in enumerate(lines, start=2):
        if not any(v.strip() for v in row):
            continue
        try:
            activity = parse_row(number, row)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if activity.id in found:
            errors.append(
                f"line {number}: id {activity.id} is already on line {found[activity.id]}: "
                "give each activity its own id"
            )
            continue
        found[activity.id] = number
        out.append(activity)
    if errors:
        raise ValueError("\n".join(errors))
    return out


def conflicts(new: Iterable[Activity], existing: Mapping[str, Activity]) -> list[str]:
    """Ids already imported with other facts: an imported activity is evidence, not edited.
    The same facts again are no conflict (a list imported twice is a no-op)."""
    return [
        f"id {a.id} was imported before with other facts: give the corrected activity a new id"
        for a in new
        if a.id in existing and not same(existing[a.id], a)
    ]


def same(a: Activity, b: Activity) -> bool:
    """Equal facts; times compared as instants (the ledger keeps them in UTC)."""
    return (a.id, a.type, a.badges, a.unit, a.place, a.start, a.end) == (
        b.id, b.type, b.badges, b.unit, b.place, b.start, b.end
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Kept:
    """A recording's retention as it stands: its class, its date, and when it ended."""

    recording: int
    retention_class: str | None
    retain_until: datetime | None
    end: datetime  # in the calendar its months are counted in


def reclassified(
    kept: Kept, types: Iterable[str], activities: ActivityPolicy, retention: RetentionPolicy
) -> tuple[str, datetime] | None:
    """The class and date footage of these activity types takes, or None if unchanged.

    002:18(1) gives routine patrol and inspection footage its own period, shorter than the
    routine one: when every activity the footage records maps to a class, the longest such
    class is the right one for it and its date follows, even if earlier. Footage of any
    other kind is routine (the longest), and routine never shortens what it has. Footage
    kept without a date stays so."""
    if kept.retain_until is None:
        return None
    kinds = sorted({activities.retention_class.get(t, t) for t in types})
    if not kinds:
        return None
    name, months = retention.months_for(kinds)
    until = add_months(kept.end, months)
    if name == "routine":
        if kept.retention_class in (None, "routine"):
            return None
        until = max(until, kept.retain_until)
    if (name, until) == (kept.retention_class, kept.retain_until):
        return None
    return name, until


@dataclass(frozen=True, slots=True)
class Reclassified:
    recording: int
    retention_class: str
    retain_until: datetime


@dataclass(frozen=True, slots=True)
class Matching:
    """What an import or a re-match did: activities added, recordings linked, reclassified."""

    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    linked: int
    reclassified: tuple[Reclassified, ...]
