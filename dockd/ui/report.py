"""The nightly report: a `DeadlineReport` as plain text, as an HTML e-mail, as a message.

Pure: nothing here reads the clock (unless ``build_message`` is not given ``now``), the
ledger or the network. `dockd report deadlines` prints ``render_text`` on the terminal;
with ``--email`` it sends ``build_message`` through ``dockd.adapters.mail``.

Every string that comes from a recorder or from the device registry (paths, serials,
custodian names, units) is untrusted: a file on a recorder can be named anything. It
is shown with control and bidirectional-override characters written as ``\\xNN`` /
``\\uNNNN`` (so a name cannot start a new line in the text, nor reorder what a
supervisor reads) and, in HTML, escaped with ``html.escape``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

from dockd.core.views import (
    DeadlineReport,
    ExportView,
)
from dockd.ui import format as fmt
from dockd.ui.report_kinds import KINDS, Kind, clean, esc
from dockd.ui.report_trends import trends_html, trends_text

NOTHING = "Nothing late, overdue, drifting, interrupted or missing"
_NOTHING_LINE = f"{NOTHING}; no unsealed sessions and no verify failures."
NO_UNIT = "(no unit on record)"
NO_CUSTODIAN = "(no custodian on record)"
_MSGID_FALLBACK_DOMAIN = "dockd.invalid"


# --- grouping -------------------------------------------------------------------------


def _owner_key(name: str | None) -> tuple[bool, str, str]:
    # named first, in case-insensitive order; "no unit"/"no custodian" last
    return (name is None, (name or "").casefold(), name or "")


def _grouped(items: Iterable[Any]) -> list[tuple[str | None, list[tuple[str | None, list[Any]]]]]:
    """unit -> custodian -> items; order of items within a custodian as given."""
    by_unit: dict[str | None, dict[str | None, list[Any]]] = {}
    for item in items:
        unit = getattr(item, "unit", None)
        custodian = getattr(item, "custodian", None)
        by_unit.setdefault(unit, {}).setdefault(custodian, []).append(item)
    return [
        (unit, [(c, by_unit[unit][c]) for c in sorted(by_unit[unit], key=_owner_key)])
        for unit in sorted(by_unit, key=_owner_key)
    ]


def _unit_label(unit: str | None) -> str:
    return NO_UNIT if unit is None else unit


def _custodian_label(custodian: str | None) -> str:
    return NO_CUSTODIAN if custodian is None else custodian


def _title(report: DeadlineReport, pack_name: str) -> str:
    pack = pack_name if pack_name == report.pack else f"{pack_name} ({report.pack})"
    return f"dockd nightly report — {pack}"


def _period(report: DeadlineReport) -> str:
    return f"{fmt.moment(report.since)} → {fmt.moment(report.until)}"


def _head_line(report: DeadlineReport) -> list[str]:
    """Keep this line: `dockd audit verify --head SEQ:HASH` proves the ledger still holds it."""
    head = report.chain_head
    return [] if head is None else [f"Custody chain head: {head.text}"]


# --- text -----------------------------------------------------------------------------


def render_text(report: DeadlineReport, pack_name: str) -> str:
    """The report for the terminal and the text/plain part of the e-mail."""
    lines = [clean(_title(report, pack_name)), f"Period: {_period(report)}"]
    lines += [*_head_line(report), ""]
    if report.empty:
        lines.append(_NOTHING_LINE)
        return "\n".join(lines + _tail_text(report)) + "\n"
    width = max(len(kind.title) for kind in KINDS)
    lines.append("Summary:")
    for kind in filter(lambda k: k.applies(report), KINDS):
        lines.append(f"  {kind.title:<{width}}  {kind.count(report):>5}")
    for kind in KINDS:
        items = kind.items(report)
        if not items:
            continue
        lines += ["", f"{kind.title.upper()} ({len(items)})"]
        if not kind.grouped:
            lines += [f"  - {kind.line(item)}" for item in items]
            continue
        for unit, custodians in _grouped(items):
            count = sum(len(group) for _, group in custodians)
            lines.append(f"  Unit: {clean(_unit_label(unit))} ({count})")
            for custodian, group in custodians:
                lines.append(f"    Custodian: {clean(_custodian_label(custodian))} ({len(group)})")
                lines += [f"      - {kind.line(item)}" for item in group]
    return "\n".join(lines + _tail_text(report)) + "\n"


def _tail_text(report: DeadlineReport) -> list[str]:
    return _exports_text(report) + _central_text(report) + trends_text(report, _unit_label)


# --- the forwarding backlog: a summary, not a list -------------------------------------


def _backlog_lines(report: DeadlineReport) -> list[str]:
    """The backlog at the report's making, in plain words (shown in text and HTML)."""
    b = report.central_backlog
    if b is None:
        return []
    if not b.objects:
        return [f"Every object held here is confirmed centrally ({fmt.count(b.confirmed)})."]
    lines = [
        f"Not confirmed centrally: {fmt.count(b.objects)} objects, {fmt.size(b.bytes)} "
        f"({fmt.count(b.unsent)} not sent, {fmt.count(b.pending)} pending, "
        f"{fmt.count(b.failed)} failed); {fmt.count(b.confirmed)} confirmed.",
        f"Oldest stored {fmt.moment(b.oldest_stored_at)} ({fmt.duration(b.oldest_s)} before "
        "this report).",
    ]
    if b.failed_codes:
        codes = ", ".join(f"{clean(f.code)} × {fmt.count(f.objects)}" for f in b.failed_codes)
        lines.append(f"Failed by error: {codes}.")
    return lines


