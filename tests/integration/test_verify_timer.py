"""systemd/dockd-verify.service and .timer, checked by systemd's own tools, offline.

Verified together, as the report timer is (a timer checked alone is not told that its
service is missing); the scrub must stay out of docking's way and need no capability.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Dockd, unfreeze
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
SERVICE = SYSTEMD / "dockd-verify.service"
TIMER = SYSTEMD / "dockd-verify.timer"
EXEC_START = "ExecStart=/opt/dockd/venv/bin/dockd verify --scheduled"
EXPOSURE_LIMIT = 3.0


@pytest.fixture
def checkable_units(tmp_path: Path) -> Path:
    return timer_and_service(SERVICE, TIMER, EXEC_START, tmp_path)


def test_timer_and_service_verify_clean(checkable_units: Path) -> None:
    assert_verifies_clean(checkable_units, TIMER, SERVICE)


def test_verify_would_catch_a_bad_scheduling_class(checkable_units: Path) -> None:
    """The check above is not vacuous: a misspelt IO class is reported."""
    service = checkable_units / SERVICE.name
    service.write_text(
        service.read_text("utf-8").replace("IOSchedulingClass=idle", "IOSchedulingClass=idel"),
        "utf-8",
    )
    result = verify(checkable_units, TIMER.name, SERVICE.name)
    assert "Failed to parse IO scheduling class, ignoring: idel" in result.stderr


def test_calendar_is_sunday_three_in_the_morning() -> None:
    [expression] = settings(TIMER, "Timer")["OnCalendar"]
    shown = calendar(expression)
    assert "Normalized form: Sun *-*-* 03:00:00" in shown, shown
    assert re.search(r"Next elapse: Sun \d{4}-\d\d-\d\d 03:00:00", shown), shown


def test_service_security_exposure(checkable_units: Path) -> None:
    score = exposure(checkable_units, SERVICE.name)
    print(f"dockd-verify.service exposure: {score} (limit {EXPOSURE_LIMIT})")
    assert score < EXPOSURE_LIMIT


def test_units_shape() -> None:
    """What the weekly scrub relies on, spelled out."""
    timer = settings(TIMER, "Timer")
    assert timer["Persistent"] == ["true"]
    assert timer.get("Unit", [SERVICE.name]) == [SERVICE.name]
    assert settings(TIMER, "Install")["WantedBy"] == ["timers.target"]

    service = settings(SERVICE, "Service")
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [EXEC_START.removeprefix("ExecStart=")]
    assert "Restart" not in service  # next week covers what this one missed
    # out of docking's way
    assert service["IOSchedulingClass"] == ["idle"]
    assert service["CPUSchedulingPolicy"] == ["idle"]
    assert service["Nice"] == ["19"]
    assert service["CapabilityBoundingSet"] == [""]
    assert service["ReadWritePaths"] == ["/var/lib/dockd"]  # the custody event
    assert settings(SERVICE, "Unit")["AssertPathExists"] == ["/etc/dockd/dockd.toml"]
    assert settings(SERVICE, "Install") == {}  # started by the timer only


def test_the_scheduled_scrub_verifies_the_store_and_fails_with_it(
    dockd: Dockd, tmp_path: Path
) -> None:
    """What the service runs, on a real store: a damaged object fails the scrub."""
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    (recorder / "SN9_007_20261122080000_0001.AVI").write_bytes(b"clip" * 1000)
    dockd.run("ingest", str(recorder), "--serial", "SN9", check=True)
    scrub = dockd.run(*EXEC_START.split()[1:])
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert scrub.stdout.splitlines() == [
        "scheduled scrub: the store ([central] is not configured)",
        "verified 2 objects: 2 match the ledger",  # the recording and the session manifest
    ]
    [clip] = [
        p for p in (dockd.store / "objects").rglob("*") if p.is_file() and p.stat().st_size == 4000
    ]
    unfreeze(dockd.store)
    clip.chmod(0o644)
    clip.write_bytes(b"tampered" * 500)
    failed = dockd.run(*EXEC_START.split()[1:])
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "verified 2 objects: 1 match the ledger" in failed.stdout
