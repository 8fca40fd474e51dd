"""The journal catalog in Simplified Chinese: the same message ids as the English one,
compiled by the real `journalctl --update-catalog`, and shown by journalctl to a reader
whose LC_MESSAGES is zh_CN (a locale compiled for the test with `localedef`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dockd.adapters.journal import MESSAGE_IDS
from tests.conftest import REPO
from tests.support.units import need

SYSTEMD = REPO / "systemd"
CATALOGS = ("dockd.catalog", "dockd.zh_CN.catalog")
FIELD = re.compile(r"@[A-Z_]+@")


def _entries(catalog: Path) -> dict[str, str]:
    """id -> the entry's text, as journal-catalog(7) splits it."""
    parts = re.split(r"^-- ([0-9a-f]{32})\n", catalog.read_text("utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    journalctl = need("journalctl")
    root = tmp_path / "root"
    catalog_dir = root / "usr/lib/systemd/catalog"
    catalog_dir.mkdir(parents=True)
    for name in CATALOGS:
        shutil.copy(SYSTEMD / name, catalog_dir / name)
    update = subprocess.run(
        [journalctl, f"--root={root}", "--update-catalog"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert update.returncode == 0 and update.stderr == "", update.stderr
    return root


def _chinese_env(tmp_path: Path) -> dict[str, str]:
    localedef = need("localedef")
    if not Path("/usr/share/i18n/locales/zh_CN").exists():
        pytest.skip("apt-get install -y locales")
    locales = tmp_path / "locales"
    locales.mkdir()
    subprocess.run(
        [localedef, "-i", "zh_CN", "-f", "UTF-8", str(locales / "zh_CN.UTF-8")],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return {**os.environ, "LOCPATH": str(locales), "LC_ALL": "zh_CN.UTF-8"}


def test_the_chinese_catalog_explains_the_same_events_with_the_same_fields() -> None:
    english, chinese = (_entries(SYSTEMD / name) for name in CATALOGS)
    assert set(chinese) == set(english) == set(MESSAGE_IDS.values())
    for message_id, text in chinese.items():
        assert set(FIELD.findall(text)) == set(FIELD.findall(english[message_id])), message_id
        assert "Defined-By: dockd\n" in text


def test_journalctl_shows_chinese_to_a_chinese_reader(compiled: Path, tmp_path: Path) -> None:
    journalctl = need("journalctl")
    listing = [journalctl, f"--root={compiled}", "--list-catalog", "--no-pager"]
    chinese = subprocess.run(
        listing, env=_chinese_env(tmp_path), capture_output=True, text=True, check=True
    ).stdout
    english = subprocess.run(
        listing, env={**os.environ, "LC_ALL": "C.UTF-8"}, capture_output=True, text=True, check=True
    ).stdout
    safe = MESSAGE_IDS["safe-to-unplug"]
    assert f"{safe} dockd: 记录仪 @DOCKD_SERIAL@ 可以拔出" in chinese.splitlines()
    assert f"{safe} dockd: Recorder @DOCKD_SERIAL@ is safe to unplug" in english.splitlines()
    assert len(chinese.splitlines()) == len(english.splitlines()) == len(MESSAGE_IDS)
