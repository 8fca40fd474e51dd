"""The status page of a real `dockd run` while a real loop-device recorder is docked through
real udevd: headless Chromium reads the page while the copy runs and again when it is done,
and leaves screenshots under tests/artifacts/."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    REPO,
    Daemon,
    Dock,
    blob,
    fat32_recorder,
    wait_for,
)
from tests.integration.test_web import dump_dom, require_chromium, screenshot, visible_text

pytestmark = pytest.mark.root

ARTIFACTS = REPO / "tests" / "artifacts"
SERIAL = "SNPAGE"
CLIP_MIB = 24
CLIPS = 48  # 1.1 GiB, copied one file at a time: well over 10 s through a loop device


def _clip(n: int) -> str:
    return f"{SERIAL}_007_20261122{8 + n // 60:02d}{n % 60:02d}00_{n:04d}.AVI"


@pytest.fixture
def dock(dock: Dock) -> Dock:
    require_chromium()
    return dock


@pytest.fixture
def daemon(daemon: Daemon) -> Daemon:
    daemon.write_config('[web]\nlisten = "127.0.0.1:0"\n')  # its own port: tests run side by side
    return daemon


def _page_url(daemon: Daemon) -> str:
    found = wait_for(
        lambda: re.search(
            r"web-listening.*?url=(http://127\.0\.0\.1:\d+/)", daemon.log.read_text()
        ),
        20,
        "the daemon to serve its status page (web-listening in its log)",
    )
    return str(found.group(1))


def _card(dom: str, serial: str) -> str:
    """The visible text of the slot card showing `serial`: other tests on this machine dock
    recorders too, and every daemon sees every test recorder."""
    cards = [visible_text(c) for c in re.findall(r"<article\b.*?</article>", dom, re.S)]
    mine = [c for c in cards if serial in c]
    assert len(mine) == 1, f"{len(mine)} cards show {serial}: {cards}"
    return mine[0]


def _slot(url: str, serial: str) -> dict[str, Any] | None:
    doc = httpx.get(url + "api/status", trust_env=False, timeout=10).json()
    return next((s for s in doc["slots"] if s["serial"] == serial), None)


def test_page_shows_the_copy_then_safe_to_unplug(
    dock: Dock, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKD_STORE__PARALLEL_FILES", "1")  # one file at a time: a longer copy
    files = {f"DCIM/{_clip(i)}": blob(f"page{i}", CLIP_MIB << 20) for i in range(CLIPS)}
    img = fat32_recorder(tmp_path / f"{SERIAL}.dockrec", SERIAL, files, size_mib=1400)
    daemon.start()
    url = _page_url(daemon)
    browser = tmp_path / "chromium"

    dock.plug(img)
    wait_for(lambda: (s := _slot(url, SERIAL)) and s["state"] == "copying", 60, "the copy")
    with ThreadPoolExecutor(2) as pool:  # both looks at once, while the copy runs
        dom_job = pool.submit(dump_dom, tmp_path / "chromium-dom", url)
        png_job = pool.submit(screenshot, browser, url, ARTIFACTS / "status-page-copying.png")
        copying_dom, copying_png = dom_job.result(), png_job.result()
    still = _slot(url, SERIAL)
    copying = _card(copying_dom, SERIAL)
    assert "data-updated=" in copying_dom, "the page's script did not poll /parts/status"
    assert "Copying" in copying, copying
    assert re.search(r"\b\d{1,3}% ", copying), "no progress percentage"
    assert re.search(rf"\d+ / {CLIPS} files", copying), "no file count"
    assert re.search(r"\d+(\.\d)? [KMG]iB/s", copying), "no rate"
    assert "SAFE TO UNPLUG" not in copying
    assert still is not None and still["state"] == "copying", (
        "the copy ended before the browser finished: make the recorder bigger"
    )

    [session] = wait_for(lambda: daemon.finished(SERIAL), 180, "the session to finish")
    assert session["state"] == "completed", session["problems"]
    wait_for(lambda: (s := _slot(url, SERIAL)) and s["state"] == "done", 30, "done on the board")
    done_dom = dump_dom(browser, url)
    done_png = screenshot(browser, url, ARTIFACTS / "status-page-done.png")
    phone_png = screenshot(browser, url, ARTIFACTS / "status-page-phone.png", "390,1200")
    done = _card(done_dom, SERIAL)
    assert "SAFE TO UNPLUG" in done and "Copying" not in done, done
    assert f"{CLIPS} of {CLIPS} files copied and verified" in done
    assert f'href="/sessions/{session["id"]}"' in done_dom

    detail_url = f"{url}sessions/{session['id']}"
    detail = visible_text(dump_dom(browser, detail_url))
    detail_png = screenshot(browser, detail_url, ARTIFACTS / "status-page-session.png", "1280,1400")
    recordings = [r for r in daemon.recordings() if r["session"] == session["id"]]
    assert len(recordings) == CLIPS
    for r in recordings:
        assert r["path"] in detail and r["blake3"] in detail and r["sha256"] in detail

    for png in (copying_png, done_png, phone_png, detail_png):
        assert png.read_bytes().startswith(b"\x89PNG")
    assert "http-request" in daemon.log.read_text(), "requests must be logged"


def test_daemon_refuses_to_serve_the_network_without_credentials(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    daemon.write_config('[web]\nlisten = "0.0.0.0:8470"\n')
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dockd.cli", "--config", str(daemon.config), "run"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("`dockd run` started on 0.0.0.0 without [web] token or basic_auth")
    assert result.returncode == 2, result.stderr
    assert "CONFIG_INVALID" in result.stderr
    assert "not a loopback address" in result.stderr and "basic_auth" in result.stderr
    assert not daemon.mount_root.exists(), "nothing may be touched before refusing"
