"""The report's trends section: per unit, a month of offload delay against the deadline
and of problems per day, as inline SVG charts with the same numbers in words beside them.

Why both: Gmail and Outlook do not draw inline SVG in a mail, and no rasteriser is
installed on a dock to turn the chart into an attached PNG. So the HTML part carries the
SVG (drawn by Apple Mail, Thunderbird, browsers and the `/report` page) followed by a
short table of the days that had problems, which every reader shows; the text part
carries that table alone.

Every word this section shows is in `TEXT` below (the titles of the kinds come from
`dockd.ui.report_kinds`): translate them there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockd.core.trends import DayTrend, UnitTrend
from dockd.core.views import DeadlineReport
from dockd.ui import charts
from dockd.ui.i18n import N_, Locale
from dockd.ui.report_kinds import KINDS
from dockd.ui.report_lines import clean, esc


@dataclass(frozen=True, slots=True)
class Text:
    """Marked for the catalog here, translated where shown (`tr(TEXT.x, ...)`)."""

    heading: str = N_("Trends, last {days} days")
    unit: str = N_("Unit: {unit}")
    delay_title: str = N_("Offload delay, worst of each day (hours)")
    deadline: str = N_("deadline {hours} h")
    problems_title: str = N_("Problems per day")
    summary: str = N_(
        "{offloads} offloads, worst delay {worst} (deadline {hours} h); "
        "{late} late, {drift} drift violations, {missing} recordings that may be missing."
    )
    no_offloads: str = N_("none")
    quiet: str = N_(
        "No day with a late offload, a drift violation or a recording that may be missing."
    )
    columns: tuple[str, ...] = (
        N_("Day"),
        N_("Offloads"),
        N_("Worst delay"),
        N_("Late"),
        N_("Drift"),
        N_("Missing"),
    )
    hours: str = N_("{hours} h")


TEXT = Text()
_TITLES = {kind.field: kind.title for kind in KINDS}
_SERIES = (
    ("late_offloads", charts.OVER),
    ("drift_violations", "#8e44ad"),
    ("incomplete_offloads", "#d68910"),
)
_H2 = "font-family:Arial,Helvetica,sans-serif;font-size:16px;margin:24px 0 8px 0;"
_H3 = "font-family:Arial,Helvetica,sans-serif;font-size:14px;margin:16px 0 6px 0;"
_TH = "text-align:left;padding:2px 8px;border:1px solid #c8c8c8;background:#e9ecef;"
_TD = "padding:2px 8px;border:1px solid #c8c8c8;text-align:right;"


def _hours(value: float, tr: Locale) -> str:
    return tr(TEXT.hours, hours=f"{value:g}" if value == round(value) else f"{value:.1f}")


def _counts(day: DayTrend) -> tuple[int, int, int]:
    return day.late_offloads, day.drift_violations, day.missing_recordings


def _summary(trend: UnitTrend, tr: Locale) -> str:
    delays = [d.worst_delay_h for d in trend.days if d.worst_delay_h is not None]
    return tr(
        TEXT.summary,
        offloads=sum(d.offloads for d in trend.days),
        worst=_hours(max(delays), tr) if delays else tr(TEXT.no_offloads),
        hours=f"{trend.deadline_h:g}",
        late=sum(d.late_offloads for d in trend.days),
        drift=sum(d.drift_violations for d in trend.days),
        missing=sum(d.missing_recordings for d in trend.days),
    )


def _cells(day: DayTrend, tr: Locale) -> tuple[str, ...]:
    worst = tr(TEXT.no_offloads) if day.worst_delay_h is None else _hours(day.worst_delay_h, tr)
    return (f"{day.day:%Y-%m-%d}", str(day.offloads), worst, *map(str, _counts(day)))


def trends_text(
    report: DeadlineReport, unit_label: Callable[[str | None], str], tr: Locale
) -> list[str]:
    trends = report.trends
    if trends is None or not trends.units:
        return []
    lines = ["", tr(TEXT.heading, days=trends.days).upper()]
    for trend in trends.units:
        lines += [f"  {clean(tr(TEXT.unit, unit=unit_label(trend.unit)))}"]
        lines += [f"    {_summary(trend, tr)}"]
        busy = [d for d in trend.days if d.problems]
        if busy:
            lines.append("    " + "  ".join(f"{tr(c):>11}" for c in TEXT.columns))
            lines += ["    " + "  ".join(f"{c:>11}" for c in _cells(d, tr)) for d in busy]
    return lines


def unit_charts(trend: UnitTrend, tr: Locale) -> list[str]:
    """The two charts of one unit."""
    days = [d.day for d in trend.days]
    series = [
        charts.Series(tr(_TITLES[field]), [float(_counts(d)[n]) for d in trend.days], colour)
        for n, (field, colour) in enumerate(_SERIES)
    ]
    return [
        charts.delay_chart(
            days,
            [d.worst_delay_h for d in trend.days],
            trend.deadline_h,
            tr(TEXT.delay_title),
            tr(TEXT.deadline, hours=f"{trend.deadline_h:g}"),
        ),
        charts.trend_chart(days, series, tr(TEXT.problems_title)),
    ]


def trends_html(
    report: DeadlineReport, unit_label: Callable[[str | None], str], tr: Locale
) -> list[str]:
    trends = report.trends
    if trends is None or not trends.units:
        return []
    out = [f'<h2 style="{_H2}">{esc(tr(TEXT.heading, days=trends.days))}</h2>']
    for trend in trends.units:
        out.append(
            f'<h3 class="trend-unit" style="{_H3}">'
            f"{esc(tr(TEXT.unit, unit=unit_label(trend.unit)))}</h3>"
        )
        out += [f'<div class="chart">{svg}</div>' for svg in unit_charts(trend, tr)]
        out.append(f'<p style="margin:4px 0;">{esc(_summary(trend, tr))}</p>')
        busy = [d for d in trend.days if d.problems]
        if not busy:
            out.append(f'<p style="margin:4px 0;color:#6a6a6a;">{esc(tr(TEXT.quiet))}</p>')
            continue
        out.append('<table cellspacing="0" cellpadding="0" style="border-collapse:collapse;">')
        head = "".join(f'<th style="{_TH}">{esc(tr(c))}</th>' for c in TEXT.columns)
        out.append(f"<tr>{head}</tr>")
        out += [
            "<tr>" + "".join(f'<td style="{_TD}">{esc(c)}</td>' for c in _cells(d, tr)) + "</tr>"
            for d in busy
        ]
        out.append("</table>")
    return out
