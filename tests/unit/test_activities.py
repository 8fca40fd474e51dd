"""Matching activities to their officers' footage: the pure rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dockd.core.activities import Footage, coverage, parse_row, unrecorded

CST = timezone(timedelta(hours=8))
ROW = [
    "A-1",
    "inspection",
    "0421;0422",
    "unit 3",
    "2026-03-03T09:00+08:00",
    "2026-03-03T10:00+08:00",
    "harbour",
]


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 3, hour, minute, tzinfo=CST)


def test_a_row_parses_with_its_officers() -> None:
    activity = parse_row(2, ROW)
    assert activity.badges == ("0421", "0422")
    assert activity.start == at(9) and activity.end == at(10)


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (4, "2026-03-03T09:00", "line 7: start '2026-03-03T09:00' has no UTC offset"),
        (5, "2026-03-03T08:00+08:00", "line 7: end 2026-03-03T08:00+08:00 is not after start"),
        (4, "9 o'clock", 'line 7: start "9 o\'clock" is not an ISO time'),
        (2, " ", "line 7: badges is empty"),
    ],
)
def test_a_bad_row_names_its_line_and_the_fix(index: int, value: str, message: str) -> None:
    row = list(ROW)
    row[index] = value
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("+", r"\+")):
        parse_row(7, row)


def test_coverage_merges_overlaps_and_ignores_other_officers() -> None:
    activity = parse_row(2, ROW)
    footage = [
        Footage(1, "0421", at(8, 50), at(9, 30)),
        Footage(2, "0422", at(9, 20), at(9, 40)),
        Footage(3, "9999", at(9, 40), at(10)),
    ]
    got = coverage(activity, footage)
    assert got.recordings == (1, 2)
    assert got.covered_s == 40 * 60
    assert got.state == "partial"
    assert unrecorded([got], ["inspection"]) == [got]
    assert unrecorded([got], ["complaint"]) == []


def test_full_window_is_recorded_and_none_is_unrecorded() -> None:
    activity = parse_row(2, ROW)
    assert coverage(activity, [Footage(1, "0421", at(9), at(10))]).state == "recorded"
    assert coverage(activity, []).state == "unrecorded"
