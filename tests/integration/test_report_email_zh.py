"""`dockd report deadlines --email` in Chinese, through a real SMTP server (aiosmtpd): a
station that says `[station] language = "zh-CN"` (as the shipped packs do) gets its report
in Chinese, with every time in Beijing time and its offset, while the JSON stays RFC 3339."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_report_email import (
    Inbox,
    _configure_mail,
    _free_port,
    _late_recording,
)

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the default pack's [station] timezone


@pytest.fixture
def chinese_dockd(tmp_path: Path) -> Iterator[Dockd]:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = write_config(tmp_path / "dockd.toml", store, ledger, language="zh-CN")
    yield Dockd(config, store, ledger)
    unfreeze(store)


def test_the_nightly_report_in_chinese_with_beijing_time(
    chinese_dockd: Dockd, tmp_path: Path
) -> None:
    dockd = chinese_dockd
    _late_recording(dockd, tmp_path)
    as_json = dockd.run("report", "deadlines", "--since", "48h", "--json")
    [late] = json.loads(as_json.stdout)["late_offloads"]
    end = datetime.fromisoformat(late["end"])
    assert end.utcoffset() is not None, "the JSON keeps RFC 3339 with its offset"
    ended = end.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M +08:00")

    port = _free_port()
    _configure_mail(dockd, port, tmp_path / "outbox")
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sent = dockd.run("report", "deadlines", "--since", "48h", "--email")
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stderr
    # what happened to the mail, in the station's language too
    assert sent.stdout.splitlines()[-1].startswith("报告已通过邮件发送给 "), sent.stdout
    [message] = inbox.messages
    assert message["Content-Language"] == "zh-CN"
    assert message["Subject"].startswith("dockd: 1 条逾期导出")
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    text, page = plain.get_content(), html.get_content()
    assert text.splitlines()[0].startswith("dockd 每日报告 — ")
    assert "汇总：" in text and "\n逾期导出 (1)\n" in text
    assert f"结束于 {ended}，" in text, text
    assert f">{ended}</td>" in page and '<html lang="zh-CN">' in page
    assert "UTC" not in text and "UTC" not in page
    # the terminal gets the same report
    terminal = dockd.run("report", "deadlines", "--since", "48h")
    assert f"结束于 {ended}，" in terminal.stdout
