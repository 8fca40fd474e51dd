"""The status page in Chinese and English on a real uvicorn server over a real App: the
language follows the browser's Accept-Language, the officers' words are in large type, the
times are the station's, and headless Chromium draws both (screenshots in tests/artifacts/)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dockd.web.server import WebServer
from tests.conftest import REPO
from tests.integration.test_web import (  # noqa: F401 (fixtures)
    Station,
    _cli,
    chromium,
    server,
    station,
    visible_text,
)

ARTIFACTS = REPO / "tests" / "artifacts"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the shipped pack's [station] timezone


def _get(web: WebServer, path: str, accept_language: str | None) -> httpx.Response:
    headers = {} if accept_language is None else {"Accept-Language": accept_language}
    with httpx.Client(base_url=web.url.rstrip("/"), trust_env=False, timeout=10) as http:
        return http.get(path, headers=headers)


def _big(markup: str, css_class: str) -> list[str]:
    return re.findall(rf'<div class="{css_class}">([^<]*)</div>', markup)


@pytest.fixture
def failed_slot(station: Station) -> Station:  # noqa: F811 (the fixture above)
    station.app.board.set(
        "bay3",
        state="error",
        serial="SN0003",
        profile="generic",
        message="the recorder's filesystem could not be mounted",
        code="MOUNT_FAILED",
    )
    return station


def test_the_page_speaks_the_browsers_language(
    failed_slot: Station,
    server: WebServer,  # noqa: F811
) -> None:
    zh = _get(server, "/", "zh-CN,zh;q=0.9,en;q=0.8")
    assert zh.status_code == 200 and zh.headers["vary"] == "Accept-Language"
    assert '<html lang="zh-CN">' in zh.text
    assert _big(zh.text, "busy") == ["正在复制"]  # bay1 is copying
    assert _big(zh.text, "safe") == ["可以拔出"]  # bay2 is done
    assert _big(zh.text, "failed") == ["出错"]  # bay3 failed
    text = visible_text(zh.text)
    assert "<title>工作站状态 · " in zh.text
    assert "保管人" in text and "今天" in text and "工作站时钟" in text
    assert "正在复制 1，完成 1，出错 1" in text  # the summary, said again from the slots
    assert "Copying" not in text and "SAFE TO UNPLUG" not in text and "Station clock" not in text
    # the alert's framing is translated; the error's own words are not (they are the code's)
    assert "接口 bay3：MOUNT_FAILED：the recorder's filesystem could not be mounted" in text

    en = _get(server, "/", "en-US,en;q=0.9")
    assert '<html lang="en">' in en.text
    assert _big(en.text, "busy") == ["COPYING — DO NOT UNPLUG"]
    assert _big(en.text, "safe") == ["SAFE TO UNPLUG"]
    assert _big(en.text, "failed") == ["ERROR"]
    assert "可以拔出" not in en.text

    assert '<html lang="en">' in _get(server, "/", None).text  # no header: English
    assert '<html lang="en">' in _get(server, "/", "fr-FR").text
    assert '<html lang="zh-CN">' in _get(server, "/", "fr;q=0.9, zh-Hans;q=0.5").text


def test_the_polled_parts_follow_the_page(
    station: Station,  # noqa: F811
    server: WebServer,  # noqa: F811
) -> None:
    """The script polls /parts/status with the browser's own header: each reader gets the
    sections in their own language."""
    zh = _get(server, "/parts/status", "zh-CN")
    en = _get(server, "/parts/status", "en")
    assert "可以拔出" in zh.text and "SAFE TO UNPLUG" not in zh.text
    assert "SAFE TO UNPLUG" in en.text and "可以拔出" not in en.text
    assert '<template data-part="live-text">实时 · ' in zh.text
    assert zh.headers["vary"] == "Accept-Language"


def test_times_are_the_stations(
    station: Station,  # noqa: F811
    server: WebServer,  # noqa: F811
) -> None:
    """The pack's zone (Asia/Shanghai), not the host's; the document keeps RFC 3339."""
    parts = _get(server, "/parts/status", "zh-CN").text
    found = re.search(r'data-generated="([^"]+)" data-time="([^"]+)"', parts)
    assert found is not None
    generated = datetime.fromisoformat(found.group(1))
    assert generated.utcoffset() is not None
    assert found.group(2) == generated.astimezone(SHANGHAI).strftime("%H:%M:%S")
    assert f"实时 · {found.group(2)}" in parts


def test_the_session_page_and_a_missing_one_in_chinese(
    station: Station,  # noqa: F811
    server: WebServer,  # noqa: F811
) -> None:
    page = _get(server, f"/sessions/{station.session}", "zh").text
    text = visible_text(page)
    assert "接入会话" in text and "本次会话复制的录像" in text and "已完成" in text
    assert "+0800" in text  # session times with the station's offset
    missing = _get(server, "/sessions/no-such-id", "zh-CN")
    assert missing.status_code == 404
    assert '台账中没有接入会话 <span class="mono">no-such-id</span>。' in missing.text


@pytest.mark.parametrize(("language", "words"), [("zh-CN", "可以拔出"), ("en", "SAFE TO UNPLUG")])
def test_chromium_draws_the_page_in_each_language(
    failed_slot: Station,
    server: WebServer,  # noqa: F811
    tmp_path: Path,
    language: str,
    words: str,
) -> None:
    """The browser's own Accept-Language (`--accept-lang`, as a browser set to Chinese
    sends), its script's polls included; the screenshot is kept for a person to look at."""
    flags = (f"--accept-lang={language}", f"--lang={language}")
    dom = chromium(tmp_path / "profile", server.url, *flags, "--dump-dom").stdout
    assert "data-updated=" in dom, "the script did not fetch and swap in /parts/status"
    text = visible_text(dom)
    assert words in text
    assert ("出错" in text) == (language == "zh-CN")
    png = ARTIFACTS / f"status-page-{language}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(
        tmp_path / "profile", server.url, *flags, f"--screenshot={png}", "--window-size=1280,1100"
    )
    assert png.stat().st_size > 10_000, f"{png} looks empty"


