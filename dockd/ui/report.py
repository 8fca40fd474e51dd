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

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

from dockd.core.views import (
    DeadlineReport,
    DriftViolation,
    EquipmentShortfall,
    ExportView,
    IncompleteOffload,
    Interruption,
    LateOffload,
    Lending,
    MediaHeld,
    OverdueRecorder,
    SpotCheckItem,
    UnregisteredRecorder,
    UnsealedSession,
    VerifyFailure,
    WorkRecordView,
)
from dockd.ui import format as fmt

NOTHING = "Nothing late, overdue, drifting, interrupted or missing"
_NOTHING_LINE = f"{NOTHING}; no unsealed sessions and no verify failures."
NO_UNIT = "(no unit on record)"
NO_CUSTODIAN = "(no custodian on record)"
_MSGID_FALLBACK_DOMAIN = "dockd.invalid"


# --- untrusted text -----------------------------------------------------------------


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# C0, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates and marks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def clean(value: object) -> str:
    """One line of displayable text whatever ``value`` holds."""
    text = unicodedata.normalize("NFC", str(value))
    return _UNSAFE.sub(_escape_char, text)


def _h(value: object) -> str:
    return html.escape(clean(value), quote=True)


# --- the six kinds --------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    field: str  # DeadlineReport attribute, and key of `report deadlines --json`
    title: str  # section heading
    one: str  # "1 late offload"
    many: str  # "3 late offloads"
    columns: tuple[str, ...]
    cells: Callable[[Any], tuple[str, ...]]  # raw (uncleaned) values, one per column
    line: Callable[[Any], str]  # the item on one line of text (uncleaned parts cleaned)
    grouped: bool  # items carry unit and custodian

    def count(self, report: DeadlineReport) -> int:
        return len(self.items(report))

    def items(self, report: DeadlineReport) -> Sequence[Any]:
        items: Sequence[Any] = getattr(report, self.field)
        return items

    def counted(self, n: int) -> str:
        return f"{n} {self.one if n == 1 else self.many}"


def _late_cells(item: LateOffload) -> tuple[str, ...]:
    return (
        str(item.recording),
        item.serial,
        item.path,
        fmt.duration(item.late_by_s),
        fmt.moment(item.end),
        fmt.moment(item.deadline),
        fmt.moment(item.offloaded_at),
    )


def _late_line(item: LateOffload) -> str:
    return (
        f"{clean(item.serial)} {clean(item.path)} (recording {item.recording}): "
        f"late by {fmt.duration(item.late_by_s)}; ended {fmt.moment(item.end)}, "
        f"deadline {fmt.moment(item.deadline)}, offloaded {fmt.moment(item.offloaded_at)}"
    )


def _overdue_cells(item: OverdueRecorder) -> tuple[str, ...]:
    return (item.serial, fmt.duration(item.overdue_by_s), fmt.moment(item.last_docked, "never"))


def _overdue_line(item: OverdueRecorder) -> str:
    return (
        f"{clean(item.serial)}: overdue by {fmt.duration(item.overdue_by_s)}; "
        f"last docked {fmt.moment(item.last_docked, 'never')}"
    )


def _drift_cells(item: DriftViolation) -> tuple[str, ...]:
    return (
        item.serial,
        item.session,
        fmt.drift(item.drift_s),
        item.verdict,
        item.method,
        fmt.moment(item.at),
    )


def _drift_line(item: DriftViolation) -> str:
    return (
        f"{clean(item.serial)}: drift {fmt.drift(item.drift_s)} ({clean(item.verdict)}, "
        f"{clean(item.method)}) in session {clean(item.session)} at {fmt.moment(item.at)}"
    )


def _gap_state(item: Interruption) -> str:
    if item.covered_by:
        return "covered by work record " + ", ".join(map(str, item.covered_by))
    if item.explanation is None:
        return "unexplained"
    reviewed = f", reviewed by {item.reviewed_by}" if item.reviewed_by else ", not yet reviewed"
    return f"explained by {item.explained_by}: {item.explanation}{reviewed}"


