"""The station clock: how far this dock's own clock is from true time, per dock session.

Every recording time dockd records (docked-at, copied-at, verified-at) is read from
the station's clock. To defend those times in court, each session also records how
wrong that clock was at the time, and how we know: which server said so, at what
stratum, over what round-trip delay. The numbers must come from one real
measurement each, so nothing here averages samples into a value no server gave.

Sources, best first:

* the NTP servers in ``[clock] ntp_servers``, asked directly (ntplib, in parallel):
  the **median** offset of the synchronised answers, so one bad or hostile server
  cannot move the result;
* with no servers configured, the station's own time daemon: ``chronyc`` (offset,
  stratum and error bound), else ``timedatectl`` (systemd-timesyncd: only whether
  the clock is synchronised; it does not expose the offset);
* otherwise the offset is recorded as unknown, with the reason.

An unreachable network is an ordinary state of a dock, not an error: nothing here
raises for it, the result says ``synchronised=False`` and why. Only a configuration
that cannot be right (an invalid server entry) raises ``ValueError``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import ntplib  # type: ignore[import-untyped]

from dockd.adapters.clock import utc_now
from dockd.core.net import ServerAddress, parse_servers
from dockd.core.station_clock import (
    NtpSample,
    ServerFailure,
    StationClock,
    chrony_station_clock,
    parse_chronyc_tracking,
    parse_properties,
    summarise_ntp,
    timesyncd_station_clock,
)

#: ntplib defaults to version 2; version 3 is what every server still answers (RFC 1305).
NTP_VERSION: Final = 3
MODE_SERVER: Final = 4
# Slack allowed between the NTP round-trip delay and the locally timed exchange; a
# reply outside it does not belong to our request (stale, forged, or a broken server).
_DELAY_TOLERANCE_S: Final = 0.005
# Name resolution is not covered by the socket timeout; this is what it may add before
# a server is given up on, so that measure() stays bounded even with a dead resolver.
_RESOLVE_GRACE_S: Final = 0.5
# chronyc/timedatectl are local IPC, but chronyc retries over UDP when its socket is
# missing; bound them so that a dock session is never held up by a wedged daemon.
_TOOL_TIMEOUT_S: Final = 3.0


def query_server(address: ServerAddress, timeout_s: float) -> NtpSample | ServerFailure:
    """One NTP exchange with one server. Never raises: a failure is a value with a reason."""
    label = str(address)
    started = time.monotonic()
    try:
        stats = ntplib.NTPClient().request(
            address.host, version=NTP_VERSION, port=address.port, timeout=timeout_s
        )
    except ntplib.NTPException as exc:
        if isinstance(exc.__context__, TimeoutError):
            return ServerFailure(label, f"timed out after {timeout_s:g} s")
        return ServerFailure(label, f"answered with a malformed packet ({exc})")
    except socket.gaierror as exc:
        return ServerFailure(label, f"cannot resolve {address.host!r} ({exc.strerror})")
    except ConnectionRefusedError:
        return ServerFailure(label, "refused (nothing listens on that port)")
    except OSError as exc:
        return ServerFailure(label, f"unreachable ({exc.strerror or exc})")
    elapsed = time.monotonic() - started
    if stats.mode != MODE_SERVER:
        return ServerFailure(label, f"answered with NTP mode {stats.mode}, not a server reply")
    if stats.tx_timestamp == 0:
        return ServerFailure(label, "answered without a transmit timestamp")
    delay = float(stats.delay)
    if not -_DELAY_TOLERANCE_S <= delay <= elapsed + _DELAY_TOLERANCE_S:
        # ntplib does not check that the reply echoes our request; an impossible delay
        # shows it does not (a stale or forged reply, or a server that does not echo).
        return ServerFailure(
            label, f"answered with a reply that does not match the request (delay {delay:.3f} s)"
        )
    return NtpSample(
        server=label,
        offset_s=float(stats.offset),
        delay_s=max(delay, 0.0),
        stratum=int(stats.stratum),
        leap=int(stats.leap),
        ref_id=int(stats.ref_id),
    )


# --- the source ----------------------------------------------------------------------


class _ToolFailed(Exception):
    """A local time tool is missing or did not answer; the message says which and why."""


def _run_tool(args: Sequence[str], timeout_s: float) -> str:
    """Run a local time tool in the C locale and return its stdout, or raise _ToolFailed."""
    name = os.path.basename(args[0])
    try:
        proc = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise _ToolFailed(f"{name} is not installed") from None
    except subprocess.TimeoutExpired:
        raise _ToolFailed(f"{name} did not answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise _ToolFailed(f"{name}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise _ToolFailed(f"{name}: {said[0] if said else f'exit status {proc.returncode}'}")
    return proc.stdout


class StationClockSource:
    """Measures the station clock on demand, at most once per ``cache_s``.

    ``clock`` only stamps ``measured_at``; the cache runs on ``monotonic`` so that a
    station clock being stepped (the very thing measured here) cannot stretch or
    shrink it. ``chronyc``/``timedatectl`` are the command prefixes used when no
    server is configured (tests point them at a private chronyd).
    """

    def __init__(
        self,
        servers: list[str],
        cache_s: float = 60.0,
        timeout_s: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        chronyc: Sequence[str] = ("chronyc",),
        timedatectl: Sequence[str] = ("timedatectl",),
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")
        if not cache_s >= 0:
            raise ValueError(f"cache_s must be zero or positive, not {cache_s!r}")
        self.servers = parse_servers(servers)
        self.cache_s = cache_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._monotonic = monotonic
        self._chronyc = tuple(chronyc)
        self._timedatectl = tuple(timedatectl)
        self._lock = threading.Lock()
        self._cached: StationClock | None = None
        self._cached_at = 0.0

    def measure(self) -> StationClock:
        """Cached for cache_s so a burst of dockings does not hammer the servers (thread-safe).

        The lock is held during the measurement: callers arriving meanwhile wait for it
        (at most about ``timeout_s``) and share its result instead of asking again.
        """
        with self._lock:
            now = self._monotonic()
            if self._cached is not None and now - self._cached_at < self.cache_s:
                return self._cached
            result = self._measure_now()
            self._cached, self._cached_at = result, now
            return result

    def _measured_at(self) -> datetime:
        stamp = self._clock()
        if stamp.tzinfo is None:
            raise ValueError("the station clock callable must return an aware datetime")
        return stamp.astimezone(UTC)

    def _measure_now(self) -> StationClock:
        measured_at = self._measured_at()
        if self.servers:
            return summarise_ntp(self._query_all(), measured_at)
        return self._from_local_daemon(measured_at)

    def _query_all(self) -> list[NtpSample | ServerFailure]:
        """Ask every server at once, each on its own thread, and wait a bounded time.

        Threads are daemons and are not waited for past the deadline: a server stuck
        in name resolution is reported as silent, and its thread ends on its own.
        """
        replies: list[NtpSample | ServerFailure | None] = [None] * len(self.servers)

        def ask(index: int, address: ServerAddress) -> None:
            try:
                replies[index] = query_server(address, self.timeout_s)
            except Exception as exc:  # a library bug must not cost the dock its session
                replies[index] = ServerFailure(str(address), f"could not be queried ({exc!r})")

        threads = [
            threading.Thread(target=ask, args=(i, a), name=f"dockd-ntp-{a}", daemon=True)
            for i, a in enumerate(self.servers)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + self.timeout_s + _RESOLVE_GRACE_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        silent = f"did not answer within {self.timeout_s + _RESOLVE_GRACE_S:g} s"
        return [
            reply if reply is not None else ServerFailure(str(address), silent)
            for reply, address in zip(replies, self.servers, strict=True)
        ]

    def _from_local_daemon(self, measured_at: datetime) -> StationClock:
        """No servers configured: ask chronyd, then systemd; else record "unknown"."""
        tool_timeout = max(_TOOL_TIMEOUT_S, self.timeout_s)
        reasons = ["no NTP servers configured"]
        try:
            output = _run_tool([*self._chronyc, "-n", "-c", "tracking"], tool_timeout)
        except _ToolFailed as exc:
            reasons.append(str(exc))
        else:
            try:
                return chrony_station_clock(parse_chronyc_tracking(output), measured_at)
            except ValueError as exc:
                reasons.append(f"chronyc answered but {exc}")
        try:
            synced = _run_tool(
                [*self._timedatectl, "show", "-p", "NTPSynchronized", "--value"], tool_timeout
            )
        except _ToolFailed as exc:
            reasons.append(str(exc))
        else:
            try:
                timesync = parse_properties(
                    _run_tool([*self._timedatectl, "show-timesync", "--all"], tool_timeout)
                )
            except _ToolFailed:
                timesync = {}  # timesyncd not running (another daemon may keep the time)
            return timesyncd_station_clock(synced, timesync, measured_at)
        return StationClock.unknown("none", "; ".join(reasons), measured_at)
