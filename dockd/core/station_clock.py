"""The station clock as a value, and the pure half of measuring it.

How far this dock's clock is from true time is recorded with every dock session and
may be read out in court, so the choice among servers and the reading of the local
time daemons' output are pure functions here, tested on their own; the I/O (UDP
exchanges, running ``chronyc``/``timedatectl``) is in ``dockd.adapters.ntp``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, NamedTuple

#: Leap indicator 3: "alarm condition, clock not synchronised" (RFC 5905 figure 9).
LEAP_NOT_SYNCHRONISED: Final = 3
#: Stratum 16 means unsynchronised and 0 is a kiss-o'-death; only 1..15 carry true time.
MIN_STRATUM: Final = 1
MAX_STRATUM: Final = 15
#: Reference ID chronyd reports when it serves its own clock (``local`` directive).
CHRONY_LOCAL_REFID: Final = "7F7F0101"


@dataclass(frozen=True, slots=True)
class StationClock:
    """How far the station clock was from true time at ``measured_at``, and how we know.

    ``offset_s`` follows the NTP convention: true time − station time, i.e. what to
    add to a station timestamp to get true time (positive: the station is slow).
    """

    offset_s: float | None  # None when unknown
    server: str | None  # "host:port" of the chosen sample, or "chrony"/"timesyncd"
    stratum: int | None
    delay_s: float | None  # round-trip delay of the chosen sample (chrony: root delay)
    synchronised: bool  # a usable, synchronised source answered
    measured_at: datetime  # aware UTC, station time of the measurement
    method: str  # "ntp" | "chrony" | "timesyncd" | "none"
    detail: str  # a sentence for humans: how the value was chosen, or why it is unknown

    @classmethod
    def unknown(cls, method: str, detail: str, measured_at: datetime) -> StationClock:
        """No usable source: the offset is unknown, and `detail` says why."""
        return cls(None, None, None, None, False, measured_at, method, detail)


# --- NTP -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NtpSample:
    """One server's answer to one request (synchronised or not)."""

    server: str
    offset_s: float
    delay_s: float
    stratum: int
    leap: int
    ref_id: int = 0

    @property
    def synchronised(self) -> bool:
        return is_synchronised(self.stratum, self.leap)

    def why_unsynchronised(self) -> str:
        """The server's own reason, in words, for a sample that is not usable."""
        if self.stratum == 0:
            kiss = self.ref_id.to_bytes(4, "big").decode("ascii", "replace").strip("\0 ")
            return f"kiss-o'-death {kiss!r}" if kiss.isprintable() and kiss else "stratum 0"
        if self.leap == LEAP_NOT_SYNCHRONISED:
            return "leap indicator 3: clock not synchronised"
        return f"stratum {self.stratum}"


class ServerFailure(NamedTuple):
    """A server that gave no usable reply, and why."""

    server: str
    reason: str


def is_synchronised(stratum: int, leap: int) -> bool:
    """Whether a server claiming this stratum and leap indicator carries true time."""
    return MIN_STRATUM <= stratum <= MAX_STRATUM and leap != LEAP_NOT_SYNCHRONISED


