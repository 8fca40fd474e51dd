"""The status page's "Central store" block in headless Chromium: recordings ingested by
`dockd ingest`, their central copies written as the forwarder writes them, the page served
by the real web server over the real ledger, read as a person reads it (and a screenshot
under tests/artifacts/). A single box's page has no such block."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockd.adapters.rules import load_config
from dockd.app import build, build_web
from dockd.ui import format as fmt
from tests.conftest import unfreeze
from tests.e2e.harness import REPO
from tests.integration.test_backlog import EAST_FILES, MIB, _age_and_forward, _station
from tests.integration.test_ledger_postgres import make_recordings
from tests.integration.test_web import dump_dom, require_chromium, screenshot, visible_text

pytestmark = pytest.mark.root
ARTIFACTS = REPO / "tests" / "artifacts"


def _page(config: Path, profile: Path, png: Path | None = None) -> str:
    app = build(load_config(config))
    web = build_web(app)
    try:
        assert web.start()
        if png is not None:
            screenshot(profile / "shot", web.url, png, "1280,1400")
        return dump_dom(profile / "dom", web.url)
    finally:
        web.stop()
        app.close()


def _central_block(dom: str) -> str:
    found = re.search(r'<div id="central">.*?</dd>', dom, re.S)
    assert found is not None, "no Central store block on the page"
    return visible_text(found.group(0))


def test_the_page_shows_the_central_store_block(tmp_path: Path) -> None:
    require_chromium()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    east = _station(tmp_path, "dock-east", url)
    try:
        make_recordings(tmp_path / "SNEAST", EAST_FILES, MIB)
        make_recordings(tmp_path / "SNEAST2", ["e.avi"], 2 * MIB)
        assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
        assert east.ingest(tmp_path / "SNEAST2", "SNEAST2").returncode == 0
        held = 5 * MIB + sum(_age_and_forward(url, "SNEAST", datetime.now(UTC)).values())

        text = _central_block(_page(east.config, tmp_path / "chromium", ARTIFACTS / "central.png"))
        assert text.startswith("Central store 1 failed Backlog 6 objects, ")
        assert f"Backlog 6 objects, {fmt.size(held)}" in text
        assert re.search(r"Oldest stored .+ \(1 d 6 h ago\)", text), text
        assert "Failed: CENTRAL_UNREACHABLE × 1" in text
        assert text.endswith("3 recordings not confirmed within 24 h of offload")
    finally:
        unfreeze(east.store)


def test_a_single_box_page_has_no_central_store_block(tmp_path: Path) -> None:
    require_chromium()
    box = _station(tmp_path, "dock-solo", f"sqlite:///{tmp_path / 'ledger.sqlite3'}", False)
    try:
        make_recordings(tmp_path / "SN1", ["a.avi"], MIB)
        assert box.ingest(tmp_path / "SN1", "SN1").returncode == 0
        dom = _page(box.config, tmp_path / "chromium")
        assert "Evidence store" in visible_text(dom)
        assert 'id="central"' not in dom and "Central store" not in visible_text(dom)
    finally:
        unfreeze(box.store)
