"""`dockd status`: the status page's picture in a terminal (drawn by `dockd.ui.board`).

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
from rich.console import Console
from rich.live import Live

from dockd.app import build_status
from dockd.core.access import access_for, configured_token
from dockd.core.net import parse_listen
from dockd.core.status import POLL_S
from dockd.core.status_document import StatusDocument
from dockd.errors import EXIT_OK, EXIT_PROBLEM, ConfigError
from dockd.ui.board import render

if TYPE_CHECKING:
    from dockd.app import App

HTTP_TIMEOUT_S = 2.0


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
