"""The pure policy core: offload deadlines and excuses, calendar-month retention and holds,
interruptions between clips, and overdue recorders. No ledger, no clock, no files."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.core.deadlines import (
    judge,
    latest_each_day,
    offload_deadline,
    overdue_by,
    working_day_end,
)
from dockd.core.gaps import Clip, find_gaps
from dockd.core.retention import add_months, may_expire, retain_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
END_OF_DAY: dict[str, Any] = {"hour": 23, "minute": 59, "second": 59, "microsecond": 999999}

moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=st.just(UTC),
)
offsets = st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30))
hours = st.sampled_from([1.0, 12.0, 24.0, 48.0]) | st.floats(min_value=0.01, max_value=240)


# --- deadlines ---------------------------------------------------------------------------


@given(end=moments, h=hours)
def test_deadline_is_end_plus_the_pack_hours(end: datetime, h: float) -> None:
    assert offload_deadline(end, h) == end + timedelta(hours=h)


@given(end=moments, h=hours, after=st.timedeltas(timedelta(0), timedelta(days=60)))
def test_a_return_after_the_end_moves_the_deadline_to_return_plus_hours(
    end: datetime, h: float, after: timedelta
) -> None:
    returned = end + after
    deadline = offload_deadline(end, h, [returned])
    assert deadline == returned + timedelta(hours=h)
    assert deadline >= offload_deadline(end, h), "an excuse never makes a deadline earlier"


@given(
    end=moments,
    h=hours,
    befores=st.lists(st.timedeltas(timedelta(microseconds=1), timedelta(days=60)), max_size=4),
)
def test_returns_before_the_end_change_nothing(
    end: datetime, h: float, befores: list[timedelta]
) -> None:
    assert offload_deadline(end, h, [end - b for b in befores]) == end + timedelta(hours=h)


@given(
    end=moments,
    h=hours,
    returns=st.lists(offsets, max_size=5),
)
def test_the_first_return_after_the_end_decides(
    end: datetime, h: float, returns: list[timedelta]
) -> None:
    times = [end + r for r in returns]
    later = [t for t in times if t >= end]
    expected = min(later) + timedelta(hours=h) if later else end + timedelta(hours=h)
    deadline = offload_deadline(end, h, times)
    assert deadline == expected
    assert deadline >= end + timedelta(hours=h)
    assert offload_deadline(end, h, list(reversed(times))) == deadline


@given(end=moments, h=hours, offloaded=offsets, returns=st.lists(offsets, max_size=3))
def test_late_and_late_by_agree(
    end: datetime, h: float, offloaded: timedelta, returns: list[timedelta]
) -> None:
    times = [end + r for r in returns]
    at = end + offloaded
    verdict = judge(end, at, h, times)
    assert verdict.deadline == offload_deadline(end, h, times)
    assert verdict.late == (at > verdict.deadline)
    assert verdict.late == (verdict.late_by_s > 0)
    assert verdict.late_by_s >= 0
    expected = max(0.0, (at - verdict.deadline).total_seconds())
    assert verdict.late_by_s == pytest.approx(expected, abs=1e-6)


def test_thirty_hours_after_the_end_is_six_hours_late_unless_excused() -> None:
    end = T0
    verdict = judge(end, end + timedelta(hours=30), 24)
    assert verdict.late and verdict.late_by_s == 6 * 3600
    excused = judge(end, end + timedelta(hours=30), 24, [end + timedelta(hours=20)])
    assert excused.deadline == end + timedelta(hours=44)
    assert not excused.late and excused.late_by_s == 0


def test_offload_exactly_at_the_deadline_is_on_time() -> None:
    verdict = judge(T0, T0 + timedelta(hours=24), 24)
    assert not verdict.late and verdict.late_by_s == 0


def test_the_day_ends_with_its_last_recording_in_the_officers_local_day() -> None:
    """000:24 当天执法活动结束后: 09:00 and 17:30 Shanghai on 3 March; 00:30 on the 4th is
    another day; 23:00 on the 2nd too."""
    morning = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 +08
    evening = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # 17:30 +08
    next_day = datetime(2026, 3, 3, 16, 30, tzinfo=UTC)  # 00:30 +08 on the 4th
    day_before = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 +08 on the 2nd
    others = [evening, next_day, day_before]
    assert working_day_end(morning, others, SHANGHAI) == evening
    assert working_day_end(evening, [morning], SHANGHAI) == evening
    assert working_day_end(next_day, others, SHANGHAI) == next_day
    day_end = working_day_end(morning, others, SHANGHAI)
    assert offload_deadline(morning, 24, (), day_end) == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert judge(morning, datetime(2026, 3, 4, 9, 30, tzinfo=UTC), 24, (), day_end).late is False
    assert judge(morning, datetime(2026, 3, 4, 9, 31, tzinfo=UTC), 24, (), day_end).late is True


_INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(end=_INSTANTS, others=st.lists(_INSTANTS, max_size=40))
def test_keeping_only_each_days_last_end_changes_no_working_day_end(
    end: datetime, others: list[datetime]
) -> None:
    """The copy hands `working_day_end` one end per local day instead of every clip's:
    the day ends must be the same, or deadlines would move."""
    reduced = latest_each_day(others, SHANGHAI)
    assert len({o.astimezone(SHANGHAI).date() for o in others}) == len(reduced)
    assert working_day_end(end, reduced, SHANGHAI) == working_day_end(end, others, SHANGHAI)


def test_a_duty_day_end_set_by_the_pack_is_the_earliest_the_day_ends() -> None:
    morning = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 +08
    late_clip = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # 20:00 +08
    duty = time(18, 0)
    assert working_day_end(morning, [], SHANGHAI, duty) == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert working_day_end(morning, [late_clip], SHANGHAI, duty) == late_clip


def test_a_return_still_moves_a_day_deadline_only_later() -> None:
    morning = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    day_end = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    early_return = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    late_return = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    assert offload_deadline(morning, 24, [early_return], day_end) == datetime(
        2026, 3, 4, 9, 30, tzinfo=UTC
    )
    assert offload_deadline(morning, 24, [late_return], day_end) == datetime(
        2026, 3, 6, 2, 0, tzinfo=UTC
    )


# --- retention -----------------------------------------------------------------------------


@given(a=moments, b=moments, months=st.integers(min_value=0, max_value=120))
def test_add_months_keeps_order(a: datetime, b: datetime, months: int) -> None:
    early, late = sorted((a, b))
    assert add_months(early, months) <= add_months(late, months)


@given(moment=moments, months=st.integers(min_value=0, max_value=120))
def test_add_months_grows_with_months(moment: datetime, months: int) -> None:
    assert add_months(moment, months) <= add_months(moment, months + 1)


@pytest.mark.parametrize(
    ("end", "months", "expected"),
    [
        (datetime(2026, 1, 31, 10), 1, datetime(2026, 2, 28, **END_OF_DAY)),
        (datetime(2028, 1, 31, 10), 1, datetime(2028, 2, 29, **END_OF_DAY)),
        (datetime(2028, 2, 29, 10), 12, datetime(2029, 2, 28, **END_OF_DAY)),
        (datetime(2028, 2, 29, 10), 48, datetime(2032, 2, 29, 10)),
        (datetime(2026, 8, 31, 9, 30), 6, datetime(2027, 2, 28, **END_OF_DAY)),
        (datetime(2026, 3, 31, 0, 0), 6, datetime(2026, 9, 30, **END_OF_DAY)),
        (datetime(2026, 5, 23, 1, 2, 3), 36, datetime(2029, 5, 23, 1, 2, 3)),
        (datetime(2026, 12, 15), 1, datetime(2027, 1, 15)),
    ],
)
def test_add_months_examples(end: datetime, months: int, expected: datetime) -> None:
    zoned = end.replace(tzinfo=SHANGHAI)
    assert add_months(zoned, months) == expected.replace(tzinfo=SHANGHAI)


@given(
    end=moments,
    months=st.sampled_from([6, 12, 36]) | st.integers(min_value=1, max_value=120),
)
def test_retain_until_is_never_shorter_than_28_days_a_month(end: datetime, months: int) -> None:
    until = retain_until(end, months)
    assert until - end >= timedelta(days=28 * months)


@given(
    until=moments,
    now=moments,
    holds=st.integers(min_value=0, max_value=3),
    shared=st.booleans(),
)
def test_may_expire_only_past_the_date_unheld_and_unshared(
    until: datetime, now: datetime, holds: int, shared: bool
) -> None:
    assert may_expire(until, now, holds, shared) == (now > until and holds == 0 and not shared)
    if holds or shared:
        assert not may_expire(until, now, holds, shared)
        assert not may_expire(until, until + timedelta(days=365 * 100), holds, shared)


def test_may_expire_not_on_the_last_day_itself() -> None:
    until = retain_until(T0, 6)
    assert not may_expire(until, until, 0, False)
    assert may_expire(until, until + timedelta(microseconds=1), 0, False)


# --- interruptions -----------------------------------------------------------------------

TOL, BREAK = 120.0, 4 * 3600.0


def clip(key: str, start_min: float, length_min: float) -> Clip:
    start = T0 + timedelta(minutes=start_min)
    return Clip(key, start, start + timedelta(minutes=length_min))


def test_a_clip_split_at_the_segment_length_is_not_a_gap() -> None:
    clips = [clip("a", 0, 15), clip("b", 15, 15), clip("c", 30, 7)]
    assert clips[1].start == clips[0].end
    assert find_gaps(clips, TOL, BREAK) == []


def test_a_ten_minute_hole_within_the_stretch_is_a_gap() -> None:
    (gap,) = find_gaps([clip("a", 0, 15), clip("b", 25, 5)], TOL, BREAK)
    assert (gap.before, gap.after) == ("a", "b")
    assert gap.start == T0 + timedelta(minutes=15)
    assert gap.end == T0 + timedelta(minutes=25)
    assert gap.seconds == 600


def test_holes_up_to_the_tolerance_are_not_gaps() -> None:
    clips = [clip("a", 0, 10), clip("b", 12, 10)]  # exactly 120 s
    assert find_gaps(clips, TOL, BREAK) == []


def test_a_hole_longer_than_the_duty_break_is_the_end_of_duty() -> None:
    clips = [clip("a", 0, 30), clip("b", 30 + 5 * 60, 10)]
    assert find_gaps(clips, TOL, BREAK) == []
    assert find_gaps([clip("a", 0, 30), clip("b", 30 + 240, 10)], TOL, BREAK) == []


def test_a_clip_inside_a_longer_one_leaves_no_hole() -> None:
    long, inner, after = clip("long", 0, 60), clip("inner", 10, 5), clip("after", 61, 5)
    assert find_gaps([long, inner, after], TOL, BREAK) == []
    # and the hole after the long clip is measured from its end, not the inner clip's
    (gap,) = find_gaps([long, inner, clip("late", 70, 5)], TOL, BREAK)
    assert (gap.before, gap.after, gap.seconds) == ("long", "late", 600)


def test_no_clips_or_one_clip_no_gaps() -> None:
    assert find_gaps([], TOL, BREAK) == []
    assert find_gaps([clip("a", 0, 5)], TOL, BREAK) == []


@st.composite
def clip_sets(draw: st.DrawFn) -> list[Clip]:
    count = draw(st.integers(min_value=0, max_value=8))
    out = []
    for i in range(count):
        start = draw(st.integers(min_value=0, max_value=600))
        length = draw(st.integers(min_value=0, max_value=60))
        out.append(clip(f"c{i}", start, length))
    return out


@given(data=st.data(), clips=clip_sets())
def test_input_order_does_not_matter(data: st.DataObject, clips: list[Clip]) -> None:
    shuffled = data.draw(st.permutations(clips))
    assert find_gaps(shuffled, TOL, BREAK) == find_gaps(clips, TOL, BREAK)


@given(clips=clip_sets())
def test_gaps_are_real_holes_in_coverage(clips: list[Clip]) -> None:
    """Every gap is a stretch no clip covers, longer than the tolerance, shorter than a break."""
    for gap in find_gaps(clips, TOL, BREAK):
        assert TOL < gap.seconds < BREAK
        for c in clips:
            assert c.end <= gap.start or c.start >= gap.end


# --- overdue recorders ---------------------------------------------------------------------


def test_a_recorder_that_never_docked_counts_from_its_assignment() -> None:
    assigned = T0
    assert overdue_by(None, assigned, assigned + timedelta(hours=23), 24) is None
    assert overdue_by(None, assigned, assigned + timedelta(hours=24), 24) is None
    assert overdue_by(None, assigned, assigned + timedelta(hours=30), 24) == 6 * 3600


def test_an_assignment_newer_than_the_last_dock_counts_from_the_assignment() -> None:
    docked = T0
    assigned = T0 + timedelta(hours=20)
    now = T0 + timedelta(hours=30)
    assert overdue_by(docked, assigned, now, 24) is None  # 10 h since it was handed over
    assert overdue_by(docked, assigned, now + timedelta(hours=16), 24) == 2 * 3600


def test_a_dock_after_the_assignment_counts_from_the_dock() -> None:
    assigned = T0
    docked = T0 + timedelta(hours=20)
    assert overdue_by(docked, assigned, T0 + timedelta(hours=30), 24) is None
    assert overdue_by(docked, assigned, T0 + timedelta(hours=50), 24) == 6 * 3600


@given(
    assigned=moments,
    dock=st.none() | offsets,
    elapsed=st.timedeltas(timedelta(0), timedelta(days=10)),
    h=hours,
)
def test_overdue_by_runs_from_the_later_of_dock_and_assignment(
    assigned: datetime, dock: timedelta | None, elapsed: timedelta, h: float
) -> None:
    docked = None if dock is None else assigned + dock
    since = assigned if docked is None else max(docked, assigned)
    now = since + elapsed
    late = overdue_by(docked, assigned, now, h)
    excess = (elapsed - timedelta(hours=h)).total_seconds()
    if excess > 0:
        assert late == pytest.approx(excess, abs=1e-6)
    else:
        assert late is None
