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
import unicodedata
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
from dockd.ui.i18n import ENGLISH, N_, Locale
from dockd.ui.report_kinds import KINDS, Kind
from dockd.ui.report_lines import clean, esc
from dockd.ui.report_trends import trends_html, trends_text

NOTHING = N_("Nothing late, overdue, drifting, interrupted or missing")
_NOTHING_LINE = N_(
    "Nothing late, overdue, drifting, interrupted or missing; no unsealed sessions and no "
    "verify failures."
)
NO_UNIT = N_("(no unit on record)")
NO_CUSTODIAN = N_("(no custodian on record)")
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


def _unit_label(unit: str | None, tr: Locale) -> str:
    return tr(NO_UNIT) if unit is None else unit


def _custodian_label(custodian: str | None, tr: Locale) -> str:
    return tr(NO_CUSTODIAN) if custodian is None else custodian


def _title(report: DeadlineReport, pack_name: str, tr: Locale) -> str:
    pack = pack_name if pack_name == report.pack else f"{pack_name} ({report.pack})"
    return tr("dockd nightly report — {pack}", pack=pack)


def _period(report: DeadlineReport, tr: Locale) -> str:
    """In the station's zone, its offset written out (a clip ended at 08:10 in Qidong reads
    08:10 +08:00, not 00:10 UTC), and whose report it is."""
    since, until = (fmt.local_moment(t, tr.zone) for t in (report.since, report.until))
    scope = (
        tr("all stations")
        if report.station is None
        else tr("station {station}", station=report.station)
    )
    return f"{since} → {until} ({scope})"


def _head_line(report: DeadlineReport, tr: Locale) -> list[str]:
    """Keep this line: `dockd audit verify --head SEQ:HASH` proves the ledger still holds it."""
    head = report.chain_head
    return [] if head is None else [tr("Custody chain head: {head}", head=head.text)]


# --- text -----------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_text(report: DeadlineReport, pack_name: str, tr: Locale = ENGLISH) -> str:
    """The report for the terminal and the text/plain part of the e-mail."""
    lines = [
        clean(_title(report, pack_name, tr)),
        tr("Period: {period}", period=_period(report, tr)),
    ]
    lines += [*_head_line(report, tr), ""]
    tail = (
        _exports_text(report, tr)
        + _central_text(report, tr)
        + trends_text(report, lambda unit: _unit_label(unit, tr), tr)
    )
    if report.empty:
        lines.append(tr(_NOTHING_LINE))
        return "\n".join(lines + tail) + "\n"
    width = max(_width(tr(kind.title)) for kind in KINDS)
    lines.append(tr("Summary:"))
    for kind in filter(lambda k: k.applies(report), KINDS):
        title = tr(kind.title)
        pad = " " * (width - _width(title))
        lines.append(f"  {title}{pad}  {kind.count(report):>5}")
    for kind in KINDS:
        items = kind.items(report)
        if not items:
            continue
        lines += ["", f"{tr(kind.title).upper()} ({len(items)})"]
        if not kind.grouped:
            lines += [f"  - {kind.line(item, tr)}" for item in items]
            continue
        for unit, custodians in _grouped(items):
            count = sum(len(group) for _, group in custodians)
            unit_label = clean(_unit_label(unit, tr))
            lines.append("  " + tr("Unit: {unit} ({count})", unit=unit_label, count=count))
            for custodian, group in custodians:
                who = clean(_custodian_label(custodian, tr))
                lines.append(
                    "    " + tr("Custodian: {custodian} ({count})", custodian=who, count=len(group))
                )
                lines += [f"      - {kind.line(item, tr)}" for item in group]
    return "\n".join(lines + tail) + "\n"


# --- the forwarding backlog: a summary, not a list -------------------------------------