def _gap_cells(item: Interruption) -> tuple[str, ...]:
    return (
        str(item.id),
        _gap_state(item),
        item.serial,
        fmt.duration(item.gap_s),
        fmt.moment(item.gap_start),
        fmt.moment(item.gap_end),
        item.before,
        item.after,
    )


def _gap_line(item: Interruption) -> str:
    return (
        f"{clean(item.serial)}: gap of {fmt.duration(item.gap_s)} "
        f"from {fmt.moment(item.gap_start)} to {fmt.moment(item.gap_end)}, "
        f"between {clean(item.before)} and {clean(item.after)} "
        f"(interruption {item.id}: {clean(_gap_state(item))})"
    )


def _answer(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "NO")


def _spot_cells(item: SpotCheckItem) -> tuple[str, ...]:
    return (
        str(item.item),
        str(item.draw),
        str(item.recording),
        item.path,
        item.reviewer or "",
        _answer(item.recorded),
        _answer(item.uninterrupted),
        _answer(item.handed_over),
        item.note or "",
    )


def _spot_line(item: SpotCheckItem) -> str:
    said = (
        f"reviewed by {clean(item.reviewer)}: recorded {_answer(item.recorded)}, "
        f"uninterrupted {_answer(item.uninterrupted)}, handed over {_answer(item.handed_over)}"
        + (f"; {clean(item.note)}" if item.note else "")
        if item.reviewer
        else f"drawn {fmt.moment(item.drawn_at)}, not yet reviewed"
    )
    return f"item {item.item} (draw {item.draw}): {clean(item.path)} ({item.recording}): {said}"


def _work_cells(item: WorkRecordView) -> tuple[str, ...]:
    return (
        str(item.id),
        item.badge,
        fmt.moment(item.start),
        fmt.moment(item.end),
        item.reason,
        item.basis,
        item.reported_to,
    )


def _work_line(item: WorkRecordView) -> str:
    return (
        f"work record {item.id}: {clean(item.badge)} could not record from "
        f"{fmt.moment(item.start)} to {fmt.moment(item.end)}: {clean(item.reason)} "
        f"({clean(item.basis)}), reported to {clean(item.reported_to)}"
    )


def _lending_cells(item: Lending) -> tuple[str, ...]:
    return (str(item.recording), item.serial, item.path, item.badge_in_name)


def _lending_line(item: Lending) -> str:
    return (
        f"{clean(item.serial)} {clean(item.path)} (recording {item.recording}): the name "
        f"says {clean(item.badge_in_name)}, the recorder was in someone else's custody"
    )


def _held_cells(item: MediaHeld) -> tuple[str, ...]:
    back = fmt.moment(item.docked_again, "not yet")
    return (item.serial, fmt.moment(item.unplugged_at), back, fmt.duration(item.held_over_s))


def _held_line(item: MediaHeld) -> str:
    return (
        f"{clean(item.serial)}: off the dock since {fmt.moment(item.unplugged_at)}, back "
        f"{fmt.moment(item.docked_again, 'not yet')}: {fmt.duration(item.held_over_s)} too long"
    )


def _unregistered_cells(item: UnregisteredRecorder) -> tuple[str, ...]:
    return (item.serial, fmt.moment(item.first_docked), fmt.moment(item.last_docked))


def _unregistered_line(item: UnregisteredRecorder) -> str:
    return (
        f"{clean(item.serial)}: docked {fmt.moment(item.last_docked)} without being "
        f"registered (dockd devices add {clean(item.serial)} --model M)"
    )


def _equipment_cells(item: EquipmentShortfall) -> tuple[str, ...]:
    return (str(item.recorders), str(item.officers), str(item.needed), ", ".join(item.articles))


def _equipment_line(item: EquipmentShortfall) -> str:
    return (
        f"{item.recorders} recorder(s) in service for {item.officers} officer(s); "
        f"{item.needed} needed ({', '.join(item.articles)})"
    )


def _attested(item: UnsealedSession) -> str:
    return ", ".join(item.attestations) if item.attestations else "nobody"


def _unsealed_cells(item: UnsealedSession) -> tuple[str, ...]:
    finished = fmt.moment(item.finished_at, "not finished")
    return (item.session, item.serial, finished, _attested(item))


