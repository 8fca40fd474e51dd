"""The report's charts as supervisors get them: the HTML part of a mail sent through a
real SMTP server (aiosmtpd), drawn by headless Chromium; and the `/report` page, for the
admin alone, on a real uvicorn server, with nothing fetched from anywhere.

Inline SVG is drawn by Apple Mail, Thunderbird and browsers, not by Gmail or Outlook: the
same numbers are in a table beside each chart and in the text part (see
`dockd.ui.report_trends`).
"""

from __future__ import annotations

import email
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.adapters.ledger.schema import RecordingRow
from dockd.adapters.rules import load_config
from dockd.app import App, build, build_web, open_ledger
from dockd.core.registry import Custodian
from dockd.ui import charts
from dockd.web.access import hash_password
from dockd.web.routes import REPORT_CSP
from dockd.web.server import WebServer
from tests.conftest import REPO, Dockd, unfreeze, write_config
from tests.integration.test_web import WebWithLogin, dump_dom, screenshot
from tests.support.png import colour_counts, hex_rgb
from tests.support.tls import TlsPair, make_tls_pair

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd")

ARTIFACTS = REPO / "tests" / "artifacts"
LATE = "SN7_0042_20261101080000_0001.AVI"
PASSWORD = "a long passphrase for the report"
TOKEN = "correct-horse-battery-staple-report"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def on_time_name(at: datetime) -> str:
    return f"SN7_0042_{at.astimezone():%Y%m%d%H%M%S}_0002.AVI"


def a_month_of_offloads(dockd: Dockd, tmp_path: Path) -> None:
    """SN7 of Harbour patrol docks a clip a month old (late) and one of an hour ago; the
    fresh one is then moved in the ledger to an offload three days ago, 20 h into its 24,
    so the month has two days with bars (the clock cannot be moved)."""
    at = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    assert dockd.run("devices", "add", "SN7", "--model", "X1").returncode == 0
    assign = ("--badge", "0042", "--name", "Wang Fang", "--unit", "Harbour patrol", "--at", at)
    assert dockd.run("devices", "assign", "SN7", *assign).returncode == 0
    src = tmp_path / "rec"
    src.mkdir()
    (src / LATE).write_bytes(b"late footage")
    fresh = on_time_name(datetime.now(UTC) - timedelta(hours=1))
    (src / fresh).write_bytes(b"fresh footage")
    assert dockd.ingest(src, "SN7").returncode == 0
    ledger = open_ledger(load_config(dockd.config))
    try:
        with ledger.transaction() as s:
            row = s.scalars(select(RecordingRow).where(RecordingRow.path == fresh)).one()
            row.verified_at = datetime.now(UTC) - timedelta(days=3)
            row.deadline = row.verified_at + timedelta(hours=4)
            row.late, row.late_by_s = False, 0.0
    finally:
        ledger.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mail_report(dockd: Dockd, tmp_path: Path) -> EmailMessage:
    inbox, port = Inbox(), free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        dockd.config.write_text(
            dockd.config.read_text()
            + f'\n[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "dock@station.example"\n'
            f'recipients = ["supervisor@station.example"]\noutbox = "{tmp_path / "outbox"}"\n'
        )
        sent = dockd.run("report", "deadlines", "--since", "24h", "--email")
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stderr
    [message] = inbox.messages
    return message


