"""Offload deadlines: the end of the officer's working day + the pack's hours, or a return
from remote duty + hours.

The seeds count from the day's work, not from each clip: "在当天执法活动结束后" (after the
day's enforcement work ends, 000:24, 001:13, 002:16, 003/A:11, 003/D:14, 004:21). The day's
work ends with the officer's last recording of that local day, or at a duty-day end the pack
sets, whichever is later. An officer working away offloads within 24 h of returning
(000:24, 003/D:14, ...): an admin records the return time, and every recording that officer
made before it runs its deadline from the first return after it instead (never earlier
than the day's own deadline). The first return counts because the officer was back then,
even when a later return was entered first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Verdict:
    deadline: datetime
    late: bool
    late_by_s: float


def working_day_end(
    end: datetime,
    others: Iterable[datetime],
    zone: ZoneInfo,
    duty_day_end: time | None = None,
) -> datetime:
    """When the officer's working day that holds `end` ended.

    `others`: ends of the same officer's other recordings (any day; only those of the
    same local day in `zone` count). Never before `end` itself."""
    day = end.astimezone(zone).date()
    latest = end.astimezone(UTC)
    for other in others:
        if other.astimezone(zone).date() == day:
            latest = max(latest, other.astimezone(UTC))
    if duty_day_end is not None:
        latest = max(latest, datetime.combine(day, duty_day_end, zone).astimezone(UTC))
    return latest


def latest_each_day(ends: Iterable[datetime], zone: ZoneInfo) -> list[datetime]:
    """The last of `ends` on each local day in `zone`: all `working_day_end` looks at.

    A session's thousands of short clips would otherwise make every recording's day end
    a walk over every other recording's end."""
    latest: dict[date, datetime] = {}
    for end in ends:
        day = end.astimezone(zone).date()
        if day not in latest or end > latest[day]:
            latest[day] = end
    return list(latest.values())


def offload_deadline(
    end: datetime,
    hours: float,
    returns: Iterable[datetime] = (),
    day_end: datetime | None = None,
) -> datetime:
    """The latest moment the recording may reach the store.

    `day_end`: the end of the working day the recording belongs to (`working_day_end`);
    None: the recording's own end. `returns`: the officer's recorded returns from remote
    duty. The first return after the recording ended moves the deadline to that
    return + hours, never earlier.
    """
    window = timedelta(hours=hours)
    end = end.astimezone(UTC)  # elapsed hours, not wall-clock hours across a DST change
    base = max(end, day_end.astimezone(UTC)) if day_end is not None else end
    deadline = base + window
    after = [t.astimezone(UTC) for t in returns if t >= end]
    if after:
        deadline = max(deadline, min(after) + window)
    return deadline


def judge(
    end: datetime,
    offloaded_at: datetime,
    hours: float,
    returns: Iterable[datetime] = (),
    day_end: datetime | None = None,
) -> Verdict:
    deadline = offload_deadline(end, hours, returns, day_end)
    late_by = (offloaded_at - deadline).total_seconds()
    return Verdict(deadline, late_by > 0, max(0.0, late_by))


def overdue_by(
    last_docked: datetime | None, assigned_since: datetime, now: datetime, hours: float
) -> float | None:
    """How long past the deadline a recorder in someone's custody has gone without docking
    (it may carry footage not yet offloaded); None when it is not overdue."""
    since = max(last_docked, assigned_since) if last_docked else assigned_since
    late = (now - since - timedelta(hours=hours)).total_seconds()
    return late if late > 0 else None
