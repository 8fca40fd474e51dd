"""Time you can defend in court: the recorder's drift from true time, and corrected times.

True time is the station's clock corrected by its measured NTP offset. Drift is
recorder time − true time; corrected = reported − drift. A drift that was not
measured is never invented: it is 'unknown', or a lower bound marked as such,
and then no corrected time is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ClockMethod = Literal["clock-file", "newest-recording-lower-bound", "unknown"]
Verdict = Literal["ok", "warn", "violation", "unknown"]


@dataclass(frozen=True, slots=True)
class RecorderClock:
    drift_s: float | None
    method: ClockMethod
    measured_at: datetime
    detail: str

    @property
    def measured(self) -> bool:
        """Only a clock file is a measurement; a lower bound says 'at least', not 'exactly'."""
        return self.method == "clock-file" and self.drift_s is not None


def true_time(station_time: datetime, station_offset_s: float | None) -> datetime:
    """The station's time corrected by its NTP offset (true − station); as-is when unknown."""
    return station_time.astimezone(UTC) + timedelta(seconds=station_offset_s or 0.0)


def wall_clock(epoch_s: float, zone: ZoneInfo) -> datetime:
    """A FAT time: the recorder wrote local wall-clock fields with no zone, and the mount
    presented them as if they were UTC. Reinterpret those fields in the recorder's zone.

    Ambiguous local times (the hour repeated when DST ends) take the first occurrence;
    times in the hour skipped when DST starts are read with the offset before the change.
    """
    fields = datetime.fromtimestamp(epoch_s, UTC).replace(tzinfo=None)
    return fields.replace(tzinfo=zone)


def parse_clock_text(text: str, fmt: str, zone: ZoneInfo) -> datetime | None:
    """The recorder's own statement of its time, e.g. '2026-11-22 08:15:00' in its zone."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    try:
        return datetime.strptime(line, fmt).replace(tzinfo=zone)
    except ValueError:
        return None


def clock_file_drift(
    reported: datetime, true_at_read: datetime, measured_at: datetime, path: str
) -> RecorderClock:
    drift = (reported - true_at_read).total_seconds()
    return RecorderClock(
        round(drift, 3),
        "clock-file",
        measured_at,
        f"{path} says {reported.isoformat()}; true time {true_at_read.isoformat()}",
    )


def lower_bound_drift(
    reported_starts: Iterable[datetime], true_at_read: datetime, measured_at: datetime
) -> RecorderClock:
    """With no clock file: a recording that claims to start after now shows the recorder is
    at least that far ahead. Anything else says nothing (the newest clip may be old)."""
    newest = max(reported_starts, default=None)
    if newest is not None and newest > true_at_read:
        ahead = round((newest - true_at_read).total_seconds(), 3)
        return RecorderClock(
            ahead,
            "newest-recording-lower-bound",
            measured_at,
            f"a recording starts {ahead:.0f} s in the future: drift is at least "
            "that (a lower bound, not a measurement)",
        )
    return RecorderClock(
        None,
        "unknown",
        measured_at,
        "the recorder has no clock file and no recording dated in the future",
    )


def corrected(reported: datetime, clock: RecorderClock) -> datetime | None:
    """Reported time minus measured drift; None when drift was not measured."""
    if not clock.measured or clock.drift_s is None:
        return None
    return reported.astimezone(UTC) - timedelta(seconds=clock.drift_s)


def drift_verdict(clock: RecorderClock, warn_s: float, violation_s: float) -> Verdict:
    """A lower bound can prove a violation (at least that far off) but never prove 'ok'."""
    if clock.drift_s is None:
        return "unknown"
    off = abs(clock.drift_s)
    if off >= violation_s:
        return "violation"
    if off >= warn_s:
        return "warn"
    return "ok" if clock.measured else "unknown"