def _central_text(report: DeadlineReport) -> list[str]:
    lines = _backlog_lines(report)
    return ["", "CENTRAL STORE BACKLOG", *(f"  {line}" for line in lines)] if lines else []


def _central_html(report: DeadlineReport) -> list[str]:
    lines = _backlog_lines(report)
    if not lines:
        return []
    return [
        f'<h2 style="{_H2}">Central store backlog</h2>',
        *(f'<p style="margin:0 0 4px 0;">{esc(line)}</p>' for line in lines),
    ]


# --- exports: what left the store, not problems ----------------------------------------

_EXPORT_COLUMNS = ("Export", "State", "Case", "Operators", "Recordings", "Started")


def _export_cells(e: ExportView) -> tuple[str, ...]:
    recordings = ", ".join(map(str, e.recordings))
    return (e.id, e.state, e.case, ", ".join(e.operators), recordings, fmt.stamp(e.started_at))


def _exports_text(report: DeadlineReport) -> list[str]:
    if not report.exports:
        return []
    lines = ["", f"EXPORTS ({len(report.exports)})"]
    for e in report.exports:
        export, state, case, operators, recordings, started = map(clean, _export_cells(e))
        lines.append(
            f"  - {export} {state}: case {case}, by {operators}, recordings {recordings}, "
            f"started {started}"
        )
    return lines


def _exports_html(report: DeadlineReport) -> list[str]:
    if not report.exports:
        return []
    head = "".join(f'<th style="{_TH}">{esc(c)}</th>' for c in _EXPORT_COLUMNS)
    rows = [
        "<tr>" + "".join(f'<td style="{_TD}">{esc(c)}</td>' for c in _export_cells(e)) + "</tr>"
        for e in report.exports
    ]
    return [
        f'<h2 style="{_H2}">Exports ({len(report.exports)})</h2>',
        f'<table style="{_TABLE}"><tr>{head}</tr>',
        *rows,
        "</table>",
    ]


# --- HTML -----------------------------------------------------------------------------

_FONT = "font-family:Arial,Helvetica,sans-serif;"
_BODY = f"margin:0;padding:16px;background:#ffffff;color:#1a1a1a;{_FONT}font-size:14px;"
_H1 = f"{_FONT}font-size:20px;margin:0 0 4px 0;"
_H2 = f"{_FONT}font-size:16px;margin:24px 0 8px 0;"
_TABLE = "border-collapse:collapse;width:100%;max-width:1100px;"
_TH = "text-align:left;padding:4px 8px;border:1px solid #c8c8c8;background:#e9ecef;"
_TD = "padding:4px 8px;border:1px solid #c8c8c8;vertical-align:top;word-break:break-all;"
_UNIT = "text-align:left;padding:6px 8px;border:1px solid #c8c8c8;background:#d0d7de;"
_CUSTODIAN = (
    "text-align:left;padding:4px 8px 4px 24px;border:1px solid #c8c8c8;"
    "background:#f3f4f6;font-weight:normal;font-style:italic;"
)
_COUNT_TD = "padding:2px 8px;text-align:right;"
_NOTHING_P = "padding:12px;background:#e6f4ea;border:1px solid #b7dfc1;"


