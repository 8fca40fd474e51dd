"""The clock checks of a dock session: the station's own clock, and the recorder's drift.

Both are measured once per dock session and recorded with it; what the numbers mean
(drift, verdicts, corrected times) is pure and lives in `dockd.core.clock`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import structlog

from dockd.core.clock import (
    RecorderClock,
    Verdict,
    clock_file_drift,
    drift_verdict,
    lower_bound_drift,
    parse_clock_text,
    true_time,
)
from dockd.core.model import Problem
from dockd.core.names import parse_name
from dockd.core.policy import ClockPolicy
from dockd.core.profiles import RecorderProfile, pick_profile
from dockd.core.said import Said
from dockd.core.station_clock import StationClock
from dockd.core.transfer import Scan
from dockd.errors import StationClockError
from dockd.ports import Clock, SessionLedger, StationClockSource, Volume

log = structlog.get_logger("dockd.services.clocks")


@dataclass(frozen=True, slots=True)
class StationCheck:
    """The measurement, and what it means under the policy: a problem, or a refusal
    (the measurement is recorded with the refused session all the same)."""

    clock: StationClock
    problem: Problem | None
    refusal: StationClockError | None


@dataclass(frozen=True, slots=True)
class RecorderClockCheck:
    clock: RecorderClock
    verdict: Verdict
    problems: list[Problem]


def check_station(source: StationClockSource, policy: ClockPolicy) -> StationCheck:
    """Measure the station's own clock; never proceed silently as if it were good."""
    station = source.measure()
    if station.synchronised:
        return StationCheck(station, None, None)
    error = StationClockError(
        "the station clock is not synchronised: {detail}", detail=station.detail
    )
    if policy.on_unsynchronised == "refuse":
        return StationCheck(station, None, error)
    problem = Problem("/", "station-clock-unsynchronised", Said.error(error))
    return StationCheck(station, problem, None)


def _from_clock_file(
    volume: Volume,
    root: Path,
    profile: RecorderProfile,
    station: StationClock | None,
    measured_at: datetime,
    problems: list[Problem],
) -> RecorderClock | None:
    """Drift from the recorder's clock file (DEVCLOCK.TXT and the like), when it has one."""
    if not profile.clock_file:
        return None
    raw = volume.read_small_file(root, profile.clock_file)
    if raw is None:
        return None
    reported = parse_clock_text(raw.decode("utf-8", "replace"), profile.clock_format, profile.zone)
    if reported is None:
        problems.append(
            Problem(
                profile.clock_file,
                "clock-file-unreadable",
                Said("expected one line in the format {format!r}", format=profile.clock_format),
            )
        )
        return None
    now = true_time(measured_at, station.offset_s if station else None)
    clock = clock_file_drift(reported, now, measured_at, profile.clock_file)
    if station is None or not station.synchronised:
        clock = replace(
            clock,
            detail=clock.detail + " (the station clock is "
            "not synchronised: drift is against the station clock)",
        )
    return clock


def check_recorder(
    volume: Volume,
    root: Path,
    profile: RecorderProfile,
    scan: Scan,
    station: StationClock | None,
    measured_at: datetime,
    policy: ClockPolicy,
) -> RecorderClockCheck:
    """The recorder's drift from true time: from its clock file, else a lower bound from
    the start times its file names claim."""
    problems: list[Problem] = []
    clock = _from_clock_file(volume, root, profile, station, measured_at, problems)
    if clock is None:
        now = true_time(measured_at, station.offset_s if station else None)
        starts = (
            n.start
            for f in scan.recordings
            if (n := parse_name(profile, f.path.rpartition(b"/")[2].decode("utf-8", "replace")))
            is not None
            and n.start is not None
        )
        clock = lower_bound_drift(starts, now, measured_at)
    verdict = drift_verdict(clock, policy.drift_warn_s, policy.drift_violation_s)
    if verdict in ("warn", "violation"):
        problems.append(
            Problem(
                "/",
                f"recorder-clock-{verdict}",
                Said(
                    "the recorder's clock is off by {drift:+.1f} s ({method}); warn at "
                    "{warn:g} s, violation at {violation:g} s",
                    drift=clock.drift_s,
                    method=clock.method,
                    warn=policy.drift_warn_s,
                    violation=policy.drift_violation_s,
                ),
            )
        )
    return RecorderClockCheck(clock, verdict, problems)


def clock_set_text(profile: RecorderProfile, station: StationClock, now: datetime) -> str:
    """True time in the recorder's zone and format, for it to read at power-up."""
    moment = true_time(now, station.offset_s).astimezone(profile.zone)
    return moment.strftime(profile.clock_format) + "\n"


class RecorderClockSetting:
    """Setting a recorder's clock through its clock-set file, after a verified session."""

    def __init__(
        self,
        volume: Volume,
        ledger: SessionLedger,
        station_clock: StationClockSource,
        clock: Clock,
        profiles: dict[str, RecorderProfile],
        policy: ClockPolicy,
    ) -> None:
        self.volume, self.ledger, self.station_clock = volume, ledger, station_clock
        self.clock, self.profiles, self.policy = clock, profiles, policy

    def allowed(self, profile_id: str) -> bool:
        """Off unless the policy allows it and the recorder has a clock-set file at all."""
        profile = pick_profile(self.profiles, profile_id)
        return self.policy.set_recorder_clock and profile.clock_set_file is not None

    def write(self, mountpoint: Path, profile_id: str, serial: str, session_id: str) -> None:
        """Write true time, in the recorder's zone and format, for it to read at power-up."""
        profile = pick_profile(self.profiles, profile_id)
        assert profile.clock_set_file is not None
        station = self.station_clock.measure()
        if not station.synchronised:
            log.warning(
                "recorder-clock-not-set",
                serial=serial,
                session=session_id,
                reason=f"the station clock is not synchronised: {station.detail}",
            )
            return
        text = clock_set_text(profile, station, self.clock())
        self.volume.write_small_file(mountpoint, profile.clock_set_file, text.encode("ascii"))
        details = {
            "serial": serial,
            "file": profile.clock_set_file,
            "value": text.strip(),
            "station_synchronised": station.synchronised,
        }
        self.ledger.record_event(self.clock(), "recorder-clock-set", session_id, details)
        log.info("recorder-clock-set", serial=serial, session=session_id, value=text.strip())
