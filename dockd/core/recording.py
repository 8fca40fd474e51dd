"""The evidence record of one verified copy, from plain facts.

Everything a recording's ledger row says (its times, corrected by the recorder's
drift; whose it was; its offload deadline; its retain-until) is decided here, from
the verified copy and the session's facts, never from a second read of the recorder
and never from the clock: `verified_at` is handed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from dockd.core.clock import RecorderClock, Verdict, corrected, wall_clock
from dockd.core.container import ContainerInfo
from dockd.core.deadlines import judge, working_day_end
from dockd.core.model import Problem, SourceFile, VerifiedRecording
from dockd.core.names import parse_name
from dockd.core.profiles import RecorderProfile
from dockd.core.retention import retain_until
from dockd.core.said import Said
from dockd.core.station_clock import StationClock
from dockd.core.timing import recording_times
from dockd.core.transfer import Published
from dockd.core.views import RecorderClockView, StationClockView

#: (badge, since, until): who had the recorder over which span.
Custody = tuple[str, datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What every recording of one dock session is judged against."""

    serial: str
    profile: RecorderProfile
    recorder_clock: RecorderClock
    local_file_times: bool
    custodians: Sequence[Custody]
    excuses: Mapping[str, list[datetime]]
    offload_hours: float
    retention_months: int
    #: badge -> ends of that officer's recordings around this session (this session's scan,
    #: earlier sessions' ledger rows), for the end of each working day
    day_ends: Mapping[str, Sequence[datetime]] = field(default_factory=dict)
    duty_day_end: time | None = None


@dataclass(frozen=True, slots=True)
class VerifiedCopy:
    """One copy as the store proved it: the file as read, the object, how it was read back."""

    file: SourceFile
    published: Published
    verify_method: str
    container: ContainerInfo | None
    container_problems: tuple[Problem, ...] = ()


def file_time(mtime_ns: int, local_zone: ZoneInfo | None) -> datetime | None:
    """A file time as an instant; FAT keeps local wall-clock fields, read in the zone."""
    try:
        if local_zone is not None:
            return wall_clock(mtime_ns / 1e9, local_zone)
        return datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    except (OverflowError, ValueError, OSError):
        return None


def estimated_end(file: SourceFile, facts: SessionFacts) -> tuple[str, datetime] | None:
    """Whose recording a scanned file is and when it ended, before it is copied: what the
    name and the file time say (no container yet), drift-corrected; None when neither
    dates it or no officer is known. Used only to find where each working day ends."""
    name = parse_name(facts.profile, file.path.rpartition(b"/")[2].decode("utf-8", "replace"))
    mtime = file_time(file.mtime_ns, facts.profile.zone if facts.local_file_times else None)
    starts = name.start if name is not None else None
    moments = [m.astimezone(UTC) for m in (starts, mtime) if m is not None]
    if not moments:
        return None
    end = max(moments)
    end = corrected(end, facts.recorder_clock) or end
    badge = name.badge if name and name.badge else custodian_badge(facts.custodians, end)
    return (badge, end) if badge else None


def custodian_badge(custodians: Sequence[Custody], at: datetime) -> str | None:
    """Who had the recorder when the recording ended ("whoever uses it is responsible")."""
    for badge, since, until in reversed(custodians):
        if since <= at and (until is None or at < until):
            return badge
    return None


def build_recording(
    copy: VerifiedCopy, facts: SessionFacts, verified_at: datetime
) -> tuple[VerifiedRecording, list[Problem]]:
    """The recording's record, and the problems an admin must see about it."""
    file, profile = copy.file, facts.profile
    problems: list[Problem] = []
    name = parse_name(profile, file.path.rpartition(b"/")[2].decode("utf-8", "replace"))
    if name is not None and name.serial and name.serial != facts.serial:
        problems.append(
            Problem(
                file.display,
                "serial-mismatch",
                Said(
                    "the file name says recorder {named}, the dock says {docked}; both kept",
                    named=name.serial,
                    docked=facts.serial,
                ),
            )
        )
    problems.extend(copy.container_problems)
    mtime = file_time(file.mtime_ns, profile.zone if facts.local_file_times else None)
    if mtime is None:
        problems.append(
            Problem(
                file.display,
                "bad-file-time",
                Said("the file time is out of range; the dock time is used"),
            )
        )
        mtime = verified_at
    container = copy.container
    times = recording_times(
        name,
        container.created if container else None,
        container.duration_s if container else None,
        mtime,
    )
    corrected_end = corrected(times.end, facts.recorder_clock)
    end = corrected_end or times.end
    badge = name.badge if name and name.badge else custodian_badge(facts.custodians, end)
    day_end = working_day_end(
        end, facts.day_ends.get(badge or "", ()), profile.zone, facts.duty_day_end
    )
    offload = judge(
        end, verified_at, facts.offload_hours, facts.excuses.get(badge or "", []), day_end
    )
    published = copy.published
    rec = VerifiedRecording(
        source=file,
        name=name,
        times=times,
        corrected_start=corrected(times.start, facts.recorder_clock),
        corrected_end=corrected_end,
        deadline=offload.deadline,
        late=offload.late,
        late_by_s=offload.late_by_s,
        retention_class="routine",
        # calendar months in the recorder's own calendar: 1 July there is 1 July
        retain_until=retain_until(end.astimezone(profile.zone), facts.retention_months),
        digests=published.digests,
        object_key=published.key,
        protections=published.protections,
        verified_at=verified_at,
        verify_method=copy.verify_method,
        duplicate=published.duplicate,
        day_end=day_end,
    )
    return rec, problems


def station_clock_view(clock: StationClock | None) -> StationClockView | None:
    """The station clock as the ledger and the manifest record it."""
    if clock is None:
        return None
    return StationClockView(
        offset_s=clock.offset_s,
        server=clock.server,
        stratum=clock.stratum,
        delay_s=clock.delay_s,
        synchronised=clock.synchronised,
        method=clock.method,
        measured_at=clock.measured_at,
        detail=clock.detail,
    )


def recorder_clock_view(clock: RecorderClock | None, verdict: Verdict) -> RecorderClockView | None:
    """The recorder's drift and its verdict, as the ledger and the manifest record them."""
    if clock is None:
        return None
    return RecorderClockView(
        drift_s=clock.drift_s,
        method=clock.method,
        measured_at=clock.measured_at,
        detail=clock.detail,
        verdict=verdict,
    )
