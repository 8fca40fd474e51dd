"""Small inline SVG charts for the report: plain values in, one `<svg>` string out.

Self-contained on purpose: no script, no font to fetch, no URL of any kind, so the chart
draws the same in a mail reader, in a browser under a strict Content-Security-Policy, and
in a report kept for years. Every label is escaped and stripped of what XML cannot hold,
so a unit named by a registry entry cannot break the page; numbers that are not finite
are drawn as missing. The words shown are the caller's (see `dockd.ui.report_trends`).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 600, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 12, 38, 22
_PLOT_W, _PLOT_H = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
_FONT = 'font-family="Arial,Helvetica,sans-serif" font-size="11"'
_AXIS = "#6a6a6a"
BAR, OVER, DEADLINE = "#4a78b5", "#c0392b", "#1a1a1a"
CLIP = 4  # the delay axis stops at this many times the deadline

# XML 1.0 Char: anything else (C0 controls, surrogates, U+FFFE/U+FFFF) is not well-formed
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a trend chart: a value per day (None: no value that day)."""

    label: str
    values: Sequence[float | None]
    colour: str


def text(value: str) -> str:
    """A label as SVG/HTML text: escaped, with what XML cannot carry shown as U+FFFD."""
    return html.escape(_NOT_XML.sub("\ufffd", value), quote=True)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def nice_top(value: float) -> float:
    """The axis top: the smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (1 for
    nothing to show), so the gridlines fall on round numbers."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    steps = (step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0))
    top = next((top for top in steps if top >= value * (1 - 1e-12)), value)
    return top if math.isfinite(top) else value  # at float's ends, the value itself


def count_top(value: float) -> float:
    """The axis top for counts: even and at least 2, so its half is a whole number too."""
    top = math.ceil(nice_top(value))
    return float(max(2, top + top % 2))


def _num(value: float) -> str:
    return f"{value:.0f}" if value == round(value) else f"{value:.1f}"


def _y(value: float, top: float) -> float:
    return _TOP + _PLOT_H * (1 - min(max(value, 0.0), top) / top)


def _x(index: int, count: int) -> float:
    """The centre of day `index` of `count`."""
    return _LEFT + _PLOT_W * (index + 0.5) / max(count, 1)


def _frame(title: str, top: float, days: Sequence[date], unit: str) -> list[str]:
    """The title, the y gridlines at 0, half and top, and the first, middle and last day."""
    out = [
        f'<text x="{_LEFT}" y="14" {_FONT} font-weight="bold" fill="#1a1a1a">{text(title)}</text>'
    ]
    for value in (0.0, top / 2, top):
        y = _y(value, top)
        out.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
            f'stroke="#e1e4e8" stroke-width="1"/>'
        )
        out.append(
            f'<text class="tick" x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {_FONT} '
            f'fill="{_AXIS}">{_num(value)}{text(unit)}</text>'
        )
    marks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    for n in marks:
        out.append(
            f'<text class="day" x="{_x(n, len(days)):.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
            f'{_FONT} fill="{_AXIS}">{days[n]:%m-%d}</text>'
        )
    out.append(
        f'<line x1="{_LEFT}" y1="{_TOP + _PLOT_H}" x2="{WIDTH - _RIGHT}" y2="{_TOP + _PLOT_H}" '
        f'stroke="{_AXIS}" stroke-width="1"/>'
    )
    return out


def _svg(label: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" '
            f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{text(label)}" '
            'style="max-width:100%;height:auto;display:block;">',
            f"<title>{text(label)}</title>",
            *body,
            "</svg>",
        ]
    )


def delay_chart(
    days: Sequence[date],
    delays: Sequence[float | None],
    deadline: float,
    title: str,
    deadline_label: str,
    unit: str = "h",
) -> str:
    """A bar per day (its worst delay; none on a day without offloads), red above the
    deadline, and the deadline as a dashed line. The axis reaches the deadline even on a
    quiet month, so a bar's height always reads against it, and stops at `CLIP` times
    the deadline: one recorder a month late must not flatten every other bar to nothing.
    A longer bar reaches the top with its value written over it."""
    if len(delays) != len(days):
        raise ValueError(f"{len(delays)} delays for {len(days)} days")
    values = [_finite(v) for v in delays]
    limit = _finite(deadline) or 0.0
    top = nice_top(max([limit, *(v for v in values if v is not None)], default=0.0))
    if limit > 0 and math.isfinite(CLIP * limit):
        top = min(top, nice_top(CLIP * limit))
    body = _frame(title, top, days, unit)
    slot = _PLOT_W / max(len(days), 1)
    for n, value in enumerate(values):
        if value is None:
            continue
        y = _y(value, top)
        over = value > limit
        body.append(
            f'<rect class="bar{" over" if over else ""}" x="{_x(n, len(days)) - slot * 0.35:.1f}" '
            f'y="{y:.1f}" width="{slot * 0.7:.1f}" height="{_TOP + _PLOT_H - y:.1f}" '
            f'fill="{OVER if over else BAR}"><title>{days[n]:%Y-%m-%d}: {_num(value)}'
            f"{text(unit)}</title></rect>"
        )
        if value > top:
            body.append(
                f'<text class="clipped" x="{_x(n, len(days)):.1f}" y="{_TOP - 3}" '
                f'text-anchor="middle" {_FONT} fill="{OVER}">{_num(value)}{text(unit)}</text>'
            )
    y = _y(limit, top)
    body.append(
        f'<line class="deadline" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
        f'stroke="{DEADLINE}" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    body.append(
        f'<text class="deadline-label" x="{WIDTH - _RIGHT}" y="{y - 4:.1f}" text-anchor="end" '
        f'{_FONT} fill="{DEADLINE}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
        f"{text(deadline_label)}</text>"
    )
    return _svg(title, body)


def trend_chart(days: Sequence[date], series: Sequence[Series], title: str) -> str:
    """A line per series over the days, with a legend; a day with no value breaks the
    line. The values are counts (`count_top`)."""
    for s in series:
        if len(s.values) != len(days):
            raise ValueError(f"{s.label!r}: {len(s.values)} values for {len(days)} days")
    finite = [v for s in series for v in map(_finite, s.values) if v is not None]
    top = count_top(max(finite, default=0.0))
    body = _frame(title, top, days, "")
    x = float(_LEFT)
    for k, s in enumerate(series):
        colour = text(s.colour)
        runs: list[list[str]] = [[]]
        for n, value in enumerate(map(_finite, s.values)):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{_x(n, len(days)):.1f},{_y(value, top):.1f}")
        for run in filter(None, runs):
            body.append(
                f'<polyline class="series" data-series="{k}" points="{" ".join(run)}" '
                f'fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        body.append(f'<rect x="{x:.0f}" y="20" width="10" height="10" fill="{colour}"/>')
        body.append(
            f'<text class="legend" x="{x + 14:.0f}" y="29" {_FONT} fill="#1a1a1a">'
            f"{text(s.label)}</text>"
        )
        x += 30 + 6 * len(s.label)  # about Arial's width at 11 px
    return _svg(title, body)
