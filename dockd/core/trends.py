"""Per-unit daily trends for the report's charts: offload delay against the deadline, and
late offloads, drift violations and recordings that may be missing, per day.

Supervisors would rather look than read (issue 15): a month of days per unit shows a unit
sliding towards its deadline before it misses it. Pure: the ledger gives the facts, this
puts them on days.

An offload's delay is counted from where its deadline's clock started (the deadline less
the pack's hours: the end of the working day, or a return from remote duty), so a delay
above the pack's hours is exactly a late offload, whatever the working day was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from pydantic import BaseModel, ConfigDict, Field

#: How many days a chart covers, ending with the report's last day.
TREND_DAYS = 30


@dataclass(frozen=True, slots=True)
class OffloadFact:
    """One recording's offload, as the ledger holds it."""

    unit: str | None
    offloaded_at: datetime
    deadline: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class UnitEvent:
    """A drift violation (at its docking) or a recording that may be missing (at the dock
    session that found it)."""

    unit: str | None
    at: datetime


class DayTrend(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date = Field(description="The local day (the station's offset at the report).")
    offloads: int
    worst_delay_h: float | None = Field(
        description="The longest offload delay of the day, in hours from the start of its "
        "deadline's clock; null: nothing offloaded that day."
    )
    late_offloads: int
    drift_violations: int
    missing_recordings: int

    @property
    def problems(self) -> int:
        return self.late_offloads + self.drift_violations + self.missing_recordings


class UnitTrend(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str | None = Field(description="null: recorders with no custodian on record.")
    deadline_h: float = Field(description="The pack's offload hours, the charts' line.")
    days: list[DayTrend]


class ReportTrends(BaseModel):
    """The charts' data: an object, not a list, so nobody counts it among the problems."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(description="How many local days each unit's series covers.")
    units: list[UnitTrend]


def trend_days(until: datetime, zone: tzinfo, count: int = TREND_DAYS) -> list[date]:
    """The `count` local days ending with the one `until` falls in, oldest first."""
    last = until.astimezone(zone).date()
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def window(days: Sequence[date], zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants the days cover: from the first day's midnight to after the last's."""
    start = datetime.combine(days[0], datetime.min.time(), zone)
    return start, datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), zone)


def unit_trends(
    offloads: Iterable[OffloadFact],
    drift: Iterable[UnitEvent],
    missing: Iterable[UnitEvent],
    days: Sequence[date],
    zone: tzinfo,
    deadline_h: float,
) -> list[UnitTrend]:
    """One trend per unit that had anything in the days, named units first (by name);
    facts outside the days are left out."""
    index = {day: n for n, day in enumerate(days)}
    tallies: dict[str | None, list[_Tally]] = {}

    def tally(unit: str | None, at: datetime) -> _Tally | None:
        n = index.get(at.astimezone(zone).date())
        if n is None:
            return None
        return tallies.setdefault(unit, [_Tally() for _ in days])[n]

    for fact in offloads:
        if (t := tally(fact.unit, fact.offloaded_at)) is not None:
            started = fact.deadline - timedelta(hours=deadline_h)
            delay = (fact.offloaded_at - started).total_seconds() / 3600
            t.offloads += 1
            t.worst = delay if t.worst is None else max(t.worst, delay)
            t.late += fact.late
    for event in drift:
        if (t := tally(event.unit, event.at)) is not None:
            t.drift += 1
    for event in missing:
        if (t := tally(event.unit, event.at)) is not None:
            t.missing += 1
    return [
        UnitTrend(
            unit=unit,
            deadline_h=deadline_h,
            days=[t.day(day) for day, t in zip(days, tallies[unit], strict=True)],
        )
        for unit in sorted(tallies, key=lambda u: (u is None, (u or "").casefold(), u or ""))
    ]


@dataclass(slots=True)
class _Tally:
    offloads: int = 0
    worst: float | None = None
    late: int = 0
    drift: int = 0
    missing: int = 0

    def day(self, day: date) -> DayTrend:
        worst = None if self.worst is None else round(self.worst, 2)
        return DayTrend(
            day=day,
            offloads=self.offloads,
            worst_delay_h=worst,
            late_offloads=self.late,
            drift_violations=self.drift,
            missing_recordings=self.missing,
        )
