"""`dockd status`: the status page's picture in a terminal (rich tables and progress bars).

The live board is only in the daemon's memory, so the picture is fetched from the daemon's
`/api/status` at `[web] listen` when it answers (with `[web] token`, or a password asked for
once when only basic auth is configured). When it does not, the picture is built from the
ledger alone, the slots are unknown, and the output says so.

`--json` prints the `/api/status` document (with `--watch`: one compact document per line);
`--watch` redraws every 2 s until Ctrl-C. Exit status 1 when something is wrong at the
station (a red alert), else 0.
"""

from __future__ import annotations

import base64
import getpass
import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dockd.app import build_status
from dockd.core.access import access_for, configured_token
from dockd.core.backlog import CentralBacklog, CentralStatus
from dockd.core.net import parse_listen
from dockd.core.status import POLL_S
from dockd.core.status_document import SlotCard, StatusDocument
from dockd.errors import EXIT_OK, EXIT_PROBLEM, ConfigError
from dockd.ui import format as fmt
from dockd.ui.format import SESSION_LABELS, STATE_LABELS, VERDICT_LABELS
from dockd.ui.i18n import ENGLISH, N_, Locale

if TYPE_CHECKING:
    from dockd.app import App

HTTP_TIMEOUT_S = 2.0
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


def daemon_url(listen: str, tls: bool) -> str:
    """Where this machine reaches the daemon's pages: a wildcard bind is reached on loopback."""
    host, port = parse_listen(listen)
    if host in ("0.0.0.0", ""):  # noqa: S104 - a wildcard bind, reached through loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def _trusting(cert: Path | None) -> ssl.SSLContext | None:
    """The station's own certificate and nothing else: the daemon is reached on loopback,
    where the name the certificate was made for need not be the one dialled."""
    if cert is None:
        return None
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    return context