def _unsealed_line(item: UnsealedSession) -> str:
    return (
        f"session {clean(item.session)} ({clean(item.serial)}), finished "
        f"{fmt.moment(item.finished_at, 'not yet')}: attested by {clean(_attested(item))}"
    )


def _verify_cells(item: VerifyFailure) -> tuple[str, ...]:
    return (item.object, item.problem, fmt.moment(item.at))


def _verify_line(item: VerifyFailure) -> str:
    return f"{clean(item.object)}: {clean(item.problem)} (checked {fmt.moment(item.at)})"


def _incomplete_cells(item: IncompleteOffload) -> tuple[str, ...]:
    return (item.serial, item.code, item.detail, fmt.moment(item.docked_at), item.session)


def _incomplete_line(item: IncompleteOffload) -> str:
    return (
        f"{clean(item.serial)}: {clean(item.code)}: {clean(item.detail)} "
        f"(docked {fmt.moment(item.docked_at)}, session {clean(item.session)})"
    )


_SPOT_COLUMNS = (
    "Item",
    "Draw",
    "Recording",
    "Path",
    "Reviewer",
    "Recorded",
    "Uninterrupted",
    "Handed over",
    "Note",
)


def _has_owner(model: type[Any]) -> bool:
    fields = model.model_fields
    return "unit" in fields and "custodian" in fields


