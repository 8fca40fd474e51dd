"""systemd/dockd-report.service and .timer, checked by systemd's own tools, offline.

`systemd-analyze verify` must be silent about both (verified together: a timer checked
alone is not told that its service is missing). The service's exposure is printed
(pytest -rP or -s) and must stay low: it needs no capability at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
SERVICE = SYSTEMD / "dockd-report.service"
TIMER = SYSTEMD / "dockd-report.timer"
EXEC_START = "ExecStart=/opt/dockd/venv/bin/dockd report deadlines --since last --email"
INSTALL_HINT = "apt-get install systemd"
EXPOSURE_LIMIT = 3.0


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


def verify(analyze: str, folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [analyze, "verify", *units],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
        cwd=folder,
    )


@pytest.fixture
def checkable_units(tmp_path: Path) -> Path:
    """Both units in one folder, the service's ExecStart pointing at /bin/true.

    `systemd-analyze verify` fails a unit whose ExecStart binary is missing, and
    /opt/dockd/venv/bin/dockd exists only on an installed dock. Only that line changes.
    """
    text = SERVICE.read_text("utf-8")
    assert text.count(EXEC_START + "\n") == 1, "ExecStart changed: update this test"
    (tmp_path / SERVICE.name).write_text(text.replace(EXEC_START, "ExecStart=/bin/true"), "utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    return tmp_path


def test_timer_and_service_verify_clean(checkable_units: Path) -> None:
    analyze = need("systemd-analyze")
    result = verify(analyze, checkable_units, TIMER.name, SERVICE.name)
    about_us = [line for line in result.stderr.splitlines() if "dockd-report" in line]
    assert about_us == [], result.stderr
    assert result.returncode == 0, result.stderr


def test_verify_would_catch_a_broken_timer(checkable_units: Path) -> None:
    """The check above is not vacuous: a bad OnCalendar is reported."""
    analyze = need("systemd-analyze")
    timer = checkable_units / TIMER.name
    timer.write_text(
        timer.read_text("utf-8").replace("OnCalendar=*-*-* 02:00:00", "OnCalendar=*-*-* 25:00"),
        "utf-8",
    )
    result = verify(analyze, checkable_units, TIMER.name, SERVICE.name)
    assert result.returncode != 0 or "dockd-report.timer" in result.stderr


def test_calendar_is_two_in_the_morning() -> None:
    analyze = need("systemd-analyze")
    [calendar] = settings(TIMER, "Timer")["OnCalendar"]
    result = subprocess.run(
        [analyze, "calendar", calendar],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "TZ": "UTC", "SYSTEMD_COLORS": "0"},
    )
    assert "Normalized form: *-*-* 02:00:00" in result.stdout
    assert re.search(r"Next elapse: \w+ \d{4}-\d\d-\d\d 02:00:00", result.stdout), result.stdout


def test_service_security_exposure(checkable_units: Path) -> None:
    analyze = need("systemd-analyze")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", SERVICE.name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=checkable_units,
    )
    print(result.stdout)
    found = re.search(
        r"Overall exposure level for dockd-report\.service: (\d+\.\d+)", result.stdout
    )
    assert found is not None, result.stdout + result.stderr
    exposure = float(found.group(1))
    print(f"dockd-report.service exposure: {exposure} (limit {EXPOSURE_LIMIT})")
    assert exposure < EXPOSURE_LIMIT


def test_units_shape() -> None:
    """What the nightly report relies on, spelled out."""
    timer = settings(TIMER, "Timer")
    assert timer["OnCalendar"] == ["*-*-* 02:00:00"]
    assert timer["Persistent"] == ["true"]
    assert timer.get("Unit", [SERVICE.name]) == [SERVICE.name]
    assert settings(TIMER, "Install")["WantedBy"] == ["timers.target"]

    service = settings(SERVICE, "Service")
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [EXEC_START.removeprefix("ExecStart=")]
    assert "Restart" not in service  # a re-run would cover another 24 h
    assert "TimeoutStartSec" in service  # a oneshot has no start timeout otherwise
    assert service["CapabilityBoundingSet"] == [""]
    assert "PrivateNetwork" not in service  # SMTP
    assert {"AF_INET", "AF_INET6"} <= set(service["RestrictAddressFamilies"][0].split())
    assert service["ReadWritePaths"] == ["/var/lib/dockd"]  # ledger and [mail] outbox
    unit = settings(SERVICE, "Unit")
    assert "network-online.target" in unit["Wants"][0].split()
    assert "network-online.target" in unit["After"][0].split()
    # started by the timer only
    assert settings(SERVICE, "Install") == {}
