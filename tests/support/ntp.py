"""A small but real NTP server on loopback, for station-clock tests.

dockd must be able to prove in court how far the station clock was from true
time, so its NTP client is tested against genuine UDP packets rather than a
mocked library: this responder speaks the RFC 5905 wire format (built with
``struct``, independently of ntplib, so a shared misunderstanding cannot make
both sides agree on a wrong answer) and pretends to be a server whose clock is
``offset_s`` ahead of this machine's. A client on this machine therefore
measures an offset of ``offset_s``.

``running_chronyd`` starts a real chronyd on a private configuration, as an NTP
server on loopback or as the station's own time daemon, without touching the
system clock or any system path.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ntplib  # type: ignore[import-untyped]
import pytest

# Seconds from the NTP era origin (1900-01-01) to the Unix epoch (1970-01-01).
NTP_EPOCH_DELTA = 2_208_988_800
_PACKET = struct.Struct("!BBBb4s4s4s8s8s8s8s")  # 48 bytes, RFC 5905 figure 8
_MODE_CLIENT, _MODE_SERVER = 3, 4


def ntp_timestamp(unix_s: float) -> bytes:
    """64-bit NTP timestamp (32-bit seconds since 1900, 32-bit fraction) of a Unix time."""
    seconds = unix_s + NTP_EPOCH_DELTA
    whole = int(seconds)
    fraction = int((seconds - whole) * 2**32) & 0xFFFF_FFFF
    return struct.pack("!II", whole & 0xFFFF_FFFF, fraction)


def short_format(seconds: float) -> bytes:
    """32-bit NTP short format (16.16 fixed point), used for root delay and dispersion."""
    return struct.pack("!I", int(seconds * 2**16) & 0xFFFF_FFFF)


class ResponderAddress(str):
    """The ``"127.0.0.1:PORT"`` a responder listens on, plus how many requests it received.

    A ``str`` so it can go straight into ``ClockConfig.ntp_servers``; the counter lets a
    test prove that dockd's cache really spares the servers.
    """

    _counter: list[int]

    def __new__(cls, value: str, counter: list[int]) -> ResponderAddress:
        self = super().__new__(cls, value)
        self._counter = counter
        return self

    @property
    def requests(self) -> int:
        """Client (mode 3) packets received so far, answered or not yet."""
        return self._counter[0]


def _reply(
    request: bytes, received: float, offset_s: float, stratum: int, leap: int, echo: bool
) -> bytes:
    """The mode-4 answer to ``request``, received at (real) Unix time ``received``."""
    first, poll = request[0], request[2]
    version = (first >> 3) & 0x7 or 4
    client_transmit = request[40:48] if echo else bytes(8)
    now = time.time() + offset_s
    return _PACKET.pack(
        (leap & 0x3) << 6 | version << 3 | _MODE_SERVER,
        stratum,
        poll,  # echoed, as servers do (a signed log2 value; copied as the raw byte)
        -20,  # precision: about a microsecond
        short_format(0.0),  # root delay
        short_format(0.001),  # root dispersion
        b"DOCK" if stratum <= 1 else socket.inet_aton("127.0.0.2"),  # reference id
        ntp_timestamp(now - 16.0),  # reference timestamp: last "synchronised" a while ago
        client_transmit,  # origin: echoes the client's transmit timestamp (RFC 5905 8)
        ntp_timestamp(received + offset_s),  # receive timestamp
        ntp_timestamp(time.time() + offset_s),  # transmit timestamp
    )


@contextmanager
def ntp_responder(
    offset_s: float,
    stratum: int = 2,
    leap: int = 0,
    delay_s: float = 0.0,
    *,
    host: str = "127.0.0.1",
    echo_origin: bool = True,
) -> Iterator[ResponderAddress]:
    """Serve NTP on 127.0.0.1 (ephemeral port) from a thread; yield ``"127.0.0.1:PORT"``.

    offset_s: how far this server's clock is ahead of the machine's real clock.
    stratum, leap: what the server claims (stratum 16 or leap 3 mean "unsynchronised").
    delay_s: a simulated symmetric round trip: half is slept before the receive
    timestamp is taken and half before answering, so a client measures a round-trip
    delay of about ``delay_s`` and still the right offset; a delay longer than the
    client's timeout makes the server look unreachable.
    host: ``"::1"`` serves on IPv6 loopback instead and yields ``"[::1]:PORT"``.
    echo_origin: False answers with a zero origin timestamp, as a broken or forging
    server would; a careful client must not take such a reply as a measurement.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(0.05)
    stop = threading.Event()
    counter = [0]
    crashed: list[BaseException] = []

    def serve() -> None:
        try:
            loop()
        except BaseException as exc:  # surfaced at exit: a silent dead responder looks like
            crashed.append(exc)  # "server unreachable" and would make a test lie
            raise

    def loop() -> None:
        while not stop.is_set():
            try:
                request, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return  # socket closed under us at shutdown
            if len(request) < _PACKET.size or request[0] & 0x7 != _MODE_CLIENT:
                continue  # not an NTP client request: a real server ignores it too
            counter[0] += 1
            if delay_s:
                time.sleep(delay_s / 2)  # the way there
            answer = _reply(request, time.time(), offset_s, stratum, leap, echo_origin)
            if delay_s:
                time.sleep(delay_s / 2)  # the way back
            try:
                sock.sendto(answer, peer)
            except OSError:
                return

    thread = threading.Thread(target=serve, name=f"ntp-responder{offset_s:+}", daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    try:
        label = f"[{host}]" if family == socket.AF_INET6 else host
        yield ResponderAddress(f"{label}:{port}", counter)
    finally:
        stop.set()
        thread.join(timeout=5 + delay_s)
        sock.close()
    if crashed:
        raise RuntimeError("the NTP responder thread crashed") from crashed[0]


@contextmanager
def true_time_station() -> Iterator[ResponderAddress]:
    """A real NTP server on loopback telling true time, named in ``DOCKD_CLOCK__NTP_SERVERS``
    (which overrides config files) for every dockd started meanwhile: a station without a
    synchronised clock flags every session, as it must. Tests of clock trouble override it.
    The variable is restored on exit, so it never leaks past the tests that docked."""
    with ntp_responder(0.0) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("DOCKD_CLOCK__NTP_SERVERS", f'["{server}"]')
        yield server


# --- a private chronyd ------------------------------------------------------------------

# sbin is often missing from PATH under IDEs and CI runners even as root.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_CHRONY_START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Chronyd:
    """A chronyd of the test's own: its NTP address (if it serves) and its chronyc command."""

    ntp: str | None  # "127.0.0.1:PORT" when it serves NTP
    chronyc: tuple[str, ...]  # chronyc bound to this daemon's private command socket
    log: Path

    def tracking_csv(self) -> str:
        """The raw ``chronyc -c tracking`` line of this daemon."""
        proc = subprocess.run(
            [*self.chronyc, "-n", "-c", "tracking"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"chronyc tracking failed: {proc.stderr or proc.stdout}")
        return proc.stdout


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that nothing listens on right now (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _chrony_tools() -> tuple[str, str]:
    """Skip (not fail) on a machine without chrony or root, naming the fix."""
    chronyd = shutil.which("chronyd", path=_SEARCH_PATH)
    chronyc = shutil.which("chronyc", path=_SEARCH_PATH)
    if chronyd is None or chronyc is None:
        pytest.skip("apt-get install -y chrony")
    if os.geteuid() != 0:
        pytest.skip("run as root (chronyd refuses to start otherwise)")
    return chronyd, chronyc


@contextmanager
def running_chronyd(
    base_dir: Path, *, serve: bool = False, upstream: str | None = None
) -> Iterator[Chronyd]:
    """Run ``chronyd -d -x`` on a private configuration in ``base_dir``; stop it at exit.

    ``-x``: never touch the system clock (the null clock driver still keeps chronyd's own
    estimate, so ``chronyc tracking`` reports what it would correct). ``-u root``: do not
    drop to _chrony, which could not reach the 0700 pytest directories. Nothing outside
    ``base_dir`` is used: the command socket is private and there is no UDP command port.

    serve: answer NTP on 127.0.0.1 from the local clock at ``local stratum 8``; returns
    once chronyd answers synchronised.
    upstream: ``"127.0.0.1:PORT"`` of a server to follow (polled every 1/16 s); returns
    once chronyd has selected it.
    """
    chronyd, chronyc = _chrony_tools()
    base_dir.mkdir(parents=True, exist_ok=True)
    sock, conf, log = base_dir / "chronyd.sock", base_dir / "chrony.conf", base_dir / "chronyd.log"
    lines = [
        "cmdport 0",
        f"bindcmdaddress {sock}",
        f"pidfile {base_dir / 'chronyd.pid'}",
        f"driftfile {base_dir / 'chronyd.drift'}",
    ]
    port = free_udp_port() if serve else 0
    if serve:
        lines += ["local stratum 8", "allow 127.0.0.1", f"port {port}", "bindaddress 127.0.0.1"]
    else:
        lines += ["port 0"]  # a client only: no NTP server socket at all
    if upstream is not None:
        host, _, upstream_port = upstream.rpartition(":")
        lines.append(f"server {host} port {upstream_port} iburst minpoll -4 maxpoll -4")
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [chronyd, "-d", "-x", "-u", "root", "-f", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    daemon = Chronyd(f"127.0.0.1:{port}" if serve else None, (chronyc, "-h", str(sock)), log)
    try:
        _wait_ready(proc, daemon, serve=serve, upstream=upstream)
        yield daemon
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_ready(
    proc: subprocess.Popen[bytes], daemon: Chronyd, *, serve: bool, upstream: str | None
) -> None:
    """Block until chronyd does what the test needs, or fail with its log."""
    deadline = time.monotonic() + _CHRONY_START_TIMEOUT_S
    last = "nothing yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chronyd exited {proc.returncode}:\n{daemon.log.read_text()}")
        try:
            if serve and daemon.ntp is not None:
                host, _, port = daemon.ntp.rpartition(":")
                reply = ntplib.NTPClient().request(host, version=3, port=int(port), timeout=0.5)
                last = f"stratum {reply.stratum}, leap {reply.leap}"
                ready = 1 <= reply.stratum <= 15 and reply.leap != 3
            else:
                last = daemon.tracking_csv().strip()
                ready = upstream is None or not last.endswith("Not synchronised")
        except (ntplib.NTPException, OSError, RuntimeError) as exc:
            last = str(exc)
            ready = False
        if ready:
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"chronyd not ready within {_CHRONY_START_TIMEOUT_S:g} s (last: {last}):\n"
        + daemon.log.read_text()
    )
