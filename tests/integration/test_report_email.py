"""`dockd report deadlines --email` against a real SMTP server (aiosmtpd): delivery,
a relay that is down (the report is kept, exit 1), and the kept report sent first later."""

from __future__ import annotations

import email
import json
import socket
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Dockd

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _late_recording(dockd: Dockd, tmp_path: Path) -> None:
    """A clip that ended in 2026-11-01 is offloaded now: late under every pack."""
    src = tmp_path / "rec"
    src.mkdir()
    (src / "SN7_0042_20261101080000_0001.AVI").write_bytes(b"late footage")
    assert dockd.ingest(src, "SN7").returncode == 0, "lateness is reported, not a problem"


def _configure_mail(dockd: Dockd, port: int, outbox: Path) -> None:
    text = dockd.config.read_text()
    dockd.config.write_text(
        text + f'\n[mail]\nhost = "127.0.0.1"\nport = {port}\nsender = "dock@station.example"\n'
        f'recipients = ["supervisor@station.example"]\noutbox = "{outbox}"\n'
        "timeout_seconds = 3\n"
    )


def test_report_is_mailed_kept_when_the_relay_is_down_and_sent_first_later(
    dockd: Dockd, tmp_path: Path
) -> None:
    _late_recording(dockd, tmp_path)
    port = _free_port()
    outbox = tmp_path / "outbox"
    _configure_mail(dockd, port, outbox)

    down = dockd.run("report", "deadlines", "--since", "48h", "--email")
    assert down.returncode == 1
    assert "MAIL_FAILED" in down.stderr
    kept = sorted(outbox.glob("*.eml"))
    assert len(kept) == 1, "an undelivered report must be kept for re-sending"

    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = dockd.run("report", "deadlines", "--since", "48h", "--email")
    finally:
        controller.stop()

    assert up.returncode == 0, up.stderr
    assert len(inbox.messages) == 2, "the kept report first, then tonight's"
    assert not list(outbox.glob("*.eml")) and len(list((outbox / "sent").glob("*.eml"))) == 1
    message = inbox.messages[-1]
    assert message.get_content_type() == "multipart/alternative"
    assert "1 late offload" in message["Subject"]
    plain_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert plain_part is not None and html_part is not None
    text, html = plain_part.get_content(), html_part.get_content()
    for part in (text, html):
        assert "SN7_0042_20261101080000_0001.AVI" in part
    assert message["To"] == "supervisor@station.example"


def test_without_email_anything_reported_exits_1_and_json_has_every_list(
    dockd: Dockd, tmp_path: Path
) -> None:
    _late_recording(dockd, tmp_path)
    result = dockd.run("report", "deadlines", "--since", "48h", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) >= {
        "late_offloads",
        "overdue_recorders",
        "drift_violations",
        "interruptions",
        "unsealed_sessions",
        "verify_failures",
    }
    [late] = report["late_offloads"]
    assert late["path"] == "SN7_0042_20261101080000_0001.AVI" and late["late_by_s"] > 0


def test_since_last_starts_where_the_last_mailed_report_ended(dockd: Dockd, tmp_path: Path) -> None:
    """The timer is Persistent: a dock that was off at 02:00 must report the whole gap."""
    _late_recording(dockd, tmp_path)
    port = _free_port()
    _configure_mail(dockd, port, tmp_path / "outbox")
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        first = dockd.run("report", "deadlines", "--since", "last", "--email", "--json")
        second = dockd.run("report", "deadlines", "--since", "last", "--email", "--json")
    finally:
        controller.stop()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "no report was e-mailed before" in first.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    until = datetime.fromisoformat(one["until"])
    assert datetime.fromisoformat(one["since"]) == until - timedelta(hours=24)
    assert [late["path"] for late in one["late_offloads"]] == ["SN7_0042_20261101080000_0001.AVI"]
    assert datetime.fromisoformat(two["since"]) == until, "the next period starts there"
    assert two["late_offloads"] == [], "reported once, not again"
    assert len(inbox.messages) == 2

    looked = dockd.run("report", "deadlines", "--since", "last", "--json")
    assert json.loads(looked.stdout)["since"] == two["until"], "only e-mailed reports move it"
    issued = dockd.custody_events("report-issued")
    assert [e["details"]["delivery"] for e in issued] == ["sent", "sent"]
    assert issued[0]["details"]["counts"]["late_offloads"] == 1