def test_the_mailed_report_draws_a_delay_chart_and_a_trend_per_unit(
    dockd: Dockd, tmp_path: Path
) -> None:
    a_month_of_offloads(dockd, tmp_path)
    message = mail_report(dockd, tmp_path)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    page, text = html_part.get_content(), text_part.get_content()

    # the words beside the charts, for readers that hide SVG, and in the text part
    for part in (page, text):
        assert "Harbour patrol" in part
        assert "2 offloads" in part and "1 late" in part
    assert "TRENDS, LAST 30 DAYS" in text

    # nothing in the mail reaches outside it
    assert not re.search(r"<(script|link|img|iframe|object|image|use)\b|\bsrc=|href=|url\(", page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}

    # Chromium parses the SVG as SVG: two bars (one over the deadline), the deadline, lines
    saved = tmp_path / "report.html"
    saved.write_text(page, encoding="utf-8")
    dom = dump_dom(tmp_path / "chromium", saved.as_uri())
    assert len(re.findall(r'<rect class="bar( over)?"', dom)) == 2
    assert len(re.findall(r'<rect class="bar over"', dom)) == 1
    assert dom.count('class="deadline"') == 1
    assert dom.count('class="series"') == 3
    assert dom.count('class="clipped"') == 1, "a month late: past the axis, value written"

    # and draws it: the chart's own colours are on the screen
    png = screenshot(
        tmp_path / "chromium", saved.as_uri(), ARTIFACTS / "report-charts.png", "1100,1300"
    )
    seen = colour_counts(png)
    for colour in (charts.BAR, charts.OVER):
        assert seen[hex_rgb(colour)] > 150, f"no {colour} drawn: see {png}"


# --- /report ------------------------------------------------------------------------------


@pytest.fixture
def station(tmp_path: Path) -> Iterator[App]:
    store, ledger = tmp_path / "store", f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = write_config(
        tmp_path / "dockd.toml", store, ledger, '\n[web]\nlisten = "127.0.0.1:0"\n'
    )
    app = build(load_config(config))
    src = tmp_path / "rec"
    src.mkdir()
    (src / LATE).write_bytes(b"late footage")
    try:
        issued = utc_now() - timedelta(days=40)
        duty = LedgerRegistry(app.ledger)
        duty.add_device("SN7", "X1", issued, "admin")
        duty.assign("SN7", Custodian("0042", "Wang Fang", "Harbour patrol"), issued, "admin")
        assert app.dock_session.ingest(src, "SN7", "generic").state == "completed"
        yield app
    finally:
        app.close()
        unfreeze(store)


def serve(app: App, **web: Any) -> WebServer:
    app.config = app.config.model_copy(update={"web": WebWithLogin(**web)})
    server = build_web(app)
    assert server.start()
    return server


def assert_self_contained(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == REPORT_CSP
    assert "script-src" not in REPORT_CSP and "default-src 'none'" in REPORT_CSP
    page = response.text
    assert page.count("<svg ") == 2 and "Unit: Harbour patrol" in page
    assert LATE in page
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|href=|url\(", page)


def test_report_is_refused_on_loopback_until_the_admin_has_a_login(station: App) -> None:
    server = serve(station, listen="127.0.0.1:0")
    try:
        with httpx.Client(base_url=server.url.rstrip("/"), trust_env=False) as http:
            status, report = http.get("/"), http.get("/report")
    finally:
        server.stop()
    assert status.status_code == 200, "the status page stays open on loopback"
    assert report.status_code == 403
    assert "[web] basic_auth or [web] token" in report.text


def test_report_on_loopback_asks_the_admins_token(station: App) -> None:
    server = serve(station, listen="127.0.0.1:0", token=TOKEN)
    try:
        with httpx.Client(base_url=server.url.rstrip("/"), trust_env=False) as http:
            anonymous = http.get("/report")
            wrong = http.get("/report", headers={"Authorization": "Bearer nope"})
            right = http.get("/report", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.stop()
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")
    assert_self_contained(right)


def test_report_over_https_for_the_admin_only(station: App, tmp_path: Path) -> None:
    tls: TlsPair = make_tls_pair(tmp_path / "tls")
    hashed = hash_password(PASSWORD, iterations=100_000)
    server = serve(
        station,
        listen="0.0.0.0:0",
        tls_cert=tls.cert,
        tls_key=tls.key,
        basic_auth=f"admin:{hashed}",
    )
    verify = ssl.create_default_context(cafile=tls.cert)
    try:
        base = f"https://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, trust_env=False, verify=verify) as http:
            anonymous = http.get("/report")
            wrong = http.get("/report", auth=("admin", "guess"))
            right = http.get("/report", auth=("admin", PASSWORD))
    finally:
        server.stop()
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert_self_contained(right)
    assert right.headers["strict-transport-security"]
