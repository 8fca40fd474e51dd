"""The timers' units, checked by systemd's own tools offline: dockd-report (the nightly
report at 02:00) and dockd-verify (the weekly scrub, Sunday 03:00, out of docking's way).

Each timer is verified together with its service (a timer checked alone is not told
that its service is missing); `systemd-analyze verify` must be silent about both, and
each service's exposure (printed with pytest -rP or -s) must stay low: neither needs a
capability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
EXPOSURE_LIMIT = 3.0


@dataclass(frozen=True)
class Timed:
    """A timer, its service, the ExecStart it runs and when, as systemd normalises it."""

    name: str
    exec_start: str
    normalized: str
    next_elapse: str

    @property
    def service(self) -> Path:
        return SYSTEMD / f"{self.name}.service"

    @property
    def timer(self) -> Path:
        return SYSTEMD / f"{self.name}.timer"

    def checkable(self, folder: Path) -> Path:
        return timer_and_service(self.service, self.timer, self.exec_start, folder)


REPORT = Timed(
    "dockd-report",
    "ExecStart=/opt/dockd/venv/bin/dockd report deadlines --since last --email",
    "*-*-* 02:00:00",
    r"\w+ \d{4}-\d\d-\d\d 02:00:00",
)
SCRUB = Timed(
    "dockd-verify",
    "ExecStart=/opt/dockd/venv/bin/dockd verify --scheduled",
    "Sun *-*-* 03:00:00",
    r"Sun \d{4}-\d\d-\d\d 03:00:00",
)
BOTH = pytest.mark.parametrize("timed", [REPORT, SCRUB], ids=lambda t: t.name)


@BOTH
def test_timer_and_service_verify_clean(timed: Timed, tmp_path: Path) -> None:
    assert_verifies_clean(timed.checkable(tmp_path), timed.timer, timed.service)


@BOTH
def test_calendar(timed: Timed) -> None:
    [expression] = settings(timed.timer, "Timer")["OnCalendar"]
    shown = calendar(expression)
    assert f"Normalized form: {timed.normalized}" in shown, shown
    assert re.search(f"Next elapse: {timed.next_elapse}", shown), shown


@BOTH
def test_service_security_exposure(timed: Timed, tmp_path: Path) -> None:
    score = exposure(timed.checkable(tmp_path), timed.service.name)
    print(f"{timed.service.name} exposure: {score} (limit {EXPOSURE_LIMIT})")
    assert score < EXPOSURE_LIMIT


# --- the nightly report ---------------------------------------------------------------------


def test_verify_would_catch_a_broken_timer(tmp_path: Path) -> None:
    """The check above is not vacuous: a bad OnCalendar is reported."""
    checkable_units = REPORT.checkable(tmp_path)
    timer = checkable_units / REPORT.timer.name
    timer.write_text(
        timer.read_text("utf-8").replace("OnCalendar=*-*-* 02:00:00", "OnCalendar=*-*-* 25:00"),
        "utf-8",
    )
    result = verify(checkable_units, REPORT.timer.name, REPORT.service.name)
    assert "Failed to parse calendar specification, ignoring: *-*-* 25:00" in result.stderr
    assert "dockd-report.timer: Timer unit lacks value setting. Refusing." in result.stderr
    assert result.returncode == 1, result.stderr


def test_report_units_shape() -> None:
    """What the nightly report relies on, spelled out."""
    timer = settings(REPORT.timer, "Timer")
    assert timer["OnCalendar"] == ["*-*-* 02:00:00"]
    assert timer["Persistent"] == ["true"]
    assert timer.get("Unit", [REPORT.service.name]) == [REPORT.service.name]
    assert settings(REPORT.timer, "Install")["WantedBy"] == ["timers.target"]

    service = settings(REPORT.service, "Service")
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [REPORT.exec_start.removeprefix("ExecStart=")]
    assert "Restart" not in service  # the next night covers what this one missed
    assert "TimeoutStartSec" in service  # a oneshot has no start timeout otherwise
    assert service["CapabilityBoundingSet"] == [""]
    assert "PrivateNetwork" not in service  # SMTP
    assert {"AF_INET", "AF_INET6"} <= set(service["RestrictAddressFamilies"][0].split())
    assert service["ReadWritePaths"] == ["/var/lib/dockd"]  # ledger and [mail] outbox
    unit = settings(REPORT.service, "Unit")
    assert "network-online.target" in unit["Wants"][0].split()
    assert "network-online.target" in unit["After"][0].split()
    # started by the timer only
    assert settings(REPORT.service, "Install") == {}


# --- the weekly scrub ------------------------------------------------------------------------


def test_verify_would_catch_a_bad_scheduling_class(tmp_path: Path) -> None:
    """The check above is not vacuous: a misspelt IO class is reported."""
    checkable_units = SCRUB.checkable(tmp_path)
    service = checkable_units / SCRUB.service.name
    service.write_text(
        service.read_text("utf-8").replace("IOSchedulingClass=idle", "IOSchedulingClass=idel"),
        "utf-8",
    )
    result = verify(checkable_units, SCRUB.timer.name, SCRUB.service.name)
    assert "Failed to parse IO scheduling class, ignoring: idel" in result.stderr


def test_scrub_units_shape() -> None:
    """What the weekly scrub relies on, spelled out."""
    timer = settings(SCRUB.timer, "Timer")
    assert timer["Persistent"] == ["true"]
    assert timer.get("Unit", [SCRUB.service.name]) == [SCRUB.service.name]
    assert settings(SCRUB.timer, "Install")["WantedBy"] == ["timers.target"]

    service = settings(SCRUB.service, "Service")
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [SCRUB.exec_start.removeprefix("ExecStart=")]
    assert "Restart" not in service  # next week covers what this one missed
    # out of docking's way
    assert service["IOSchedulingClass"] == ["idle"]
    assert service["CPUSchedulingPolicy"] == ["idle"]
    assert service["Nice"] == ["19"]
    assert service["CapabilityBoundingSet"] == [""]
    assert service["ReadWritePaths"] == ["/var/lib/dockd"]  # the custody event
    assert settings(SCRUB.service, "Unit")["AssertPathExists"] == ["/etc/dockd/dockd.toml"]
    assert settings(SCRUB.service, "Install") == {}  # started by the timer only


def test_the_scheduled_scrub_verifies_the_store_and_fails_with_it(
    dockd: Dockd, tmp_path: Path
) -> None:
    """What the service runs, on a real store: a damaged object fails the scrub."""
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    (recorder / "SN9_007_20261122080000_0001.AVI").write_bytes(b"clip" * 1000)
    dockd.run("ingest", str(recorder), "--serial", "SN9", check=True)
    scrub = dockd.run(*SCRUB.exec_start.split()[1:])
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
    failed = dockd.run(*SCRUB.exec_start.split()[1:])
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "verified 2 objects: 1 match the ledger" in failed.stdout