def choose_median(samples: Sequence[NtpSample]) -> NtpSample | None:
    """The sample with the median offset; for an even count the lower-middle one.

    A real sample rather than the mean of the two middle ones, so that the recorded
    offset, server, stratum and delay all describe one exchange that really happened.
    Ties are broken by delay, then server, so the choice is reproducible.
    """
    if not samples:
        return None
    ordered = sorted(samples, key=lambda s: (s.offset_s, s.delay_s, s.server))
    return ordered[(len(ordered) - 1) // 2]


def summarise_ntp(
    replies: Sequence[NtpSample | ServerFailure], measured_at: datetime
) -> StationClock:
    """Turn every server's reply (in configuration order) into the session's record."""
    usable = [r for r in replies if isinstance(r, NtpSample) and r.synchronised]
    problems = [
        f"{r.server} {r.reason}"
        if isinstance(r, ServerFailure)
        else f"{r.server} answered unsynchronised ({r.why_unsynchronised()})"
        for r in replies
        if not (isinstance(r, NtpSample) and r.synchronised)
    ]
    any_answer = any(isinstance(r, NtpSample) for r in replies)
    chosen = choose_median(usable)
    if chosen is None:
        lead = "no synchronised server answered" if any_answer else "no server answered"
        return StationClock.unknown("ntp", f"{lead}: {'; '.join(problems)}", measured_at)
    count = len(usable)
    detail = f"median of {count} servers" if count > 1 else "1 server"
    if problems:
        detail += f" (left out: {'; '.join(problems)})"
    return StationClock(
        offset_s=chosen.offset_s,
        server=chosen.server,
        stratum=chosen.stratum,
        delay_s=chosen.delay_s,
        synchronised=True,
        measured_at=measured_at,
        method="ntp",
        detail=detail,
    )


# --- chrony --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChronyTracking:
    """One ``chronyc -c tracking`` line, fields in chronyc's order."""

    ref_id: str  # hex, e.g. "7F000001"; "7F7F0101" = own local clock; "00000000" = none
    ref_name: str
    stratum: int
    ref_time: float  # Unix time of the last update from the reference
    system_time_s: float  # NTP time − system time ("System time ... slow" when positive)
    last_offset_s: float
    rms_offset_s: float
    frequency_ppm: float
    residual_freq_ppm: float
    skew_ppm: float
    root_delay_s: float
    root_dispersion_s: float
    update_interval_s: float
    leap_status: str  # "Normal", "Insert second", "Delete second", "Not synchronised"

    @property
    def is_local_reference(self) -> bool:
        """chronyd is serving its own clock: synchronised in form, not to true time."""
        return self.ref_id.upper() == CHRONY_LOCAL_REFID

    @property
    def synchronised(self) -> bool:
        return (
            self.leap_status != "Not synchronised"
            and MIN_STRATUM <= self.stratum <= MAX_STRATUM
            and not self.is_local_reference
        )

    @property
    def error_bound_s(self) -> float:
        """chronyc(1): clock_error <= |system_time_offset| + root_dispersion + root_delay/2."""
        return abs(self.system_time_s) + self.root_dispersion_s + self.root_delay_s / 2


def parse_chronyc_tracking(output: str) -> ChronyTracking:
    """Parse the output of ``chronyc -c tracking``; ValueError if it is not one.

    chronyc prints "System time" as the correction still to be applied to the system
    clock (positive = "slow of NTP time"), which is already the NTP offset convention.
    """
    lines = [line for line in output.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"expected one CSV line from chronyc, got {len(lines)}: {output!r}")
    fields = next(csv.reader(lines))
    if len(fields) != 14:
        raise ValueError(f"expected 14 fields from chronyc tracking, got {len(fields)}: {output!r}")
    try:
        n = [float(f) for f in fields[3:13]]
        return ChronyTracking(
            ref_id=fields[0],
            ref_name=fields[1],
            stratum=int(fields[2]),
            ref_time=n[0],
            system_time_s=n[1],
            last_offset_s=n[2],
            rms_offset_s=n[3],
            frequency_ppm=n[4],
            residual_freq_ppm=n[5],
            skew_ppm=n[6],
            root_delay_s=n[7],
            root_dispersion_s=n[8],
            update_interval_s=n[9],
            leap_status=fields[13].strip(),
        )
    except ValueError as exc:
        raise ValueError(f"unexpected chronyc tracking line {lines[0]!r}: {exc}") from None


def chrony_station_clock(tracking: ChronyTracking, measured_at: datetime) -> StationClock:
    """The session record from chronyd's own view of the station clock."""
    reference = tracking.ref_name or tracking.ref_id
    if tracking.is_local_reference:
        why = (
            "chronyd serves the station's own clock (local reference 7F7F0101) and is "
            "not synchronised to any time source"
        )
    elif not tracking.synchronised:
        why = f"chronyd is not synchronised (leap status {tracking.leap_status!r})"
    else:
        direction = "slow" if tracking.system_time_s >= 0 else "fast"
        return StationClock(
            offset_s=tracking.system_time_s,
            server="chrony",
            stratum=tracking.stratum,
            delay_s=tracking.root_delay_s,
            synchronised=True,
            measured_at=measured_at,
            method="chrony",
            detail=(
                f"chronyd synchronised to {reference} at stratum {tracking.stratum}: station "
                f"{abs(tracking.system_time_s):.6f} s {direction}, error bound "
                f"{tracking.error_bound_s:.6f} s"
            ),
        )
    return StationClock(
        offset_s=None,
        server="chrony",
        stratum=tracking.stratum or None,
        delay_s=None,
        synchronised=False,
        measured_at=measured_at,
        method="chrony",
        detail=why,
    )


# --- systemd-timesyncd ---------------------------------------------------------------


def parse_properties(output: str) -> dict[str, str]:
    """``Key=value`` lines as printed by ``timedatectl show[-timesync]``."""
    props: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            props[key.strip()] = value.strip()
    return props


def parse_ntp_message(value: str) -> dict[str, str]:
    """The ``NTPMessage={ Leap=0, Version=4, ... }`` property of timedatectl show-timesync.

    Split before each ``Key=`` rather than at commas: timestamps contain spaces and
    some systemd versions print ``Ignored=no PacketCount=1`` without a comma.
    """
    inner = value.strip().removeprefix("{").removesuffix("}").strip()
    fields: dict[str, str] = {}
    for part in re.split(r",?\s+(?=\w+=)", inner):
        key, sep, val = part.partition("=")
        if sep:
            fields[key.strip()] = val.strip().rstrip(",").strip()
    return fields


def timesyncd_station_clock(
    ntp_synchronized: str, timesync: Mapping[str, str], measured_at: datetime
) -> StationClock:
    """The session record from systemd: whether the clock is synchronised, never by how much.

    ``ntp_synchronized`` is the kernel's verdict (``timedatectl show -p NTPSynchronized``);
    ``timesync`` the properties of ``timedatectl show-timesync --all`` (may be empty).
    """
    message = parse_ntp_message(timesync.get("NTPMessage", ""))
    stratum = int(message["Stratum"]) if message.get("Stratum", "").isdigit() else None
    leap = int(message["Leap"]) if message.get("Leap", "").isdigit() else None
    server = timesync.get("ServerName") or timesync.get("ServerAddress") or ""
    source_ok = stratum is None or is_synchronised(stratum, leap or 0)
    synchronised = ntp_synchronized.strip() == "yes" and source_ok
    where = f" via {server}" if server else ""
    if stratum is not None:
        where += f" (stratum {stratum})"
    if synchronised:
        detail = (
            f"systemd reports the clock synchronised{where}; timesyncd does not expose the offset"
        )
    elif ntp_synchronized.strip() == "yes":
        detail = f"systemd reports the clock synchronised, but its server{where} is not"
    else:
        verdict = ntp_synchronized.strip() or "empty"
        detail = f"systemd reports the clock not synchronised (NTPSynchronized={verdict}){where}"
    return StationClock(
        offset_s=None,
        server="timesyncd",
        stratum=stratum,
        delay_s=None,
        synchronised=synchronised,
        measured_at=measured_at,
        method="timesyncd",
        detail=detail,
    )
