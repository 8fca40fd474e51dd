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
