"""Calendar-month retention against dates written out by hand, not against a formula.

The oracle is a calendar read by a person: 31 January plus one month is the end of
28 February (29 in a leap year), a period that would end on a day the month lacks runs
to the end of that month's last day, 2100 is no leap year and 2000 was. Nothing here
computes a month index, so a shared mistake with dockd/core/retention.py cannot pass.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dockd.core.retention import may_expire, retain_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("end", "months", "kept_until"),
    [
        # the same date exists: same date, same time
        (at(2026, 5, 23, 1, 2, 3), 36, at(2029, 5, 23, 1, 2, 3)),
        (at(2026, 12, 15, 8), 1, at(2027, 1, 15, 8)),
        (at(2026, 7, 31, 18), 12, at(2027, 7, 31, 18)),
        (at(2026, 1, 28, 9), 1, at(2026, 2, 28, 9)),
        (at(2026, 3, 31, 9), 0, at(2026, 3, 31, 9)),
        (at(2026, 6, 30, 23, 59, 59), 6, at(2026, 12, 30, 23, 59, 59)),
        (at(2026, 4, 1, 0, 0), 120, at(2036, 4, 1, 0, 0)),
        # a year spanning 29 February is 366 days, and still ends on the same date
        (at(2027, 3, 1, 10), 12, at(2028, 3, 1, 10)),
        # month ends: the month has no such day, so the whole of its last day
        (at(2026, 1, 31, 10), 1, end_of(2026, 2, 28)),
        (at(2026, 1, 30, 10), 1, end_of(2026, 2, 28)),
        (at(2026, 1, 29, 10), 1, end_of(2026, 2, 28)),
        (at(2026, 3, 31, 0, 0), 1, end_of(2026, 4, 30)),
        (at(2026, 5, 31, 12), 1, end_of(2026, 6, 30)),
        (at(2026, 3, 31, 0, 0), 6, end_of(2026, 9, 30)),
        (at(2026, 8, 31, 9, 30), 6, end_of(2027, 2, 28)),
        (at(2026, 11, 30, 7), 3, end_of(2027, 2, 28)),
        (at(2026, 12, 31, 7), 2, end_of(2027, 2, 28)),
        (at(2026, 10, 31, 7), 1, end_of(2026, 11, 30)),
        # leap years: February has a 29th
        (at(2028, 1, 31, 10), 1, end_of(2028, 2, 29)),
        (at(2028, 1, 29, 10), 1, at(2028, 2, 29, 10)),
        (at(2027, 12, 31, 10), 2, end_of(2028, 2, 29)),
        (at(2027, 8, 30, 10), 6, end_of(2028, 2, 29)),
        # ending on 29 February: kept to the 28th's end in a common year, the 29th in a leap one
        (at(2028, 2, 29, 10), 12, end_of(2029, 2, 28)),
        (at(2028, 2, 29, 10), 6, at(2028, 8, 29, 10)),
        (at(2028, 2, 29, 10), 48, at(2032, 2, 29, 10)),
        (at(2028, 2, 29, 10), 36, end_of(2031, 2, 28)),
        # centuries: 2100 is not a leap year, 2000 was
        (at(2096, 2, 29, 10), 48, end_of(2100, 2, 28)),
        (at(1996, 2, 29, 10), 48, at(2000, 2, 29, 10)),
        (at(2099, 12, 31, 10), 2, end_of(2100, 2, 28)),
    ],
)
def test_kept_until_the_hand_written_date(end: datetime, months: int, kept_until: datetime) -> None:
    assert retain_until(end, months) == kept_until


@pytest.mark.parametrize(
    ("end", "months", "last_kept", "first_free"),
    [
        (at(2026, 1, 31, 10), 1, end_of(2026, 2, 28), at(2026, 3, 1, 0, 0)),
        (at(2028, 1, 31, 10), 1, end_of(2028, 2, 29), at(2028, 3, 1, 0, 0)),
        (at(2028, 2, 29, 10), 12, end_of(2029, 2, 28), at(2029, 3, 1, 0, 0)),
        (at(2026, 8, 31, 9, 30), 6, end_of(2027, 2, 28), at(2027, 3, 1, 0, 0)),
        (at(2026, 5, 23, 1, 2, 3), 36, at(2029, 5, 23, 1, 2, 3), at(2029, 5, 23, 1, 2, 4)),
    ],
)
def test_nothing_leaves_the_store_a_moment_early(
    end: datetime, months: int, last_kept: datetime, first_free: datetime
) -> None:
    until = retain_until(end, months)
    assert not may_expire(until, last_kept, active_holds=0, shared_with_kept=False)
    assert may_expire(until, first_free, active_holds=0, shared_with_kept=False)
    assert not may_expire(until, first_free, active_holds=1, shared_with_kept=False)
    assert not may_expire(until, first_free, active_holds=0, shared_with_kept=True)


def test_the_recordings_zone_is_kept() -> None:
    """Periods run in the local calendar the recording ended in, not in UTC's."""
    # 1 February 00:30 in Shanghai is 31 January 16:30 in UTC, whose month later would be
    # the end of 28 February UTC (1 March 07:59:59.999999 in Shanghai)
    assert retain_until(at(2026, 2, 1, 0, 30), 1) == at(2026, 3, 1, 0, 30)
