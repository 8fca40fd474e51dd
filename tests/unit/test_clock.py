"""Recorder clock arithmetic (dockd.core.clock): pure, no I/O.

Sign conventions, as dockd records them in court:
station offset_s = true − station; drift = recorder − true; corrected = reported − drift.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.adapters.rules import load_policy
from dockd.core.clock import (
    RecorderClock,
    clock_file_drift,
    corrected,
    drift_verdict,
    lower_bound_drift,
    parse_clock_text,
    true_time,
    wall_clock,
)
from dockd.core.recording import file_time as _file_time

RULES = Path(__file__).resolve().parents[2] / "rules"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
FORMAT = "%Y-%m-%d %H:%M:%S"  # rules/recorders/generic.toml clock_format
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WARN_S, VIOLATION_S = 2.0, 30.0  # every shipped pack's [clock] thresholds

# What dockd makes of Berlin wall-clock times around the 2026 DST changes (pinned by the
# wall_clock tests below; the integration test of a Berlin recorder checks the same).
BERLIN_SKIPPED_0230_UTC = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # read as 02:30+01:00
BERLIN_AMBIGUOUS_0230_UTC = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30+02:00, 1st


def fat_epoch(local: datetime) -> float:
    """The epoch a FAT mount (tz=UTC) shows for these naive local wall-clock fields."""
    return local.replace(tzinfo=UTC).timestamp()


def measured(drift_s: float | None) -> RecorderClock:
    return RecorderClock(drift_s, "clock-file", AT, "DEVCLOCK.TXT")


def lower_bound(drift_s: float) -> RecorderClock:
    return RecorderClock(drift_s, "newest-recording-lower-bound", AT, "a recording ahead")


UNKNOWN = RecorderClock(None, "unknown", AT, "no clock file")

# A drift as dockd measures it, rounded to the millisecond; up to ±28 years (a dead battery
# that reset the clock to 2000-01-01 is about 27 years behind in 2026).
drifts = st.floats(-9e8, 9e8).map(lambda d: round(d, 3))


def reported_times(*zones: tzinfo, since: int = 1990) -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(since, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(zones),
        allow_imaginary=False,
    )


# --- policy thresholds ---------------------------------------------------------------


@pytest.mark.parametrize("pack", sorted(p.stem for p in (RULES / "policies").glob("*.toml")))
def test_every_shipped_pack_has_the_clock_thresholds_these_tests_assume(pack: str) -> None:
    clock = load_policy(RULES, pack).clock
    assert (clock.drift_warn_s, clock.drift_violation_s) == (WARN_S, VIOLATION_S)
    assert clock.on_unsynchronised == "warn"


# --- true time, drift, corrected ----------------------------------------------------


def test_true_time_adds_the_station_offset_and_keeps_station_time_when_unknown() -> None:
    assert true_time(AT, 0.3) == AT + timedelta(seconds=0.3)  # NTP 0.3 s ahead of us
    assert true_time(AT, -1.5) == AT - timedelta(seconds=1.5)
    assert true_time(AT, None) == AT


def test_clock_file_drift_is_recorder_minus_true_time() -> None:
    reported = datetime(2026, 11, 23, 17, 1, 30, tzinfo=SHANGHAI)  # 09:01:30 UTC
    clock = clock_file_drift(reported, AT, AT, "DEVCLOCK.TXT")
    assert (clock.drift_s, clock.method, clock.measured) == (90.0, "clock-file", True)
    behind = clock_file_drift(reported - timedelta(hours=2), AT, AT, "DEVCLOCK.TXT")
    assert behind.drift_s == -7110.0
    ms = clock_file_drift(reported, AT + timedelta(microseconds=123_456), AT, "DEVCLOCK.TXT")
    assert ms.drift_s == 89.877  # rounded to the millisecond


# China kept DST from 1986 to 1991: from 2021 on, reported − 28 years stays after it.
@given(reported_times(UTC, SHANGHAI, ZoneInfo("Asia/Kolkata"), since=2021), drifts)
def test_corrected_plus_drift_is_reported_in_zones_without_dst(
    reported: datetime, drift: float
) -> None:
    fixed = corrected(reported, measured(drift))
    assert fixed is not None
    assert fixed + timedelta(seconds=drift) == reported
    assert reported.astimezone(UTC) - fixed.astimezone(UTC) == timedelta(seconds=drift)


def eu_dst_change(year: int, month: int) -> datetime:
    """01:00 UTC on the last Sunday of March or October: when Berlin changes its clocks."""
    last = datetime(year, month, 31, 1, tzinfo=UTC)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@st.composite
def near_berlin_dst_changes(draw: st.DrawFn) -> datetime:
    change = eu_dst_change(draw(st.integers(1996, 2099)), draw(st.sampled_from([3, 10])))
    return (change + timedelta(seconds=draw(st.integers(-3 * 3600, 3 * 3600)))).astimezone(BERLIN)


@given(near_berlin_dst_changes(), st.floats(-7200, 7200).map(lambda d: round(d, 3)))
def test_corrected_is_reported_minus_drift_as_instants_near_dst_changes(
    reported: datetime, drift: float
) -> None:
    """BUG (dockd/core/clock.py `corrected`): `reported - timedelta` on a ZoneInfo-aware
    datetime is wall-clock arithmetic in Python, so when reported and reported − drift lie
    on either side of a DST change the corrected instant is off by an hour."""
    fixed = corrected(reported, measured(drift))
    assert fixed is not None
    assert reported.astimezone(UTC) - fixed.astimezone(UTC) == timedelta(seconds=drift)


def test_corrected_across_the_berlin_dst_end_moves_the_instant_by_the_drift_only() -> None:
    """BUG: a recorder 90 s ahead names a clip 03:00:30 CET (02:00:30 UTC) on the night
    the clocks go back. The true start is 01:59:00 UTC; dockd says 00:59:00 UTC (03:00:30
    wall − 90 s = 02:59:00 wall, read as CEST) — an hour early, from a 90 s drift."""
    reported = datetime(2026, 10, 25, 3, 0, 30, tzinfo=BERLIN)
    assert reported.astimezone(UTC) == datetime(2026, 10, 25, 2, 0, 30, tzinfo=UTC)
    fixed = corrected(reported, measured(90.0))
    assert fixed is not None
    assert fixed.astimezone(UTC) == datetime(2026, 10, 25, 1, 59, 0, tzinfo=UTC)


@given(reported_times(UTC, SHANGHAI, BERLIN), drifts)
def test_lower_bound_and_unknown_give_no_corrected_time(reported: datetime, drift: float) -> None:
    assert corrected(reported, lower_bound(abs(drift) + 0.001)) is None
    assert corrected(reported, UNKNOWN) is None
    assert corrected(reported, measured(None)) is None


# --- verdicts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "verdict"),
    [
        (measured(1.0), "ok"),
        (measured(-1.0), "ok"),
        (measured(5.0), "warn"),
        (measured(-3600.0), "violation"),
        (measured(2.0), "warn"),  # the thresholds themselves count (>=)
        (measured(30.0), "violation"),
        (lower_bound(40.0), "violation"),  # at least 40 s off is a violation for sure
        (lower_bound(5.0), "warn"),  # at least 5 s off: at least a warning
        (lower_bound(1.0), "unknown"),  # at least 1 s: may be ok, may be far worse
        (UNKNOWN, "unknown"),
    ],
    ids=lambda v: v if isinstance(v, str) else f"{v.method}:{v.drift_s}",
)
def test_drift_verdicts(clock: RecorderClock, verdict: str) -> None:
    assert drift_verdict(clock, WARN_S, VIOLATION_S) == verdict


@given(st.floats(0.001, 1e9))
def test_a_lower_bound_never_proves_ok(ahead: float) -> None:
    assert drift_verdict(lower_bound(ahead), WARN_S, VIOLATION_S) != "ok"


@given(drifts)
def test_verdict_does_not_depend_on_the_sign_of_the_drift(drift: float) -> None:
    assert drift_verdict(measured(drift), WARN_S, VIOLATION_S) == drift_verdict(
        measured(-drift), WARN_S, VIOLATION_S
    )


# --- wall-clock (FAT) and instant (exFAT) file times --------------------------------


def test_wall_clock_reads_fat_fields_in_the_recorders_zone() -> None:
    """FAT keeps 08:15 local; the mount shows it as 08:15 UTC; in Shanghai it is 00:15 UTC."""
    local = wall_clock(fat_epoch(datetime(2026, 11, 22, 8, 15)), SHANGHAI)
    assert local.isoformat() == "2026-11-22T08:15:00+08:00"
    assert local.astimezone(UTC) == datetime(2026, 11, 22, 0, 15, tzinfo=UTC)


def test_wall_clock_in_the_skipped_hour_uses_the_offset_before_the_change() -> None:
    """2026-03-29 02:30 never happened in Berlin (02:00 CET → 03:00 CEST). dockd reads it
    with the offset before the change, +01:00: 01:30 UTC (what a recorder that missed the
    jump by up to an hour means)."""
    local = wall_clock(fat_epoch(datetime(2026, 3, 29, 2, 30)), BERLIN)
    assert local.isoformat() == "2026-03-29T02:30:00+01:00"
    assert local.astimezone(UTC) == BERLIN_SKIPPED_0230_UTC


def test_wall_clock_in_the_repeated_hour_takes_the_first_occurrence() -> None:
    """2026-10-25 02:30 happened twice in Berlin (CEST, then CET). dockd takes the first,
    +02:00: 00:30 UTC. The second (01:30 UTC) is not distinguishable from FAT fields."""
    local = wall_clock(fat_epoch(datetime(2026, 10, 25, 2, 30)), BERLIN)
    assert local.isoformat() == "2026-10-25T02:30:00+02:00"
    assert local.fold == 0
    assert local.astimezone(UTC) == BERLIN_AMBIGUOUS_0230_UTC


def test_exfat_style_times_are_instants_and_not_converted() -> None:
    instant = datetime(2026, 11, 22, 0, 15, 0, 500_000, tzinfo=UTC)
    ns = int(instant.timestamp()) * 10**9 + 500_000_000
    as_read = _file_time(ns, None)
    assert as_read == instant
    assert as_read is not None and as_read.utcoffset() == timedelta(0)
    # the same number on a FAT volume is wall-clock fields, read in the recorder's zone
    assert _file_time(ns, SHANGHAI) == instant - timedelta(hours=8)


def test_file_time_out_of_range_is_none_not_an_exception() -> None:
    beyond_year_9999 = 10**21
    assert _file_time(beyond_year_9999, None) is None
    assert _file_time(beyond_year_9999, SHANGHAI) is None
    assert _file_time(-(10**21), None) is None


# --- the clock file ------------------------------------------------------------------

GOOD = datetime(2026, 11, 22, 8, 15, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22 08:15:00",
        "2026-11-22 08:15:00\n",
        "2026-11-22 08:15:00\r\n",
        "  2026-11-22 08:15:00  \r\n\r\n",
        "2026-11-22 08:15:00\nfirmware 1.2.3\n",  # only the first line is the clock
    ],
    ids=["bare", "lf", "crlf", "padded", "more-lines"],
)
def test_parse_clock_text_good_lines(text: str) -> None:
    parsed = parse_clock_text(text, FORMAT, SHANGHAI)
    assert parsed == GOOD
    assert parsed is not None and parsed.tzinfo is SHANGHAI
    assert parsed.astimezone(UTC) == datetime(2026, 11, 22, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["", "\n", "garbage", "2026-11-22", "2026-13-22 08:15:00", "22/11/2026 08:15:00", "\x00" * 19],
)
def test_parse_clock_text_garbage_is_none(text: str) -> None:
    assert parse_clock_text(text, FORMAT, SHANGHAI) is None


@given(st.text(max_size=80))
def test_parse_clock_text_never_raises(text: str) -> None:
    parsed = parse_clock_text(text, FORMAT, SHANGHAI)
    assert parsed is None or parsed.tzinfo is SHANGHAI


def test_a_dead_battery_clock_parses_and_is_decades_behind() -> None:
    dead = parse_clock_text("2000-01-01 00:00:00\r\n", FORMAT, SHANGHAI)
    assert dead == datetime(2000, 1, 1, tzinfo=SHANGHAI)
    assert dead is not None
    clock = clock_file_drift(dead, AT, AT, "DEVCLOCK.TXT")
    assert clock.drift_s == (dead - AT).total_seconds()
    assert clock.drift_s is not None and clock.drift_s < -26 * 365 * 86400
    assert drift_verdict(clock, WARN_S, VIOLATION_S) == "violation"


# --- the lower bound from recording names ------------------------------------------


def test_newest_name_in_the_future_is_a_lower_bound() -> None:
    starts = [
        datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI),  # 08:00 UTC
        datetime(2026, 11, 23, 17, 10, tzinfo=SHANGHAI),  # 09:10 UTC: 600 s ahead
        datetime(2026, 11, 23, 17, 5, tzinfo=SHANGHAI),
    ]
    clock = lower_bound_drift(starts, AT, AT)
    assert (clock.method, clock.drift_s, clock.measured) == (
        "newest-recording-lower-bound",
        600.0,
        False,
    )
    assert clock.measured_at == AT
    assert "at least" in clock.detail
    assert corrected(starts[0], clock) is None
    assert drift_verdict(clock, WARN_S, VIOLATION_S) == "violation"


@pytest.mark.parametrize(
    "starts",
    [
        [],
        [datetime(2026, 11, 23, 16, 59, tzinfo=SHANGHAI)],  # a minute ago
        [datetime(2026, 11, 23, 17, 0, tzinfo=SHANGHAI)],  # exactly now: not "ahead"
        [datetime(2000, 1, 1, tzinfo=SHANGHAI), datetime(2025, 6, 1, tzinfo=UTC)],
    ],
    ids=["none", "past", "now", "old"],
)
def test_newest_name_in_the_past_says_nothing(starts: list[datetime]) -> None:
    clock = lower_bound_drift(starts, AT, AT)
    assert (clock.method, clock.drift_s, clock.measured) == ("unknown", None, False)
    assert drift_verdict(clock, WARN_S, VIOLATION_S) == "unknown"


@given(st.lists(reported_times(UTC, SHANGHAI), max_size=8))
def test_lower_bound_is_the_newest_start_ahead_of_true_time(starts: list[datetime]) -> None:
    clock = lower_bound_drift(starts, AT, AT)
    ahead = [s for s in starts if s > AT]
    if ahead:
        assert clock.method == "newest-recording-lower-bound"
        assert clock.drift_s == round((max(ahead) - AT).total_seconds(), 3)
    else:
        assert clock.method == "unknown" and clock.drift_s is None
