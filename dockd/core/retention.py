"""Retention: how long a recording must be kept, and whether it may leave the store.

Periods are calendar months from the recording's end (a year is never 365 days
when it spans 29 February): nothing may be deleted a day early. A hold (a case
number, or a long-term reason from the pack) stops expiry whatever the date.
One object may be the bytes of several recordings: it leaves only when every one
of them may go.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """One recording whose bytes are the object `blake3`, as the ledger holds it now."""

    recording: int
    blake3: str
    key: str
    retain_until: datetime | None
    active_holds: int


@dataclass(frozen=True, slots=True)
class Expirable:
    """An object that may leave the store; `retain_until` is the latest of its recordings."""

    blake3: str
    key: str
    retain_until: datetime


def expirable(copies: Iterable[StoredCopy], now: datetime) -> list[Expirable]:
    """The objects every recording of which `may_expire`, the earliest first.

    `copies` must hold every unexpired recording of each candidate object: a recording
    left out could be one that stays."""
    by_object: dict[str, list[StoredCopy]] = {}
    for copy in copies:
        by_object.setdefault(copy.blake3, []).append(copy)
    out = []
    for blake3, group in by_object.items():
        dated = [(c, c.retain_until) for c in group if c.retain_until is not None]
        if len(dated) < len(group):
            continue  # a recording without a retention date is kept
        stays = [not may_expire(until, now, c.active_holds, False) for c, until in dated]
        if all(
            may_expire(until, now, c.active_holds, any(stays[:i] + stays[i + 1 :]))
            for i, (c, until) in enumerate(dated)
        ):
            out.append(Expirable(blake3, group[0].key, max(until for _, until in dated)))
    return sorted(out, key=lambda e: e.retain_until)
