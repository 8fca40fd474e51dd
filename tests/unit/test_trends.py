"""Per-unit daily trends behind the report's charts, and the section that shows them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone

from dockd.core.trends import (
    OffloadFact,
    ReportTrends,
    UnitEvent,
    trend_days,
    unit_trends,
    window,
)
from dockd.core.views import DeadlineReport
from dockd.ui.report import render_html, render_text

SHANGHAI = timezone(timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


DAYS = trend_days(at(30, 2), SHANGHAI)


def test_thirty_local_days_end_with_the_reports_day() -> None:
    # 30 Nov 02:00 in Shanghai is still 29 Nov in UTC: the local day counts
    assert DAYS[0] == date(2026, 11, 1) and DAYS[-1] == date(2026, 11, 30)
    assert len(DAYS) == 30
    assert window(DAYS, SHANGHAI) == (at(1, 0), datetime(2026, 12, 1, tzinfo=SHANGHAI))


def test_delay_runs_from_the_deadlines_clock_and_days_are_local() -> None:
    facts = [
        # deadline 18:00 on 4 Nov: its clock started 18:00 on 3 Nov; docked 09:00 on 4 Nov
        OffloadFact("Patrol 1", at(4, 9), at(4, 18), False),
        # docked 20:00 on 4 Nov, 2 h late: 26 h after its clock started
        OffloadFact("Patrol 1", at(4, 20), at(4, 18), True),
        # 23:30 UTC on 4 Nov is 07:30 on 5 Nov in Shanghai
        OffloadFact("Patrol 1", datetime(2026, 11, 4, 23, 30, tzinfo=UTC), at(5, 18), False),
        OffloadFact(None, at(6, 12), at(7, 0), False),
        OffloadFact("Patrol 1", at(1, 0) - timedelta(seconds=1), at(1, 1), True),  # before
    ]
    drift = [UnitEvent("Patrol 1", at(4, 8)), UnitEvent("Harbour", at(30, 23, 59))]
    missing = [UnitEvent("Harbour", at(30, 1)), UnitEvent("Harbour", at(30, 2))]
    trends = unit_trends(facts, drift, missing, DAYS, SHANGHAI, 24)
    assert [t.unit for t in trends] == ["Harbour", "Patrol 1", None]
    harbour, patrol, nobody = trends
    assert all(t.deadline_h == 24 for t in trends)
    nov4 = patrol.days[3]
    assert nov4.day == date(2026, 11, 4)
    assert (nov4.offloads, nov4.worst_delay_h, nov4.late_offloads) == (2, 26.0, 1)
    assert nov4.drift_violations == 1 and nov4.missing_recordings == 0
    nov5 = patrol.days[4]
    assert (nov5.offloads, nov5.worst_delay_h) == (1, 13.5)  # 18:00 on 4 Nov → 07:30
    assert sum(d.offloads for d in patrol.days) == 3  # the one before the month is left out
    assert harbour.days[-1].missing_recordings == 2 and harbour.days[-1].drift_violations == 1
    assert harbour.days[-1].worst_delay_h is None
    assert nobody.days[5].worst_delay_h == 12.0


def test_no_facts_no_trends() -> None:
    assert unit_trends([], [], [], DAYS, SHANGHAI, 24) == []


def report_with(facts: list[OffloadFact]) -> DeadlineReport:
    return DeadlineReport(
        pack="p",
        since=at(29, 2),
        until=at(30, 2),
        late_offloads=[],
        overdue_recorders=[],
        drift_violations=[],
        interruptions=[],
        unsealed_sessions=[],
        verify_failures=[],
        trends=ReportTrends(days=30, units=unit_trends(facts, [], [], DAYS, SHANGHAI, 24)),
    )


def test_the_html_report_draws_a_chart_per_unit_with_the_numbers_in_words_too() -> None:
    report = report_with(
        [
            OffloadFact("Patrol <1>", at(4, 20), at(4, 18), True),
            OffloadFact("Harbour", at(10, 9), at(10, 18), False),
        ]
    )
    page = render_html(report, "p")
    assert page.count("<svg ") == 4
    assert "Unit: Patrol &lt;1&gt;" in page
    for svg in page.split("<svg ")[1:]:
        ET.fromstring("<svg " + svg.split("</svg>")[0] + "</svg>")
    # the fallback a mail reader that hides SVG still shows: the late day in a table
    assert "<td" in page and "2026-11-04" in page
    assert "1 offloads, worst delay 26 h (deadline 24 h); 1 late" in page
    text = render_text(report, "p")
    assert "TRENDS, LAST 30 DAYS" in text
    assert "2026-11-04" in text and "26 h" in text
    assert "No day with a late offload" in page  # Harbour's quiet month


def test_no_trends_no_section() -> None:
    report = report_with([])
    assert "<svg" not in render_html(report, "p")
    assert "TRENDS" not in render_text(report, "p")
