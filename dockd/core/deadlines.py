"""Offload deadlines: recording end + the pack's hours, or return from remote duty + hours.

The regulations let an officer working away offload within 24 h of returning
(000:24, 003/D:14, ...): an admin records the return time, and every recording
that officer made before it runs its deadline from the return instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Verdict:
    deadline: datetime
    late: bool
    late_by_s: float


def offload_deadline(end: datetime, hours: float, returns: Iterable[datetime] = ()) -> datetime:
    """The latest moment the recording may reach the store.

    `returns`: the officer's recorded returns from remote duty. The first return after
    the recording ended moves the deadline to that return + hours, never earlier.
    """
    window = timedelta(hours=hours)
    end = end.astimezone(UTC)  # elapsed hours, not wall-clock hours across a DST change
    deadline = end + window
    after = [t.astimezone(UTC) for t in returns if t >= end]
    if after:
        deadline = max(deadline, min(after) + window)
    return deadline


def judge(
    end: datetime, offloaded_at: datetime, hours: float, returns: Iterable[datetime] = ()
) -> Verdict:
    deadline = offload_deadline(end, hours, returns)
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