KINDS: tuple[_Kind, ...] = (
    _Kind(
        "late_offloads",
        "Late offloads",
        "late offload",
        "late offloads",
        ("Recording", "Serial", "Path", "Late by", "Ended", "Deadline", "Offloaded"),
        _late_cells,
        _late_line,
        _has_owner(LateOffload),
    ),
    _Kind(
        "overdue_recorders",
        "Overdue recorders",
        "overdue recorder",
        "overdue recorders",
        ("Serial", "Overdue by", "Last docked"),
        _overdue_cells,
        _overdue_line,
        _has_owner(OverdueRecorder),
    ),
    _Kind(
        "drift_violations",
        "Drift violations",
        "drift violation",
        "drift violations",
        ("Serial", "Session", "Drift", "Verdict", "Method", "Measured"),
        _drift_cells,
        _drift_line,
        _has_owner(DriftViolation),
    ),
    _Kind(
        "interruptions",
        "Interruptions to review",
        "interruption to review",
        "interruptions to review",
        ("Id", "State", "Serial", "Gap", "From", "To", "Clip before", "Clip after"),
        _gap_cells,
        _gap_line,
        _has_owner(Interruption),
    ),
    _Kind(
        "unsealed_sessions",
        "Unsealed sessions",
        "unsealed session",
        "unsealed sessions",
        ("Session", "Serial", "Finished", "Attested by"),
        _unsealed_cells,
        _unsealed_line,
        _has_owner(UnsealedSession),
    ),
    _Kind(
        "verify_failures",
        "Verify failures",
        "verify failure",
        "verify failures",
        ("Object", "Problem", "Checked"),
        _verify_cells,
        _verify_line,
        _has_owner(VerifyFailure),
    ),
    _Kind(
        "incomplete_offloads",
        "Recordings that may be missing",
        "offload that may be incomplete",
        "offloads that may be incomplete",
        ("Serial", "Found", "Detail", "Docked", "Session"),
        _incomplete_cells,
        _incomplete_line,
        _has_owner(IncompleteOffload),
    ),
    # --- supervision ---
    *(
        _Kind(field, title, one, many, columns, cells, line, _has_owner(model))
        for field, title, one, many, columns, cells, line, model in (
            (
                "spot_checks_open",
                "Spot checks to review",
                "spot check to review",
                "spot checks to review",
                _SPOT_COLUMNS,
                _spot_cells,
                _spot_line,
                SpotCheckItem,
            ),
            (
                "spot_check_findings",
                "Spot-check findings",
                "spot-check finding",
                "spot-check findings",
                _SPOT_COLUMNS,
                _spot_cells,
                _spot_line,
                SpotCheckItem,
            ),
            (
                "lending",
                "Recorders lent",
                "recording on a lent recorder",
                "recordings on a lent recorder",
                ("Recording", "Serial", "Path", "Badge in name"),
                _lending_cells,
                _lending_line,
                Lending,
            ),
            (
                "media_held",
                "Media held too long",
                "recorder held too long",
                "recorders held too long",
                ("Serial", "Unplugged", "Docked again", "Too long by"),
                _held_cells,
                _held_line,
                MediaHeld,
            ),
            (
                "unregistered_recorders",
                "Unregistered recorders",
                "unregistered recorder",
                "unregistered recorders",
                ("Serial", "First docked", "Last docked"),
                _unregistered_cells,
                _unregistered_line,
                UnregisteredRecorder,
            ),
            (
                "equipment",
                "Units short of recorders",
                "unit short of recorders",
                "units short of recorders",
                ("Recorders", "Officers", "Needed", "Articles"),
                _equipment_cells,
                _equipment_line,
                EquipmentShortfall,
            ),
            (
                "work_records",
                "Work records (recording impossible)",
                "work record",
                "work records",
                ("Id", "Badge", "From", "To", "Reason", "Basis", "Reported to"),
                _work_cells,
                _work_line,
                WorkRecordView,
            ),
        )
    ),
)


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
        return "\n".join(lines + _exports_text(report)) + "\n"
    width = max(len(kind.title) for kind in KINDS)
    lines.append("Summary:")
    for kind in KINDS:
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
    return "\n".join(lines + _exports_text(report)) + "\n"


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
    head = "".join(f'<th style="{_TH}">{_h(c)}</th>' for c in _EXPORT_COLUMNS)
    rows = [
        "<tr>" + "".join(f'<td style="{_TD}">{_h(c)}</td>' for c in _export_cells(e)) + "</tr>"
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


def _html_table(kind: _Kind, items: Sequence[Any]) -> list[str]:
    span = len(kind.columns)
    out = [
        f'<table cellspacing="0" cellpadding="0" style="{_TABLE}">',
        "<tr>" + "".join(f'<th style="{_TH}">{_h(c)}</th>' for c in kind.columns) + "</tr>",
    ]

    def rows(group: Sequence[Any]) -> list[str]:
        return [
            "<tr>" + "".join(f'<td style="{_TD}">{_h(v)}</td>' for v in kind.cells(item)) + "</tr>"
            for item in group
        ]

    if not kind.grouped:
        out += rows(items)
    else:
        for unit, custodians in _grouped(items):
            count = sum(len(group) for _, group in custodians)
            out.append(
                f'<tr><th colspan="{span}" style="{_UNIT}">Unit: '
                f"{_h(_unit_label(unit))} ({count})</th></tr>"
            )
            for custodian, group in custodians:
                out.append(
                    f'<tr><th colspan="{span}" style="{_CUSTODIAN}">Custodian: '
                    f"{_h(_custodian_label(custodian))} ({len(group)})</th></tr>"
                )
                out += rows(group)
    out.append("</table>")
    return out


def render_html(report: DeadlineReport, pack_name: str) -> str:
    """The same report as a self-contained HTML e-mail: inline CSS, no external resources."""
    title = _h(_title(report, pack_name))
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
        f'<p style="margin:0 0 12px 0;">Period: {_h(_period(report))}</p>',
    ]
    out += [
        f'<p style="margin:0 0 12px 0;"><code>{_h(line)}</code></p>' for line in _head_line(report)
    ]
    if report.empty:
        out.append(f'<p style="{_NOTHING_P}">{_h(_NOTHING_LINE)}</p>')
    else:
        out.append('<table style="border-collapse:collapse;">')
        for kind in KINDS:
            n = kind.count(report)
            weight = "font-weight:bold;" if n else "color:#6a6a6a;"
            out.append(
                f'<tr style="{weight}"><td style="padding:2px 8px 2px 0;">{_h(kind.title)}</td>'
                f'<td style="{_COUNT_TD}">{n}</td></tr>'
            )
        out.append("</table>")
        for kind in KINDS:
            items = kind.items(report)
            if items:
                out.append(f'<h2 style="{_H2}">{_h(kind.title)} ({len(items)})</h2>')
                out += _html_table(kind, items)
    out += _exports_html(report)
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
