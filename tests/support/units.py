"""systemd unit files checked offline with systemd's own tools (no systemd as PID 1)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install systemd"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is missing: {INSTALL_HINT}")
    return path


def settings(unit: Path, section: str) -> dict[str, list[str]]:
    """Key -> values (repeatable keys keep every value) of one section of a unit file."""
    found: dict[str, list[str]] = {}
    current = None
    for raw in unit.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section:
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def checkable(unit: Path, exec_start: str, folder: Path) -> Path:
    """The unit copied into folder with ExecStart pointing at /bin/true.

    `systemd-analyze verify` fails a unit whose ExecStart binary is missing, and
    /opt/dockd/venv/bin/dockd exists only on an installed dock. Only that one line
    changes, so everything else is checked as shipped.
    """
    text = unit.read_text("utf-8")
    assert text.count(exec_start + "\n") == 1, "ExecStart changed: update this test"
    copy = folder / unit.name
    copy.write_text(text.replace(exec_start, "ExecStart=/bin/true"), "utf-8")
    return copy


def verify(folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [need("systemd-analyze"), "verify", *units],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
        cwd=folder,
    )


def exposure(folder: Path, unit: str) -> float:
    """`systemd-analyze security --offline` score; the table is printed (pytest -rP)."""
    result = subprocess.run(
        [need("systemd-analyze"), "security", "--offline=true", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=folder,
    )
    print(result.stdout)
    found = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    return float(found.group(1))


def timer_and_service(service: Path, timer: Path, exec_start: str, folder: Path) -> Path:
    """Both units of a timer in one folder, checkable (see `checkable`): a timer verified
    alone is not told that its service is missing."""
    checkable(service, exec_start, folder)
    (folder / timer.name).write_text(timer.read_text("utf-8"), "utf-8")
    return folder


def assert_verifies_clean(folder: Path, timer: Path, service: Path) -> None:
    """`systemd-analyze verify` of the pair says nothing about them (other units' noise,
    from the host's own, is not ours to judge)."""
    result = verify(folder, timer.name, service.name)
    stem = service.name.removesuffix(".service")
    about_us = [line for line in result.stderr.splitlines() if stem in line]
    assert about_us == [], result.stderr
    assert result.returncode == 0, result.stderr


def calendar(expression: str) -> str:
    """What `systemd-analyze calendar` says of an OnCalendar= value, in UTC."""
    result = subprocess.run(
        [need("systemd-analyze"), "calendar", expression],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "TZ": "UTC", "SYSTEMD_COLORS": "0"},
    )
    return result.stdout