class Picture:
    """The newest StatusDocument: from the daemon when it answers, else from the ledger."""

    def __init__(self, app: App, interactive: bool | None = None) -> None:
        self.app = app
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.offline = build_status(app, live=False)
        self.token = configured_token(app.config.web)
        basic: str | None = getattr(app.config.web, "basic_auth", None) or None
        self.user = basic.partition(":")[0] if basic else None
        self.authorization = f"Bearer {self.token}" if self.token else None
        self.asked = False
        try:
            access_for(app.config.web)
            web = app.config.web
            self.url: str | None = daemon_url(web.listen, web.tls_cert is not None)
            self.context = _trusting(web.tls_cert)
            self.problem: str | None = None
        except ConfigError as exc:
            tr = app.locale
            message = tr.message(exc)
            self.url = None
            self.problem = tr("the daemon cannot serve its pages: {error}", error=message)
            self.context = None

    def get(self) -> tuple[StatusDocument, str | None]:
        """(document, why it is not live) — the reason is None when it came from the daemon."""
        tr = self.app.locale
        if self.url is None:
            return self.offline.document(), self.problem
        try:
            return self._fetch(self.url), None
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and self._ask_password():
                return self.get()
            reason = tr("dockd at {url} answered HTTP {status}", url=self.url, status=exc.code)
            if exc.code == 401:
                reason += " " + tr("(set [web] token so that `dockd status` can log in)")
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            reason = tr(
                "dockd is not running (nothing answers at {url}: {why})", url=self.url, why=why
            )
        except (ValidationError, ValueError) as exc:
            reason = tr(
                "dockd at {url} sent a document this dockd cannot read: {error}",
                url=self.url,
                error=exc,
            )
        return self.offline.document(), reason

    def _fetch(self, url: str) -> StatusDocument:
        headers = {"Accept": "application/json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(url + "api/status", headers=headers)  # noqa: S310
        opened = urllib.request.urlopen(  # noqa: S310
            request, timeout=HTTP_TIMEOUT_S, context=self.context
        )
        with opened as response:
            return StatusDocument.model_validate_json(response.read())

    def _ask_password(self) -> bool:
        if self.asked or self.user is None or not self.interactive:
            return False
        self.asked = True
        password = getpass.getpass(f"password of {self.user} for {self.url}: ")
        pair = base64.b64encode(f"{self.user}:{password}".encode()).decode()
        self.authorization = f"Basic {pair}"
        return True


# --- rendering --------------------------------------------------------------------------------


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
        if card.hand_to_admin:
            admin = Text(f"{tr('Hand this recorder to the admin:')} {card.message or ''}", "bold")
            return Group(safe, Text(detail), admin)
        return Group(safe, Text(detail))
    if card.state in ("interrupted", "error"):
        lines = [Text(f"{card.code or card.state}: {card.message or ''}", style="bold")]
        if card.hint:
            lines.append(Text(card.hint, style="dim"))
        return Group(*lines)
    if card.state == "mounting":
        return Text(tr("write-blocked, mounting read-only…"), style="dim")
    return Text("")


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
        parts.append(
            Text(
                "— : the deadline report could not be read from the ledger (see the journal)", "dim"
            )
        )
    issues: list[str] = []
    issues += [
        (
            f"late offload  {g.serial} {g.first.path}: late by {fmt.duration(g.worst_s)}"
            if g.count == 1
            else f"late offloads  {g.serial}: {g.count} recordings, up to {fmt.duration(g.worst_s)}"
        )
        + (f" (at {g.station})" if g.station else "")
        for g in fmt.group_late(t.late_offloads or [])
    ]
    issues += [
        f"overdue  {x.serial}: by {fmt.duration(x.overdue_by_s)}, last docked "
        f"{fmt.local_datetime(x.last_docked)}"
        for x in t.overdue_recorders or []
    ]
    issues += [
        f"clock drift  {x.serial}: {fmt.drift(x.drift_s)} ({x.verdict}, {x.method})"
        for x in t.drift_violations
    ]
    issues += [
        f"interruption  {x.serial}: gap of {fmt.duration(x.gap_s)} after {x.before}"
        for x in t.interruptions or []
    ]
    issues += [f"unsealed  {x.serial}: session {x.session}" for x in t.unsealed_sessions or []]
    issues += [f"verify  {x.problem}: {x.object}" for x in t.verify_failures]
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


def _station(doc: StatusDocument, tr: Locale) -> RenderableType:
    st = doc.station
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    c = st.clock
    if c is None:
        clock = Text("unknown (could not be read)", style="yellow")
    elif c.synchronised:
        via = " · ".join(
            x for x in (c.method, c.server, f"stratum {c.stratum}" if c.stratum else "") if x
        )
        clock = Text.assemble(("synchronised", "green"), f" offset {fmt.offset(c.offset_s)}  {via}")
    else:
        clock = Text(f"NOT synchronised: {c.detail}", style="bold red")
    grid.add_row(tr("Station clock"), clock)
    s = st.store
    if s is None:
        grid.add_row(tr("Evidence store"), Text(f"unreadable: {st.store_error}", style="bold red"))
    else:
        left = (
            "nothing copied in the last 7 days"
            if s.days_left is None
            else f"{fmt.days_left(s.days_left, tr)} at {fmt.size(s.ingest_bytes_per_day)}/day"
        )
        grid.add_row(
            tr("Evidence store"),
            Group(
                Text(f"{fmt.size(s.free_bytes)} free of {fmt.size(s.size_bytes)} · {left}"),
                ProgressBar(
                    total=max(s.size_bytes, 1), completed=s.size_bytes - s.free_bytes, width=40
                ),
            ),
        )
    v = st.last_verify
    if v is None:
        verify = Text("never (run `dockd verify`)", style="yellow")
    elif v.result == "ok":
        at = fmt.local_datetime(v.at, tr.zone)
        verify = Text(f"all {fmt.count(v.checked)} objects match · {at}", "green")
    else:
        verify = Text(
            f"{v.findings} of {fmt.count(v.checked)} objects FAILED · "
            f"{fmt.local_datetime(v.at, tr.zone)}",
            style="bold red",
        )
    grid.add_row(tr("Last verify"), verify)
    if doc.central is not None:
        grid.add_row(tr("Central store"), _central(doc.central))
    grid.add_row(tr("Policy"), f"{st.policy_name} ({st.policy})")
    running = (
        tr("up {duration}", duration=fmt.duration(st.uptime_s, tr))
        if st.uptime_s is not None
        else tr("daemon not running")
    )
    grid.add_row("dockd", f"{st.version} · {running}")
    return Panel(grid, title=tr("Station"), expand=True)


def _central(central: CentralStatus) -> Text:
    b = central.backlog
    if not b.objects:
        return _lock_upkeep(Text(f"all {fmt.count(b.confirmed)} objects confirmed", "green"), b)
    text = Text(f"backlog {fmt.count(b.objects)} objects, {fmt.size(b.bytes)}")
    text.append(f" · oldest {fmt.duration(b.oldest_s)} ago")
    if b.failed_codes:
        codes = ", ".join(f"{f.code} × {f.objects}" for f in b.failed_codes)
        text.append(f" · failed: {codes}", style="bold red")
    if central.late_to_central:
        within = f"{central.confirm_within_hours:g} h"
        text.append(f" · {central.late_to_central} late (> {within})", style="yellow")
    return _lock_upkeep(text, b)


def _lock_upkeep(text: Text, b: CentralBacklog) -> Text:
    if b.lock_upkeep_overdue:
        lag = fmt.duration(b.lock_upkeep_oldest_s)
        text.append(f" · {b.lock_upkeep_overdue} lock(s) lagging, oldest {lag}", style="yellow")
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
            tr(a.message, **a.values) if a.message else a.text,
            style="bold red" if a.level == "bad" else "yellow",
        )
        for a in doc.alerts
    )
    parts += [_slots(doc, tr), _today(doc, tr), _station(doc, tr)]
    return Group(*parts)


def exit_code(doc: StatusDocument) -> int:
    return EXIT_PROBLEM if any(a.level == "bad" for a in doc.alerts) else EXIT_OK


def run_status(
    app: App, *, as_json: bool = False, watch: bool = False, console: Console | None = None
) -> int:
    console = console or Console()
    picture = Picture(app)
    tr = app.locale
    try:
        if as_json:
            while True:
                doc, not_live = picture.get()
                if not_live:
                    said = tr("{why}: this picture is from the ledger alone.", why=not_live)
                    sys.stderr.write(f"dockd: {said}\n")
                if not watch:
                    sys.stdout.write(doc.model_dump_json(indent=2) + "\n")
                    return exit_code(doc)
                sys.stdout.write(json.dumps(doc.model_dump(mode="json")) + "\n")
                sys.stdout.flush()
                time.sleep(POLL_S)
        doc, not_live = picture.get()
        if not watch:
            console.print(render(doc, not_live, tr))
            return exit_code(doc)
        with Live(render(doc, not_live, tr), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(POLL_S)
                live.update(render(*picture.get(), tr), refresh=True)
    except KeyboardInterrupt:
        return EXIT_OK
