"""systemd/dockd-report.service and .timer, checked by systemd's own tools, offline.

`systemd-analyze verify` must be silent about both (verified together: a timer checked
alone is not told that its service is missing). The service's exposure is printed
(pytest -rP or -s) and must stay low: it needs no capability at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.units import (
    assert_verifies_clean,
    calendar,
    exposure,
    settings,
    timer_and_service,
    verify,
)

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
SERVICE = SYSTEMD / "dockd-report.service"
TIMER = SYSTEMD / "dockd-report.timer"
EXEC_START = "ExecStart=/opt/dockd/venv/bin/dockd report deadlines --since last --email"
EXPOSURE_LIMIT = 3.0


@pytest.fixture
def checkable_units(tmp_path: Path) -> Path:
    return timer_and_service(SERVICE, TIMER, EXEC_START, tmp_path)


def test_timer_and_service_verify_clean(checkable_units: Path) -> None:
    assert_verifies_clean(checkable_units, TIMER, SERVICE)


def test_verify_would_catch_a_broken_timer(checkable_units: Path) -> None:
    """The check above is not vacuous: a bad OnCalendar is reported."""
    timer = checkable_units / TIMER.name
    timer.write_text(
        timer.read_text("utf-8").replace("OnCalendar=*-*-* 02:00:00", "OnCalendar=*-*-* 25:00"),
        "utf-8",
    )
    result = verify(checkable_units, TIMER.name, SERVICE.name)
    assert "Failed to parse calendar specification, ignoring: *-*-* 25:00" in result.stderr
    assert "dockd-report.timer: Timer unit lacks value setting. Refusing." in result.stderr
    assert result.returncode == 1, result.stderr


def test_calendar_is_two_in_the_morning() -> None:
    [expression] = settings(TIMER, "Timer")["OnCalendar"]
    shown = calendar(expression)
    assert "Normalized form: *-*-* 02:00:00" in shown
    assert re.search(r"Next elapse: \w+ \d{4}-\d\d-\d\d 02:00:00", shown), shown


def test_service_security_exposure(checkable_units: Path) -> None:
    score = exposure(checkable_units, SERVICE.name)
    print(f"dockd-report.service exposure: {score} (limit {EXPOSURE_LIMIT})")
    assert score < EXPOSURE_LIMIT


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
    assert "Restart" not in service  # the next night covers what this one missed
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
