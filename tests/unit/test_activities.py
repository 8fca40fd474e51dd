"""Matching activities to their officers' footage: the pure rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dockd.adapters.ledger.activities import RECLASSIFIED
from dockd.adapters.ledger.retention import VOUCHING
from dockd.core.activities import (
    Footage,
    Kept,
    conflicts,
    coverage,
    parse_list,
    parse_row,
    reclassified,
    unrecorded,
)
from dockd.core.policy import ActivityPolicy, RetentionPolicy

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


HEADER = ["id", "type", "badges", "unit", "start", "end", "place"]


def test_a_list_names_every_bad_line_and_a_repeated_id() -> None:
    bad = list(ROW)
    bad[5] = "2026-03-03T08:00+08:00"
    with pytest.raises(ValueError) as caught:
        parse_list([HEADER, ROW, bad, ["A-2", "patrol"], ROW])
    assert str(caught.value).splitlines() == [
        "line 3: end 2026-03-03T08:00+08:00 is not after start 2026-03-03T09:00+08:00",
        "line 4: 2 fields, expected 7 (id, type, badges, unit, start, end, place)",
        "line 5: id A-1 is already on line 2: give each activity its own id",
    ]


def test_a_list_needs_its_header() -> None:
    with pytest.raises(ValueError, match=r"^line 1: the header must be id,type,badges"):
        parse_list([ROW])


def test_the_same_facts_again_are_no_conflict_other_facts_are() -> None:
    first = parse_row(2, ROW)
    same_in_utc = parse_row(2, [*ROW[:4], "2026-03-03T01:00+00:00", "2026-03-03T02:00Z", ROW[6]])
    moved = parse_row(2, [*ROW[:6], "pier"])
    assert conflicts([same_in_utc], {"A-1": first}) == []
    assert conflicts([moved], {"A-1": first}) == [
        "id A-1 was imported before with other facts: give the corrected activity a new id"
    ]


# --- the retention class an activity gives its footage (002:18(1), Qidong) ---------------

QIDONG_RETENTION = RetentionPolicy(
    routine_months=12,
    classes={"patrol-inspection": 6},
    evidence="with-case-file",
    long_term_reasons=[],
    articles=["002:18"],
)
QIDONG_ACTIVITIES = ActivityPolicy(
    need_footage=["inspection", "patrol", "complaint"],
    retention_class={"inspection": "patrol-inspection", "patrol": "patrol-inspection"},
    articles=["002:9"],
)
END = datetime(2026, 8, 31, 10, 0, tzinfo=CST)
ROUTINE = Kept(7, "routine", datetime(2027, 8, 31, 10, 0, tzinfo=CST), END)


def test_patrol_footage_takes_its_own_shorter_class() -> None:
    # 31 August + 6 months: February has no 31st, so the whole of its last day
    got = reclassified(ROUTINE, ["patrol"], QIDONG_ACTIVITIES, QIDONG_RETENTION)
    assert got == ("patrol-inspection", datetime(2027, 2, 28, 23, 59, 59, 999999, tzinfo=CST))


def test_footage_also_of_another_kind_keeps_the_longest() -> None:
    assert (
        reclassified(ROUTINE, ["patrol", "complaint"], QIDONG_ACTIVITIES, QIDONG_RETENTION) is None
    )
    patrol = Kept(7, "patrol-inspection", datetime(2027, 2, 28, 23, 59, tzinfo=CST), END)
    got = reclassified(patrol, ["patrol", "complaint"], QIDONG_ACTIVITIES, QIDONG_RETENTION)
    assert got == ("routine", datetime(2027, 8, 31, 10, 0, tzinfo=CST))


def test_routine_never_shortens_a_date_already_longer() -> None:
    later = Kept(7, "patrol-inspection", datetime(2028, 1, 1, tzinfo=CST), END)
    got = reclassified(later, ["complaint"], QIDONG_ACTIVITIES, QIDONG_RETENTION)
    assert got == ("routine", datetime(2028, 1, 1, tzinfo=CST))


def test_no_class_in_the_pack_changes_nothing() -> None:
    none = ActivityPolicy(need_footage=["patrol"], articles=["002:9"])
    assert reclassified(ROUTINE, ["patrol"], none, QIDONG_RETENTION) is None
    undated = Kept(7, "routine", None, END)
    assert reclassified(undated, ["patrol"], QIDONG_ACTIVITIES, QIDONG_RETENTION) is None
    done = Kept(7, "patrol-inspection", datetime(2027, 2, 28, 23, 59, 59, 999999, tzinfo=CST), END)
    assert reclassified(done, ["inspection"], QIDONG_ACTIVITIES, QIDONG_RETENTION) is None


def test_expiry_reads_the_reclassification_among_a_recordings_own_events() -> None:
    assert RECLASSIFIED in VOUCHING
