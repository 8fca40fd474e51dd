"""The mailed nightly report's central-store section, through a real SMTP server
(aiosmtpd) and a real SeaweedFS: the backlog of objects not yet confirmed while they wait,
and the all-clear once `dockd forward` has confirmed them."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from dockd.ui.format import size
from tests.conftest import Dockd
from tests.integration.test_forward import forward, use_central
from tests.integration.test_report_email import Inbox, _configure_mail, _free_port, _late_recording
from tests.support.seaweed import SeaweedServer

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd")


def mailed(dockd: Dockd, port: int) -> EmailMessage:
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sent = dockd.run("report", "deadlines", "--since", "48h", "--email")
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stdout + sent.stderr
    (message,) = inbox.messages
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_the_mailed_report_shows_the_backlog_then_that_every_object_is_confirmed(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    _late_recording(dockd, tmp_path)  # the recording and its session's manifest
    port = _free_port()
    _configure_mail(dockd, port, tmp_path / "outbox")
    held = sum(path.stat().st_size for path in dockd.objects())
    text, html = parts(mailed(dockd, port))
    backlog = (
        "\nCENTRAL STORE BACKLOG\n"
        f"  Not confirmed centrally: 2 objects, {size(held)} (2 not sent, 0 pending, "
        "0 failed); 0 confirmed.\n  Oldest stored "
    )
    assert backlog in text, text
    assert "Central store backlog</h2>" in html and "2 not sent, 0 pending, 0 failed" in html
    assert forward(dockd)["confirmed"] == 2
    text, html = parts(mailed(dockd, port))
    cleared = "\nCENTRAL STORE BACKLOG\n  Every object held here is confirmed centrally (2).\n"
    assert cleared in text, text
    assert "Not confirmed centrally" not in text and "Every object held here" in html
