"""The files in systemd/ are checked by systemd's own tools, offline (no systemd as PID 1 needed).

- dockd.service: `systemd-analyze verify` must be silent about it, and
  `systemd-analyze security --offline=true` must rate it below 5.0 (printed: run
  pytest with -rP or -s to see the score and the table).
- dockd.catalog: compiles with `journalctl --update-catalog` and explains exactly the
  MESSAGE_IDs that dockd/adapters/journal.py sends.
- dockd-tmpfiles.conf and dockd.toml.example agree with the unit.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from dockd.adapters.journal import MESSAGE_IDS
from dockd.adapters.rules import load_config
from tests.support.units import checkable, exposure, need, settings, verify

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
UNIT = SYSTEMD / "dockd.service"
EXEC_START = "ExecStart=/opt/dockd/venv/bin/dockd run"
EXPOSURE_LIMIT = 5.0


def unit_settings(section: str) -> dict[str, list[str]]:
    return settings(UNIT, section)


@pytest.fixture
def checkable_unit(tmp_path: Path) -> Path:
    return checkable(UNIT, EXEC_START, tmp_path)


def test_unit_verifies_clean(checkable_unit: Path) -> None:
    result = verify(checkable_unit.parent, checkable_unit.name)
    about_dockd = [line for line in result.stderr.splitlines() if "dockd" in line]
    assert about_dockd == [], result.stderr
    assert result.returncode == 0, result.stderr


def test_unit_security_exposure(checkable_unit: Path) -> None:
    score = exposure(checkable_unit.parent, checkable_unit.name)
    print(f"dockd.service exposure: {score} (limit {EXPOSURE_LIMIT})")
    assert score < EXPOSURE_LIMIT


def test_unit_shape() -> None:
    """What the daemon relies on, spelled out: a change here is a change in how dockd runs."""
    service = unit_settings("Service")
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["WatchdogSec"] == ["30"]
    assert service["Restart"] == ["on-failure"]
    caps = set(service["CapabilityBoundingSet"][0].split())
    assert caps == {
        "CAP_SYS_ADMIN",
        "CAP_LINUX_IMMUTABLE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_CHOWN",
    }
    assert service["DevicePolicy"] == ["closed"]
    # recorders are readable, never writable, through the device cgroup
    assert {"block-sd r", "block-loop r", "/dev/fuse rw"} == set(service["DeviceAllow"])
    # each device group must be resolvable when the unit starts: its driver is loaded first
    unit = unit_settings("Unit")
    for module in ("sd_mod", "loop", "fuse"):
        assert f"modprobe@{module}.service" in " ".join(unit["Wants"])
        assert f"modprobe@{module}.service" in " ".join(unit["After"])


def test_example_config_fits_the_sandbox() -> None:
    """The example config only writes where the unit lets dockd write."""
    config = load_config(SYSTEMD / "dockd.toml.example", environ={})
    assert config.store.root == Path("/var/lib/dockd/store")
    assert config.ledger.url == "sqlite:////var/lib/dockd/ledger.sqlite3"
    assert config.daemon.mount_root == Path("/run/dockd/mnt")
    writable = [Path(p) for p in unit_settings("Service")["ReadWritePaths"][0].split()]
    ledger_file = Path(config.ledger.url.removeprefix("sqlite:///"))
    assert config.mail.outbox == Path("/var/lib/dockd/outbox")
    # an installed wheel carries no rules/: the README copies them there
    assert config.rules.dir == Path("/etc/dockd/rules")
    for path in (config.store.root, ledger_file, config.daemon.mount_root, config.mail.outbox):
        assert any(path.is_relative_to(w) for w in writable), path


def test_catalog_compiles_and_matches_the_message_ids(tmp_path: Path) -> None:
    journalctl = need("journalctl")
    catalog_dir = tmp_path / "usr/lib/systemd/catalog"
    catalog_dir.mkdir(parents=True)
    shutil.copy(SYSTEMD / "dockd.catalog", catalog_dir / "dockd.catalog")
    update = subprocess.run(
        [journalctl, f"--root={tmp_path}", "--update-catalog"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert update.returncode == 0 and update.stderr == "", update.stderr
    listed = subprocess.run(
        [journalctl, f"--root={tmp_path}", "--list-catalog", "--no-pager"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    subjects = dict(line.split(" ", 1) for line in listed.splitlines())
    assert set(subjects) == set(MESSAGE_IDS.values())
    assert all(subject.startswith("dockd: ") for subject in subjects.values())


def test_tmpfiles_create_the_directories(tmp_path: Path) -> None:
    tmpfiles = need("systemd-tmpfiles")
    conf_dir = tmp_path / "usr/lib/tmpfiles.d"
    conf_dir.mkdir(parents=True)
    shutil.copy(SYSTEMD / "dockd-tmpfiles.conf", conf_dir / "dockd.conf")
    result = subprocess.run(
        [tmpfiles, f"--root={tmp_path}", "--create", "dockd.conf"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for path in ("run/dockd/mnt", "var/lib/dockd", "var/lib/dockd/store"):
        st = (tmp_path / path).stat()
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750, path
