"""Every slot message in the reader's language: on a real App and uvicorn server, the board
fed by the daemon's own code with real failures (a dock session's error with values, a
refusal to clear, a real clearing of a recorder folder with files kept, a real unlock
command that fails), drawn by headless Chromium in zh-CN (screenshot in tests/artifacts/)
and by `dockd status` under `[station] language = "zh-CN"`. No English may be left in those
slots beyond their data (slot, serial, profile, code, paths, the custodian's name)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockd.adapters.clock import utc_now
from dockd.adapters.unlock import run_unlock
from dockd.core.clearing import clearing_refusal
from dockd.daemon.unlock import Unlocker, board_slot
from dockd.errors import DockdError
from dockd.web.server import WebServer
from tests.conftest import REPO
from tests.integration.test_web import (  # noqa: F401 (fixtures)
    SERIAL,
    Station,
    _clip,
    chromium,
    server,
    station,
)

ARTIFACTS = REPO / "tests" / "artifacts"
DEVNODE = "/dev/bus/usb/001/007"
UNLOCK_SLOT = board_slot(DEVNODE)
CARD = re.compile(r'<article class="card[^"]*" data-slot="([^"]+)">(.*?)</article>', re.S)

ERROR_ZH = "没有记录仪型号配置 'no-such-profile'（已有：dcim, gat947, generic）"
NOT_CLEARED_ZH = "未清空：该记录仪有 2 条录像处于保全中"
CLEARED_ZH = (
    f"已从记录仪清空 2 个文件；保留 2 个：{_clip(1)}（校验后已被改动（大小或时间不同））；"
    f"{_clip(9)}（此文件没有已校验的副本）"
)
UNLOCK_ZH = "型号配置 'gat947' 的解锁命令失败（退出状态 3）；记录仪未显示磁盘"


@pytest.fixture
def troubled(station: Station, tmp_path: Path) -> Station:  # noqa: F811 (the fixture above)
    """The four slots whose words carry values, each from the code the daemon runs."""
    app, board = station.app, station.app.board
    board.clear("bay1")  # copying: its sizes and rate are not words
    board.clear("bay2")
    try:
        app.dock_session.ingest(tmp_path / "recorder", "SN0003", "no-such-profile", slot="bay3")
    except DockdError as exc:
        board.show_error("bay3", exc, state="error", serial="SN0003", profile="no-such-profile")
    else:
        pytest.fail("an unknown profile docked")

    refusal = clearing_refusal(
        pack_allows=True, enabled=True, session_state="completed", fully_verified=True, holds=2
    )
    assert refusal is not None
    board.set("bay4", state="done", serial="SN0004", profile="generic", files_total=2)
    board.set("bay4", files_done=2)
    board.show_not_cleared("bay4", refusal)

    recorder = tmp_path / "recorder"  # the folder the station's verified session copied
    with (recorder / _clip(1)).open("ab") as fh:
        fh.write(b"recorded over since")
    (recorder / _clip(9)).write_bytes(b"a clip recorded after the dock")
    result = app.clearing.clear(recorder, "generic", SERIAL, station.session)
    assert (result.deleted, len(result.kept)) == (2, 2), result.summary
    assert sorted(p.name for p in recorder.iterdir()) == [_clip(1), _clip(9)]
    board.set("bay5", state="done", serial=SERIAL, profile="generic", session=station.session)
    board.set("bay5", files_total=3, files_done=3)
    board.show_cleared("bay5", result)

    tool = tmp_path / "setmsdc"
    tool.write_text("#!/bin/sh\nexit 3\n")
    tool.chmod(0o755)
    profile = app.profiles["gat947"].model_copy(update={"unlock": [str(tool), "{devnode}"]})
    unlocker = Unlocker({"gat947": profile}, run_unlock, app.ledger, utc_now, board)
    assert not unlocker.unlock(DEVNODE, "gat947")
    return station


def _leaves(phrase: dict[str, Any] | None) -> list[str]:
    """The data a phrase carries (its plain values), which stays as written."""
    if phrase is None:
        return []
    found: list[str] = []
    for value in phrase["values"].values():
        found += _leaves(value) if isinstance(value, dict) else [str(value)]
    return found


def _data(card: dict[str, Any]) -> list[str]:
    keys = ("slot", "serial", "profile", "code", "custodian", "unit")
    found = [str(card[k]) for k in keys if card[k]]
    found += [card["session"][:8]] if card["session"] else []
    found += _leaves(card["message_phrase"]) + _leaves(card["hint_phrase"])
    return sorted(found, key=len, reverse=True)


def _english_left(text: str, data: list[str]) -> list[str]:
    """The Latin words in `text` once its data and any path (a hint's folder) are taken out."""
    for value in data:
        text = text.replace(value, " ")
    return re.findall(r"[A-Za-z]+", re.sub(r"\S*/\S*", " ", text))


def _status(web: WebServer) -> dict[str, Any]:
    with httpx.Client(base_url=web.url.rstrip("/"), trust_env=False, timeout=10) as http:
        document: dict[str, Any] = http.get("/api/status").json()
    return document


def test_the_json_keeps_the_english_with_each_template(
    troubled: Station,
    server: WebServer,  # noqa: F811
) -> None:
    cards = {c["slot"]: c for c in _status(server)["slots"]}
    assert sorted(cards) == ["bay3", "bay4", "bay5", UNLOCK_SLOT]
    assert cards["bay4"]["message"] == "not cleared: 2 of the recorder's recordings are on hold"
    assert cards["bay4"]["message_phrase"] == {
        "template": "not cleared: {reason}",
        "values": {
            "reason": {
                "template": "{holds} of the recorder's recordings are on hold",
                "values": {"holds": 2},
            }
        },
    }
    assert cards["bay5"]["message"].startswith("cleared 2 files from the recorder; 2 kept: ")
    assert cards[UNLOCK_SLOT]["message"] == (
        "the 'gat947' unlock command failed (exit status 3); the recorder shows no disk"
    )
    assert cards[UNLOCK_SLOT]["hint_phrase"]["values"]["tool"].endswith("/setmsdc")


def test_chromium_draws_every_slot_message_in_chinese(
    troubled: Station,
    server: WebServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    flags = ("--accept-lang=zh-CN", "--lang=zh-CN")
    dom = chromium(tmp_path / "profile", server.url, *flags, "--dump-dom").stdout
    assert "data-updated=" in dom, "the script did not fetch and swap in /parts/status"
    cards = {c["slot"]: c for c in _status(server)["slots"]}
    drawn = {
        slot: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
        for slot, body in CARD.findall(dom)
    }
    assert sorted(drawn) == sorted(cards)
    for said, slot in (
        (ERROR_ZH, "bay3"),
        (NOT_CLEARED_ZH, "bay4"),
        (CLEARED_ZH, "bay5"),
        (UNLOCK_ZH, UNLOCK_SLOT),
        ("请检查厂商工具", UNLOCK_SLOT),
    ):
        assert said in drawn[slot], (slot, drawn[slot])
    for slot, text in drawn.items():
        assert _english_left(text, _data(cards[slot])) == [], (slot, text)
    alerts = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom.split('id="alerts"')[1])).split())
    assert f"接口 bay3：PROFILE_UNKNOWN：{ERROR_ZH}" in alerts
    assert f"接口 {UNLOCK_SLOT}：unlock-failed：{UNLOCK_ZH}" in alerts
    png = ARTIFACTS / "status-page-slot-messages-zh-CN.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(
        tmp_path / "profile", server.url, *flags, f"--screenshot={png}", "--window-size=1280,1400"
    )
    assert png.stat().st_size > 10_000, f"{png} looks empty"