def _backlog_lines(report: DeadlineReport, tr: Locale) -> list[str]:
    """The backlog at the report's making, in plain words (shown in text and HTML)."""
    b = report.central_backlog
    if b is None:
        return []
    upkeep = (
        [
            tr(
                "Lock upkeep overdue: {count} objects whose central lock lags the ledger, "
                "the oldest for {age}.",
                count=fmt.count(b.lock_upkeep_overdue),
                age=fmt.duration(b.lock_upkeep_oldest_s, tr),
            )
        ]
        if b.lock_upkeep_overdue
        else []
    )
    if not b.objects:
        return [
            tr(
                "Every object held here is confirmed centrally ({count}).",
                count=fmt.count(b.confirmed),
            ),
            *upkeep,
        ]
    lines = [
        tr(
            "Not confirmed centrally: {objects} objects, {size} ({unsent} not sent, {pending} "
            "pending, {failed} failed); {confirmed} confirmed.",
            objects=fmt.count(b.objects),
            size=fmt.size(b.bytes),
            unsent=fmt.count(b.unsent),
            pending=fmt.count(b.pending),
            failed=fmt.count(b.failed),
            confirmed=fmt.count(b.confirmed),
        ),
        tr(
            "Oldest stored {at} ({age} before this report).",
            at=fmt.local_moment(b.oldest_stored_at, tr.zone, tr("unknown")),
            age=fmt.duration(b.oldest_s, tr),
        ),
    ]
    if b.failed_codes:
        codes = ", ".join(f"{clean(f.code)} × {fmt.count(f.objects)}" for f in b.failed_codes)
        lines.append(tr("Failed by error: {codes}.", codes=codes))
    return lines + upkeep


def _central_text(report: DeadlineReport, tr: Locale) -> list[str]:
    lines = _backlog_lines(report, tr)
    heading = tr("CENTRAL STORE BACKLOG")
    return ["", heading, *(f"  {line}" for line in lines)] if lines else []


def _central_html(report: DeadlineReport, tr: Locale) -> list[str]:
    lines = _backlog_lines(report, tr)
    if not lines:
        return []
    heading = esc(tr("Central store backlog"))
    return [
        f'<h2 style="{_H2}">{heading}</h2>',
        *(f'<p style="margin:0 0 4px 0;">{esc(line)}</p>' for line in lines),
    ]


# --- exports: what left the store, not problems ----------------------------------------

_EXPORT_COLUMNS = (
    N_("Export"),
    N_("State"),
    N_("Case"),
    N_("Operators"),
    N_("Recordings"),
    N_("Started"),
)


def _export_cells(e: ExportView, tr: Locale) -> tuple[str, ...]:
    recordings = ", ".join(map(str, e.recordings))
    started = fmt.stamp(e.started_at, tr.zone)
    return (e.id, e.state, e.case, ", ".join(e.operators), recordings, started)


def _exports_text(report: DeadlineReport, tr: Locale) -> list[str]:
    if not report.exports:
        return []
    lines = ["", tr("EXPORTS ({count})", count=len(report.exports))]
    for e in report.exports:
        export, state, case, operators, recordings, started = map(clean, _export_cells(e, tr))
        line = tr(
            "{export} {state}: case {case}, by {operators}, recordings {recordings}, "
            "started {started}",
            export=export,
            state=state,
            case=case,
            operators=operators,
            recordings=recordings,
            started=started,
        )
        lines.append(f"  - {line}")
    return lines


