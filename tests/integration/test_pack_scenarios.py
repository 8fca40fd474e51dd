"""One working day per shipped pack, judged by the pack as loaded from rules/policies.

The oracle is independent: every deadline and retention date below is written out by
hand from the seed's words (24 h after the day's last recording; N calendar months),
never computed with dockd's formula. Each boundary is tried on both sides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dockd.adapters.rules import load_policy
from dockd.core.deadlines import judge, working_day_end
from dockd.core.retention import may_expire, retain_until
from tests.conftest import REPO

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


#: The officer's day, 3 March 2026 in Shanghai: a clip at 09:00, the last at 17:30.
MORNING = local(2026, 3, 3, 9, 0)
EVENING = local(2026, 3, 3, 17, 30)


@pytest.mark.parametrize(
    ("pack_id", "last_on_time", "first_late"),
    [
        # 000:24 第一时间 after the day's work, read by dockd as 24 h from its end
        ("dalian-jinpu-ocean", local(2026, 3, 4, 17, 30), local(2026, 3, 4, 17, 31)),
        # 001:13, same words
        ("luoyang-water", local(2026, 3, 4, 17, 30), local(2026, 3, 4, 17, 31)),
        # 002:16 执法活动结束后 24 小时内
        ("qidong", local(2026, 3, 4, 17, 30), local(2026, 3, 4, 17, 31)),
        # 003/A:11, 003/D:14 当天执法活动结束后 24小时内
        ("mingshan-emergency", local(2026, 3, 4, 17, 30), local(2026, 3, 4, 17, 31)),
        # 004:21 第一时间, as 000:24
        ("dandong-civil-affairs", local(2026, 3, 4, 17, 30), local(2026, 3, 4, 17, 31)),
    ],
)
def test_the_mornings_clip_is_due_a_day_after_the_days_last_recording(
    pack_id: str, last_on_time: datetime, first_late: datetime
) -> None:
    pack = load_policy(REPO / "rules", pack_id)
    day_end = working_day_end(MORNING, [EVENING], SHANGHAI, pack.offload.duty_day_end)
    hours = pack.offload.deadline_hours
    assert not judge(MORNING, last_on_time, hours, (), day_end).late
    assert judge(MORNING, first_late, hours, (), day_end).late
    # a clip of the next day (00:30 on the 4th) does not stretch the 3rd
    next_day = local(2026, 3, 4, 0, 30)
    assert working_day_end(MORNING, [EVENING, next_day], SHANGHAI) == EVENING
    # a return from remote duty on the 5th at 10:00 moves it to the 6th at 10:00
    back = local(2026, 3, 5, 10, 0)
    assert not judge(MORNING, local(2026, 3, 6, 10, 0), hours, [back], day_end).late
    assert judge(MORNING, local(2026, 3, 6, 10, 1), hours, [back], day_end).late


@pytest.mark.parametrize(
    ("pack_id", "kinds", "kept_until"),
    [
        ("dalian-jinpu-ocean", [], local(2029, 3, 3, 17, 30)),  # 000:25 3 years
        ("luoyang-water", [], local(2027, 3, 3, 17, 30)),  # 001:14 1 year
        ("mingshan-emergency", [], local(2029, 3, 3, 17, 30)),  # 003/B:8 3 years
        ("dandong-civil-affairs", [], local(2027, 3, 3, 17, 30)),  # 004:22 1 year
        # 002:18(1): patrol and inspection at least 6 months
        ("qidong", ["patrol-inspection"], local(2026, 9, 3, 17, 30)),
        # unknown kind: dockd's own 12 months, never the shorter class
        ("qidong", [], local(2027, 3, 3, 17, 30)),
        ("qidong", ["patrol-inspection", "routine"], local(2027, 3, 3, 17, 30)),
    ],
)
def test_retention_ends_on_the_date_the_seed_gives(
    pack_id: str, kinds: list[str], kept_until: datetime
) -> None:
    pack = load_policy(REPO / "rules", pack_id)
    _, months = pack.retention.months_for(kinds)
    until = retain_until(EVENING, months)
    assert until == kept_until
    # both sides of the boundary: kept through the date written above, expirable a minute on
    assert not may_expire(until, kept_until, 0, False)
    assert may_expire(until, kept_until + timedelta(minutes=1), 0, False)


def test_qidong_six_months_from_the_last_day_of_august_end_on_the_last_of_february() -> None:
    """Calendar months, clamped: 31 August + 6 months runs to the end of 28 February (no
    31st), never into March and never a day short."""
    pack = load_policy(REPO / "rules", "qidong")
    _, months = pack.retention.months_for(["patrol-inspection"])
    assert retain_until(local(2026, 8, 31, 12, 0), months) == datetime(
        2027, 2, 28, 23, 59, 59, 999999, tzinfo=SHANGHAI
    )