def test_dockd_status_draws_every_slot_message_in_chinese(
    troubled: Station,
    server: WebServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = troubled.config_file.read_text().replace(
        'listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{server.port}"'
    )
    chinese = tmp_path / "zh.toml"
    chinese.write_text(text.replace('language = "en"', 'language = "zh-CN"'))
    shown = subprocess.run(
        [sys.executable, "-m", "dockd.cli", "--config", str(chinese), "status"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**os.environ, "COLUMNS": "500"},  # a row per line: no sentence is wrapped
    )
    assert shown.returncode == 1, shown.stderr  # an error slot is a red alert
    out = shown.stdout
    for said in (ERROR_ZH, NOT_CLEARED_ZH, CLEARED_ZH, UNLOCK_ZH, "请检查厂商工具"):
        assert said in out, said
    # the rest of the board too: today's trouble and the station, with their values
    for said in ("逾期导出  SN0001：3 条录像，最多逾期", "已同步 偏移", "全部 4 个对象一致 · "):
        assert said in out, said
    for english in ("late offload", "overdue", "synchronised", "free of", "objects match", "/day"):
        assert english not in out, english
    board = out[out.index("┏") : out.index("┘")]  # the slots' table
    data = [d for card in _status(server)["slots"] for d in _data(card)]
    assert _english_left(re.sub(r"[─-╿]", " ", board), sorted(data, key=len, reverse=True)) == []