def _exports_html(report: DeadlineReport, tr: Locale) -> list[str]:
    if not report.exports:
        return []
    head = "".join(f'<th style="{_TH}">{esc(tr(c))}</th>' for c in _EXPORT_COLUMNS)
    rows = [
        "<tr>" + "".join(f'<td style="{_TD}">{esc(c)}</td>' for c in _export_cells(e, tr)) + "</tr>"
        for e in report.exports
    ]
    heading = esc(tr("Exports ({count})", count=len(report.exports)))
    return [
        f'<h2 style="{_H2}">{heading}</h2>',
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


def _html_table(kind: Kind, items: Sequence[Any], tr: Locale) -> list[str]:
    span = len(kind.columns)
    heads = "".join(f'<th style="{_TH}">{esc(tr(c))}</th>' for c in kind.columns)
    out = [f'<table cellspacing="0" cellpadding="0" style="{_TABLE}">', f"<tr>{heads}</tr>"]

    def rows(group: Sequence[Any]) -> list[str]:
        return [
            "<tr>"
            + "".join(f'<td style="{_TD}">{esc(v)}</td>' for v in kind.cells(item, tr))
            + "</tr>"
            for item in group
        ]

    if not kind.grouped:
        out += rows(items)
    else:
        for unit, custodians in _grouped(items):
            count = sum(len(group) for _, group in custodians)
            said = tr("Unit: {unit} ({count})", unit=_unit_label(unit, tr), count=count)
            out.append(f'<tr><th colspan="{span}" style="{_UNIT}">{esc(said)}</th></tr>')
            for custodian, group in custodians:
                said = tr(
                    "Custodian: {custodian} ({count})",
                    custodian=_custodian_label(custodian, tr),
                    count=len(group),
                )
                out.append(f'<tr><th colspan="{span}" style="{_CUSTODIAN}">{esc(said)}</th></tr>')
                out += rows(group)
    out.append("</table>")
    return out


def render_html(report: DeadlineReport, pack_name: str, tr: Locale = ENGLISH) -> str:
    """The same report as a self-contained HTML e-mail: inline CSS, no external resources."""
    title = esc(_title(report, pack_name, tr))
    period = esc(tr("Period: {period}", period=_period(report, tr)))
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{tr.language}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        "</head>",
        f'<body style="{_BODY}">',
        f'<h1 style="{_H1}">{title}</h1>',
        f'<p style="margin:0 0 12px 0;">{period}</p>',
    ]
    out += [
        f'<p style="margin:0 0 12px 0;"><code>{esc(line)}</code></p>'
        for line in _head_line(report, tr)
    ]
    if report.empty:
        out.append(f'<p style="{_NOTHING_P}">{esc(tr(_NOTHING_LINE))}</p>')
    else:
        out.append('<table style="border-collapse:collapse;">')
        for kind in filter(lambda k: k.applies(report), KINDS):
            n = kind.count(report)
            weight = "font-weight:bold;" if n else "color:#6a6a6a;"
            title = esc(tr(kind.title))
            out.append(
                f'<tr style="{weight}"><td style="padding:2px 8px 2px 0;">{title}</td>'
                f'<td style="{_COUNT_TD}">{n}</td></tr>'
            )
        out.append("</table>")
        for kind in KINDS:
            items = kind.items(report)
            if items:
                out.append(f'<h2 style="{_H2}">{esc(tr(kind.title))} ({len(items)})</h2>')
                out += _html_table(kind, items, tr)
    out += _exports_html(report, tr)
    out += _central_html(report, tr)
    out += trends_html(report, lambda unit: _unit_label(unit, tr), tr)
    # the words escaped, then the markup put in: a translation cannot add HTML
    footer = esc(tr("Sent by dockd. The same report: {command} on the dock."))
    out += [
        '<p style="margin:24px 0 0 0;color:#6a6a6a;font-size:12px;">'
        + footer.format(command="<code>dockd report deadlines</code>")
        + "</p>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


# --- the message ----------------------------------------------------------------------


def subject(report: DeadlineReport, tr: Locale = ENGLISH) -> str:
    since, until = (tr.local(t) for t in (report.since, report.until))
    period = f"{since:%Y-%m-%d} → {until:%Y-%m-%d}"
    counts = [kind.counted(n, tr) for kind in KINDS if (n := kind.count(report))]
    said = tr(", ").join(counts) if counts else tr("nothing to report")
    return f"dockd: {said} — {period}"


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
    tr: Locale = ENGLISH,
) -> EmailMessage:
    """multipart/alternative: the text, then the HTML (the part mail readers prefer)."""
    message = EmailMessage()
    message["Subject"] = subject(report, tr)
    message["From"] = sender
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now if now is not None else datetime.now().astimezone())
    message["Message-ID"] = make_msgid("dockd", domain=_msgid_domain(sender))
    # RFC 3834: no vacation or out-of-office replies to a machine (and Exchange's variant)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(render_text(report, pack_name, tr), subtype="plain", charset="utf-8")
    message.add_alternative(render_html(report, pack_name, tr), subtype="html", charset="utf-8")
    message["Content-Language"] = tr.language  # after the parts: set_content drops Content-*
    return message
