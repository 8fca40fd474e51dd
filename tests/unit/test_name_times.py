"""A file name's start time reads exactly as strptime reads it, only cheaper."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.core.names import start_time

FORMATS = ["%Y%m%d%H%M%S", "%Y%m%d_%H%M%S", "%d%m%Y-%H%M%S", "%Y-%m-%d %H:%M:%S", "%y%m%d%H%M"]


def strptime_or_error(text: str, time_format: str) -> datetime | str:
    try:
        return datetime.strptime(text, time_format)
    except ValueError:
        return "ValueError"


def ours_or_error(text: str, time_format: str) -> datetime | str:
    try:
        return start_time(text, time_format)
    except ValueError:
        return "ValueError"


def rendered(moment: datetime, time_format: str) -> str:
    return moment.strftime(time_format)


@given(
    st.sampled_from(FORMATS),
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
)
def test_a_well_formed_time_reads_as_strptime_reads_it(time_format: str, moment: datetime) -> None:
    text = rendered(moment, time_format)
    assert ours_or_error(text, time_format) == strptime_or_error(text, time_format)


@given(st.sampled_from(FORMATS), st.text("0123456789_- :", min_size=10, max_size=19))
def test_any_digits_read_as_strptime_reads_them(time_format: str, text: str) -> None:
    """Hostile names: months 13 and days 00 and short fields, where strptime may read a
    field narrower than its full width; the result, or the refusal, is strptime's."""
    assert ours_or_error(text, time_format) == strptime_or_error(text, time_format)


@pytest.mark.parametrize(
    "text",
    ["20261301081500", "20260230081500", "20261122086000", "2026112208150", "٢٠٢٦1122081500"],
)
def test_odd_fourteen_digit_names_read_as_strptime_reads_them(text: str) -> None:
    assert ours_or_error(text, "%Y%m%d%H%M%S") == strptime_or_error(text, "%Y%m%d%H%M%S")