def test_dockd_status_and_its_errors_in_the_station_language(
    station: Station,  # noqa: F811
    server: WebServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`[station] language = "zh-CN"` (the shipped packs' default): the terminal picture and
    the top-level error framing are Chinese; the codes and the JSON keys stay as they are."""
    text = station.config_file.read_text().replace(
        'listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{server.port}"'
    )
    chinese = tmp_path / "zh.toml"
    chinese.write_text(text.replace('language = "en"', 'language = "zh-CN"'))
    table = _cli(chinese)
    assert table.returncode == 0, table.stderr
    for words in ("可以拔出", "正在复制", "接口", "今天", "工作站时钟", "保管人", "实时"):
        assert words in table.stdout, words
    assert "SAFE TO UNPLUG" not in table.stdout and "Station clock" not in table.stdout
    as_json = _cli(chinese, "--json")
    assert '"safe_to_unplug": true' in as_json.stdout and "可以拔出" not in as_json.stdout

    verified = subprocess.run(
        [sys.executable, "-m", "dockd.cli", "--config", str(chinese), "verify"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == "已校验 4 个对象：4 个与台账一致\n"  # 3 clips and a manifest

    ingest = ["ingest", str(tmp_path), "--serial", "SN9", "--profile", "no-such-profile"]
    failed = subprocess.run(
        [sys.executable, "-m", "dockd.cli", "--config", str(chinese), *ingest],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert failed.returncode == 2
    first, hint = failed.stderr.splitlines()
    # the code as raised; the framing, the message and the hint in Chinese
    assert first == (
        "dockd 出错：PROFILE_UNKNOWN: 没有记录仪型号配置 'no-such-profile'"
        "（已有：dcim, gat947, generic）"
    )
    assert hint == "  提示：请使用 rules/recorders 下已有的某个型号配置，或在那里添加一个。"
