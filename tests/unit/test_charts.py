"""The report's SVG charts: well-formed whatever they are given, scaled to round numbers,
drawn against the deadline, with nothing that reaches outside the document."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.ui import charts

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 11, 2) + timedelta(days=n) for n in range(30)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}rect[@class]")


def y_of(root: ET.Element, cls: str) -> float:
    line = root.find(f"{SVG}line[@class='{cls}']")
    assert line is not None
    return float(line.attrib["y1"])


values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(
    title=st.text(),
    label=st.text(),
    delays=st.lists(values, min_size=0, max_size=40),
    deadline=st.floats(allow_nan=True, allow_infinity=True),
)
def test_the_delay_chart_is_well_formed_xml_for_any_input(
    title: str, label: str, delays: list[float | None], deadline: float
) -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(len(delays))]
    root = parse(charts.delay_chart(days, delays, deadline, title, label))
    assert root.tag == f"{SVG}svg"
    drawn = [v for v in delays if v is not None and math.isfinite(v)]
    assert len(bars(root)) == len(drawn)
    for bar in bars(root):  # inside the plot, however wild the value
        y, height = float(bar.attrib["y"]), float(bar.attrib["height"])
        assert 0 <= y <= charts.HEIGHT and height >= 0 and y + height <= charts.HEIGHT


@given(
    labels=st.lists(st.text(), min_size=1, max_size=3),
    data=st.data(),
)
def test_the_trend_chart_is_well_formed_xml_for_any_input(
    labels: list[str], data: st.DataObject
) -> None:
    n = data.draw(st.integers(min_value=0, max_value=40))
    days = [date(2026, 1, 1) + timedelta(days=k) for k in range(n)]
    series = [
        charts.Series(label, data.draw(st.lists(values, min_size=n, max_size=n)), colour)
        for label, colour in zip(labels, ["#c0392b", '"><script>', "#d68910"], strict=False)
    ]
    root = parse(charts.trend_chart(days, series, data.draw(st.text())))
    assert root.find(f"{SVG}script") is None
    legends = root.findall(f"{SVG}text[@class='legend']")
    assert [t.text or "" for t in legends] == [shown(s.label) for s in series]


def shown(label: str) -> str:
    """What a reader gets: XML's unholdable characters as U+FFFD, line ends as parsed."""
    held = "".join(c if charts._NOT_XML.match(c) is None else "\ufffd" for c in label)
    return held.replace("\r\n", "\n").replace("\r", "\n")


def test_labels_are_escaped_and_what_xml_cannot_hold_is_replaced() -> None:
    hostile = 'Unit <b>"1"</b> & \x00\x1b\ud800\ufffe'
    svg = charts.delay_chart(DAYS[:1], [3.0], 24, hostile, "deadline")
    root = parse(svg)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == 'Unit <b>"1"</b> & \ufffd\ufffd\ufffd\ufffd'
    assert "<b>" not in svg


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (-3, 1),
        (float("nan"), 1),
        (0.3, 0.5),
        (1, 1),
        (1.01, 2),
        (2.2, 2.5),
        (24, 25),
        (26, 50),
        (51, 100),
        (240, 250),
    ],
)
def test_the_axis_top_is_the_next_round_number(value: float, top: float) -> None:
    assert charts.nice_top(value) == pytest.approx(top)


@pytest.mark.parametrize(("value", "top"), [(0, 2), (1, 2), (2, 2), (3, 6), (5, 6), (7, 10)])
def test_a_count_axis_is_even_so_its_half_is_whole(value: float, top: float) -> None:
    assert charts.count_top(value) == top


def test_bars_above_the_deadline_are_marked_and_reach_above_its_line() -> None:
    delays: list[float | None] = [None] * 30
    delays[3], delays[20] = 10.0, 30.0
    root = parse(charts.delay_chart(DAYS, delays, 24, "delay", "deadline 24 h"))
    drawn = bars(root)
    assert [b.attrib["class"] for b in drawn] == ["bar", "bar over"]
    line = y_of(root, "deadline")
    on_time, late = (float(b.attrib["y"]) for b in drawn)
    assert on_time > line > late  # SVG y grows downwards
    # the axis runs to 50 (the round number above 30): 24 h sits at 24/50 of the plot
    ticks = [t.text for t in root.findall(f"{SVG}text[@class='tick']")]
    assert ticks == ["0h", "25h", "50h"]
    bottom = y_of(root, "grid")  # the first gridline is 0
    top = float(root.findall(f"{SVG}line[@class='grid']")[-1].attrib["y1"])
    assert (bottom - line) / (bottom - top) == pytest.approx(24 / 50, abs=0.01)


def test_an_empty_month_still_shows_the_deadline_on_its_axis() -> None:
    root = parse(charts.delay_chart(DAYS, [None] * 30, 24, "delay", "deadline 24 h"))
    assert bars(root) == []
    assert [t.text for t in root.findall(f"{SVG}text[@class='tick']")] == ["0h", "12.5h", "25h"]
    assert root.find(f"{SVG}line[@class='deadline']") is not None
    none = parse(charts.delay_chart([], [], 24, "delay", "deadline"))
    assert none.findall(f"{SVG}text[@class='day']") == []


def test_a_missing_day_breaks_the_trend_line() -> None:
    series = [charts.Series("late", [1.0, 2.0, None, 3.0, 4.0], "#c0392b")]
    root = parse(charts.trend_chart(DAYS[:5], series, "problems"))
    lines = root.findall(f"{SVG}polyline")
    assert [len(p.attrib["points"].split()) for p in lines] == [2, 2]


def test_nothing_in_a_chart_reaches_outside_it() -> None:
    svg = charts.delay_chart(DAYS, [5.0] * 30, 24, "http://example.com/x.png", "d")
    svg += charts.trend_chart(DAYS, [charts.Series("url(#a)", [1.0] * 30, "#000")], "t")
    for tag in ("<script", "<image", "<use", "<foreignObject", "href", "@import", "<style"):
        assert tag not in svg
    assert "url(" not in svg.replace(charts.text("url(#a)"), "")


def test_a_series_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="2 delays for 3 days"):
        charts.delay_chart(DAYS[:3], [1.0, 2.0], 24, "t", "d")
    with pytest.raises(ValueError, match="'late': 1 values for 3 days"):
        charts.trend_chart(DAYS[:3], [charts.Series("late", [1.0], "#000")], "t")


def test_one_bar_a_month_late_does_not_flatten_the_others() -> None:
    delays: list[float | None] = [None] * 30
    delays[5], delays[29] = 20.0, 720.0
    root = parse(charts.delay_chart(DAYS, delays, 24, "delay", "deadline 24 h"))
    ticks = [t.text for t in root.findall(f"{SVG}text[@class='tick']")]
    assert ticks == ["0h", "50h", "100h"]  # 4 × 24 = 96, rounded up
    on_time, late = bars(root)
    assert float(on_time.attrib["height"]) == pytest.approx(20 / 100 * 120, abs=0.2)
    assert float(late.attrib["y"]) == pytest.approx(38)  # the plot's top
    [written] = root.findall(f"{SVG}text[@class='clipped']")
    assert written.text == "720h"
