"""Retention: how long a recording must be kept, and whether it may leave the store.

Periods are calendar months from the recording's end (a year is never 365 days
when it spans 29 February): nothing may be deleted a day early. A hold (a case
number, or a long-term reason from the pack) stops expiry whatever the date.
"""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later; the month's last day when it has no such day,
    then the whole of that day, so the period is never cut short."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if moment.day <= last:
        return moment.replace(year=year, month=month)
    return moment.replace(
        year=year, month=month, day=last, hour=23, minute=59, second=59, microsecond=999999
    )


def retain_until(end: datetime, routine_months: int) -> datetime:
    return add_months(end, routine_months)


def may_expire(
    retain_until: datetime, now: datetime, active_holds: int, shared_with_kept: bool
) -> bool:
    """Only past its date, under no hold, and not the same bytes as a recording that stays."""
    return now > retain_until and active_holds == 0 and not shared_with_kept