def _html_table(kind: Kind, items: Sequence[Any]) -> list[str]:
    span = len(kind.columns)
    out = [
        f'<table cellspacing="0" cellpadding="0" style="{_TABLE}">',
        "<tr>" + "".join(f'<th style="{_TH}">{esc(c)}</th>' for c in kind.columns) + "</tr>",
    ]

    def rows(group: Sequence[Any]) -> list[str]:
        return [
            "<tr>" + "".join(f'<td style="{_TD}">{esc(v)}</td>' for v in kind.cells(item)) + "</tr>"
            for item in group
        ]

    if not kind.grouped:
        out += rows(items)
    else:
        for unit, custodians in _grouped(items):
            count = sum(len(group) for _, group in custodians)
            out.append(
                f'<tr><th colspan="{span}" style="{_UNIT}">Unit: '
                f"{esc(_unit_label(unit))} ({count})</th></tr>"
            )
            for custodian, group in custodians:
                out.append(
                    f'<tr><th colspan="{span}" style="{_CUSTODIAN}">Custodian: '
                    f"{esc(_custodian_label(custodian))} ({len(group)})</th></tr>"
                )
                out += rows(group)
    out.append("</table>")
    return out


def render_html(report: DeadlineReport, pack_name: str) -> str:
    """The same report as a self-contained HTML e-mail: inline CSS, no external resources."""
    title = esc(_title(report, pack_name))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        "</head>",
        f'<body style="{_BODY}">',
        f'<h1 style="{_H1}">{title}</h1>',
        f'<p style="margin:0 0 12px 0;">Period: {esc(_period(report))}</p>',
    ]
    out += [
        f'<p style="margin:0 0 12px 0;"><code>{esc(line)}</code></p>' for line in _head_line(report)
    ]
    if report.empty:
        out.append(f'<p style="{_NOTHING_P}">{esc(_NOTHING_LINE)}</p>')
    else:
        out.append('<table style="border-collapse:collapse;">')
        for kind in filter(lambda k: k.applies(report), KINDS):
            n = kind.count(report)
            weight = "font-weight:bold;" if n else "color:#6a6a6a;"
            out.append(
                f'<tr style="{weight}"><td style="padding:2px 8px 2px 0;">{esc(kind.title)}</td>'
                f'<td style="{_COUNT_TD}">{n}</td></tr>'
            )
        out.append("</table>")
        for kind in KINDS:
            items = kind.items(report)
            if items:
                out.append(f'<h2 style="{_H2}">{esc(kind.title)} ({len(items)})</h2>')
                out += _html_table(kind, items)
    out += _exports_html(report)
    out += _central_html(report)
    out += trends_html(report, _unit_label)
    out += [
        '<p style="margin:24px 0 0 0;color:#6a6a6a;font-size:12px;">'
        "Sent by dockd. The same report: <code>dockd report deadlines</code> on the dock.</p>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


# --- the message ----------------------------------------------------------------------


def subject(report: DeadlineReport) -> str:
    period = f"{report.since:%Y-%m-%d} → {report.until:%Y-%m-%d}"
    counts = [kind.counted(n) for kind in KINDS if (n := kind.count(report))]
    return f"dockd: {', '.join(counts) if counts else 'nothing to report'} — {period}"


def units_in(report: DeadlineReport) -> list[str]:
    """Every unit that has at least one item in the report, sorted."""
    units = {
        unit
        for kind in KINDS
        for item in kind.items(report)
        if (unit := getattr(item, "unit", None)) is not None
    }
    return sorted(units, key=_owner_key)


def recipients_for(
    report: DeadlineReport, default: list[str], by_unit: dict[str, list[str]]
) -> list[str]:
    """The default recipients, then those of each unit in the report; each address once."""
    out: list[str] = []
    seen: set[str] = set()
    for entry in [*default, *(a for unit in units_in(report) for a in by_unit.get(unit, []))]:
        address = entry.strip()
        key = getaddresses([address])[0][1].casefold() or address.casefold()
        if address and key not in seen:
            seen.add(key)
            out.append(address)
    return out


def _msgid_domain(sender: str) -> str:
    # never socket.getfqdn(): make_msgid's default may wait for DNS on a dock without it
    _, at, domain = getaddresses([sender])[0][1].rpartition("@")
    return domain if at and re.fullmatch(r"[A-Za-z0-9.-]+", domain) else _MSGID_FALLBACK_DOMAIN


def build_message(
    report: DeadlineReport,
    pack_name: str,
    sender: str,
    recipients: list[str],
    *,
    now: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative: the text, then the HTML (the part mail readers prefer)."""
    message = EmailMessage()
    message["Subject"] = subject(report)
    message["From"] = sender
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now if now is not None else datetime.now().astimezone())
    message["Message-ID"] = make_msgid("dockd", domain=_msgid_domain(sender))
    # RFC 3834: no vacation or out-of-office replies to a machine (and Exchange's variant)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(render_text(report, pack_name), subtype="plain", charset="utf-8")
    message.add_alternative(render_html(report, pack_name), subtype="html", charset="utf-8")
    return message
