"""The status document drawn for a terminal (rich tables and progress bars): what
`dockd status` prints, in the station's language (`[station] language`) and zone.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dockd.core.backlog import CentralBacklog, CentralStatus
from dockd.core.said import Said
from dockd.core.status_document import ClockState, LastVerify, SlotCard, StatusDocument, Today
from dockd.ui import format as fmt
from dockd.ui.format import SESSION_LABELS, STATE_LABELS, VERDICT_LABELS
from dockd.ui.i18n import ENGLISH, N_, Locale

STATE_STYLES = {
    "empty": "dim",
    "mounting": "cyan",
    "copying": "bold blue",
    "verifying": "bold blue",
    "done": "bold green",
    "interrupted": "bold yellow",
    "error": "bold red",
}
SESSION_STYLES = {
    "running": "blue",
    "completed": "green",
    "completed_with_problems": "yellow",
    "interrupted": "yellow",
    "failed": "red",
}
VERDICT_STYLES = {"warn": "yellow", "violation": "bold red"}
SESSION_COLUMNS = (
    N_("Started"),
    N_("Recorder"),
    N_("Slot"),
    N_("State"),
    N_("Copied"),
    N_("Size"),
    N_("Drift"),
    N_("Problems"),
)


def _drift(value: float | None, verdict: str | None, tr: Locale) -> Text:
    if value is None:
        return Text("—", style="dim")
    text = fmt.drift(value, tr)
    if verdict in ("warn", "violation"):
        text += f" {tr(VERDICT_LABELS[verdict])}"
    return Text(text, style=VERDICT_STYLES.get(verdict or "", ""))


def _progress(card: SlotCard, tr: Locale) -> RenderableType:
    if card.state in ("copying", "verifying"):
        bar = ProgressBar(total=max(card.bytes_total, 1), completed=card.bytes_done, width=24)
        files = tr(
            "{done}/{total} files",
            done=fmt.count(card.files_done),
            total=fmt.count(card.files_total),
        )
        line = Text(
            f"{fmt.pct(card.bytes_done, card.bytes_total)} · {files} · "
            f"{fmt.size(card.bytes_done)}/{fmt.size(card.bytes_total)}"
        )
        return Group(bar, line)
    if card.state == "done":
        detail = (
            tr(
                "{done} of {total} files verified",
                done=fmt.count(card.files_done),
                total=fmt.count(card.files_total),
            )
            if card.files_total
            else tr("nothing new to copy")
        )
        safe = Text(f" {tr('SAFE TO UNPLUG')} ", style="bold white on green")
        message = _said(card.message_said, tr)
        if card.hand_to_admin:
            admin = Text(f"{tr('Hand this recorder to the admin:')} {message}", "bold")
            return Group(safe, Text(detail), admin, Text(_said(card.hint_said, tr), "dim"))
        if message:  # what was done after the copy: cleared, or why not
            after = message + (f" ({card.code})" if card.code else "")
            return Group(safe, Text(detail), Text(after, "yellow" if card.code else ""))
        return Group(safe, Text(detail))
    if card.state in ("interrupted", "error"):
        lines = [Text(f"{card.code or card.state}: {_said(card.message_said, tr)}", "bold")]
        if card.hint:
            lines.append(Text(_said(card.hint_said, tr), style="dim"))
        return Group(*lines)
    if card.state == "mounting":
        return Text(tr("write-blocked, mounting read-only…"), style="dim")
    return Text("")


def _said(text: Said | None, tr: Locale) -> str:
    return tr.say(text) if text is not None else ""


def _slots(doc: StatusDocument, tr: Locale) -> RenderableType:
    if not doc.live:
        return Text(tr("Slots unknown: the daemon's live board is not available."), "yellow")
    if not doc.slots:
        return Text(tr("No recorder docked."), style="dim")
    table = Table(title=tr("Slots"), title_justify="left", expand=True, show_lines=True)
    for name, kwargs in (
        (N_("Slot"), {}),
        (N_("State"), {}),
        (N_("Recorder"), {}),
        (N_("Profile"), {}),
        (N_("Custodian"), {}),
        (N_("Progress"), {"ratio": 3, "min_width": 28}),
        (N_("Rate"), {"justify": "right"}),
        (N_("ETA"), {"justify": "right"}),
        (N_("Drift"), {"justify": "right"}),
    ):
        table.add_column(tr(name), **kwargs)
    for card in doc.slots:
        table.add_row(
            card.slot,
            Text(tr(STATE_LABELS[card.state]).lower(), style=STATE_STYLES[card.state]),
            Text(card.serial or "—", style="bold"),
            card.profile or "—",
            card.custodian or "—",
            _progress(card, tr),
            fmt.rate(card.rate_bps) if card.rate_bps is not None else "",
            fmt.duration(card.eta_s, tr) if card.eta_s is not None else "",
            _drift(card.drift_s, card.drift_verdict, tr),
        )
    return table


def _count(items: list[object] | None) -> Text:
    if items is None:
        return Text("—", style="dim")
    return Text(str(len(items)), style="bold red" if items else "green")


def _today(doc: StatusDocument, tr: Locale) -> RenderableType:
    t = doc.today
    counts = Table.grid(padding=(0, 3))
    labels = [
        tr(label)
        for label in (
            N_("Sessions"),
            N_("Late offloads"),
            N_("Overdue recorders"),
            N_("Drift violations"),
            N_("Interruptions"),
        )
    ]
    for label in labels:
        counts.add_column(label)
    counts.add_row(*(Text(label, style="dim") for label in labels))
    counts.add_row(
        Text(str(len(t.sessions)), style="bold"),
        _count(list(t.late_offloads) if t.late_offloads is not None else None),
        _count(list(t.overdue_recorders) if t.overdue_recorders is not None else None),
        _count(list(t.drift_violations)),
        _count(list(t.interruptions) if t.interruptions is not None else None),
    )
    parts: list[RenderableType] = [counts]
    if not t.deadline_report:
        said = tr("— : the deadline report could not be read from the ledger (see the journal)")
        parts.append(Text(said, "dim"))
    issues = _issues(t, tr)
    parts.extend(Text(line, style="yellow") for line in issues)
    if t.sessions:
        table = Table(expand=True, box=None, header_style="dim")
        for name in SESSION_COLUMNS:
            right = name in ("Copied", "Size", "Drift", "Problems")
            table.add_column(tr(name), justify="right" if right else "left")
        for s in t.sessions:
            table.add_row(
                fmt.time_of_day(s.started_at, tr.zone),
                s.serial,
                s.slot or "—",
                Text(tr(SESSION_LABELS[s.state]), style=SESSION_STYLES[s.state]),
                fmt.count(s.recordings),
                fmt.size(s.bytes_copied),
                _drift(s.drift_s, s.drift_verdict, tr),
                Text(str(s.problems), style="bold red" if s.problems else ""),
            )
        parts.append(table)
    else:
        parts.append(Text(tr("No dock sessions yet today."), style="dim"))
    title = f"{tr('Today')} · {fmt.day(t.since, tr.zone, tr)}"
    return Panel(Group(*parts), title=title, expand=True)


def _issues(t: Today, tr: Locale) -> list[str]:
    """Today's trouble, a line each, as the page's lists have it."""
    issues: list[str] = []
    for g in fmt.group_late(t.late_offloads or []):
        worst = fmt.duration(g.worst_s, tr)
        line = (
            tr(
                "late offload  {serial} {path}: late by {duration}",
                serial=g.serial,
                path=g.first.path,
                duration=worst,
            )
            if g.count == 1
            else tr(
                "late offloads  {serial}: {count} recordings, up to {duration}",
                serial=g.serial,
                count=g.count,
                duration=worst,
            )
        )
        issues.append(
            tr("{line} (at {station})", line=line, station=g.station) if g.station else line
        )
    issues += [
        tr(
            "overdue  {serial}: by {duration}, last docked {docked}",
            serial=x.serial,
            duration=fmt.duration(x.overdue_by_s, tr),
            docked=fmt.local_datetime(x.last_docked, tr.zone),
        )
        for x in t.overdue_recorders or []
    ]
    issues += [
        tr(
            "clock drift  {serial}: {drift} ({verdict}, {method})",
            serial=x.serial,
            drift=fmt.drift(x.drift_s, tr),
            verdict=tr(VERDICT_LABELS[x.verdict]),
            method=x.method,
        )
        for x in t.drift_violations
    ]
    issues += [
        tr(
            "interruption  {serial}: gap of {duration} after {before}",
            serial=x.serial,
            duration=fmt.duration(x.gap_s, tr),
            before=x.before,
        )
        for x in t.interruptions or []
    ]
    issues += [
        tr("unsealed  {serial}: session {session}", serial=x.serial, session=x.session)
        for x in t.unsealed_sessions or []
    ]
    issues += [
        tr("verify  {problem}: {object}", problem=x.problem, object=x.object)
        for x in t.verify_failures
    ]
    return issues


def _station(doc: StatusDocument, tr: Locale) -> RenderableType:
    st = doc.station
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row(tr("Station clock"), _clock(st.clock, tr))
    s = st.store
    if s is None:
        unreadable = tr("unreadable: {error}", error=st.store_error)
        grid.add_row(tr("Evidence store"), Text(unreadable, style="bold red"))
    else:
        left = (
            tr("nothing copied in the last 7 days")
            if s.days_left is None
            else tr(
                "{days_left} at {rate}/day",
                days_left=fmt.days_left(s.days_left, tr),
                rate=fmt.size(s.ingest_bytes_per_day),
            )
        )
        space = tr(
            "{free} free of {size}", free=fmt.size(s.free_bytes), size=fmt.size(s.size_bytes)
        )
        grid.add_row(
            tr("Evidence store"),
            Group(
                Text(f"{space} · {left}"),
                ProgressBar(
                    total=max(s.size_bytes, 1), completed=s.size_bytes - s.free_bytes, width=40
                ),
            ),
        )
    grid.add_row(tr("Last verify"), _verify(st.last_verify, tr))
    if doc.central is not None:
        grid.add_row(tr("Central store"), _central(doc.central, tr))
    grid.add_row(tr("Policy"), f"{st.policy_name} ({st.policy})")
    running = (
        tr("up {duration}", duration=fmt.duration(st.uptime_s, tr))
        if st.uptime_s is not None
        else tr("daemon not running")
    )
    grid.add_row("dockd", f"{st.version} · {running}")
    return Panel(grid, title=tr("Station"), expand=True)


def _clock(c: ClockState | None, tr: Locale) -> Text:
    if c is None:
        return Text(tr("unknown (could not be read)"), style="yellow")
    if not c.synchronised:
        return Text(tr("NOT synchronised: {detail}", detail=c.detail), style="bold red")
    stratum = tr("stratum {n}", n=c.stratum) if c.stratum else ""
    via = " · ".join(x for x in (c.method, c.server, stratum) if x)
    offset = tr("offset {offset}", offset=fmt.offset(c.offset_s))
    return Text.assemble((tr("synchronised"), "green"), f" {offset}  {via}")


def _verify(v: LastVerify | None, tr: Locale) -> Text:
    if v is None:
        return Text(tr("never (run `dockd verify`)"), style="yellow")
    at = fmt.local_datetime(v.at, tr.zone)
    checked = fmt.count(v.checked)
    if v.result == "ok":
        return Text(tr("all {count} objects match · {at}", count=checked, at=at), "green")
    failed = tr(
        "{findings} of {count} objects FAILED · {at}", findings=v.findings, count=checked, at=at
    )
    return Text(failed, style="bold red")


def _central(central: CentralStatus, tr: Locale) -> Text:
    b = central.backlog
    if not b.objects:
        confirmed = tr("all {count} objects confirmed", count=fmt.count(b.confirmed))
        return _lock_upkeep(Text(confirmed, "green"), b, tr)
    text = Text(
        tr("backlog {count} objects, {size}", count=fmt.count(b.objects), size=fmt.size(b.bytes))
    )
    text.append(" · " + tr("oldest {duration} ago", duration=fmt.duration(b.oldest_s, tr)))
    if b.failed_codes:
        codes = ", ".join(f"{f.code} × {f.objects}" for f in b.failed_codes)
        text.append(" · " + tr("failed: {codes}", codes=codes), style="bold red")
    if central.late_to_central:
        late = tr(
            "{count} late (> {hours} h)",
            count=central.late_to_central,
            hours=f"{central.confirm_within_hours:g}",
        )
        text.append(" · " + late, style="yellow")
    return _lock_upkeep(text, b, tr)


def _lock_upkeep(text: Text, b: CentralBacklog, tr: Locale) -> Text:
    if b.lock_upkeep_overdue:
        lagging = tr(
            "{count} lock(s) lagging, oldest {duration}",
            count=b.lock_upkeep_overdue,
            duration=fmt.duration(b.lock_upkeep_oldest_s, tr),
        )
        text.append(" · " + lagging, style="yellow")
    return text


def render(doc: StatusDocument, not_live: str | None, tr: Locale = ENGLISH) -> RenderableType:
    """The picture in the station's language (`[station] language`) and zone."""
    head = Text.assemble(
        ("dockd", "bold"),
        f" · {doc.station.host} · ",
        (tr("live") if doc.live else tr("from the ledger"), "green" if doc.live else "yellow"),
        f" · {fmt.time_of_day(doc.generated_at, tr.zone)}  ",
        (fmt.summary(doc, tr), "dim"),
    )
    parts: list[RenderableType] = [head]
    if not_live:
        said = tr("{why}: this picture is from the ledger alone.", why=not_live)
        parts.append(Text(said, style="yellow"))
    parts.extend(
        Text(
            tr.say(a.said),
            style="bold red" if a.level == "bad" else "yellow",
        )
        for a in doc.alerts
    )
    parts += [_slots(doc, tr), _today(doc, tr), _station(doc, tr)]
    return Group(*parts)
