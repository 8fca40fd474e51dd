"""The station clock adapter against real NTP servers on loopback.

Every dock session records how far the station clock was from true time, and that
record may be read out in court; so these tests use real UDP exchanges (a small
responder of our own, and a real chronyd), never a mocked ntplib.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dockd.adapters.ntp import StationClockSource
from dockd.core.net import ServerAddress, parse_server, parse_servers
from dockd.core.station_clock import (
    ChronyTracking,
    NtpSample,
    StationClock,
    choose_median,
    parse_chronyc_tracking,
    parse_ntp_message,
    parse_properties,
    timesyncd_station_clock,
)
from tests.support.ntp import free_udp_port, ntp_responder, running_chronyd

# Captured from chronyd 4.3 (Debian 12) with `chronyc -n -c tracking`: synchronised to a
# server 0.3 s ahead of this machine (-x, so the 0.3 s stays uncorrected), serving its
# own clock (`local stratum 8`), and just started without any source.
CHRONY_SYNCED = (
    "7F000001,127.0.0.1,3,1795453254.197906266,0.300031602,-0.000000058,0.000000109,"
    "0.022,-0.007,0.865,0.000092975,0.000996453,0.1,Normal\n"
)
CHRONY_LOCAL = (
    "7F7F0101,,8,1795453219.286921793,0.000000000,0.000000000,0.000000000,0.000,0.000,"
    "0.000,0.000000000,0.000000000,0.0,Normal\n"
)
CHRONY_UNSYNCED = (
    "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,"
    "1.000000000,1.000000000,0.0,Not synchronised\n"
)
TIMEOUT_S = 0.5
# measure() may take the socket timeout plus the name-resolution grace, plus thread noise.
UPPER_BOUND_S = TIMEOUT_S + 0.5 + 0.5


def closed_udp_port() -> str:
    """ "127.0.0.1:PORT" where nothing listens: an NTP server that is down."""
    return f"127.0.0.1:{free_udp_port()}"


def assert_aware_utc(stamp: datetime) -> None:
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() == timedelta(0)


# --- NTP servers ------------------------------------------------------------------------


def test_station_0_3_s_slow_is_measured_as_the_median_server() -> None:
    with (
        ntp_responder(0.3) as middle,
        ntp_responder(0.31) as high,
        ntp_responder(0.29) as low,
    ):
        before = datetime.now(UTC)
        clock = StationClockSource([high, middle, low], timeout_s=TIMEOUT_S).measure()

    assert clock.method == "ntp"
    assert clock.synchronised is True
    assert clock.offset_s == pytest.approx(0.3, abs=0.05)
    assert clock.server == middle
    assert clock.stratum == 2
    assert clock.delay_s is not None and 0 <= clock.delay_s < 0.05
    assert clock.detail == "median of 3 servers"
    assert_aware_utc(clock.measured_at)
    assert before <= clock.measured_at <= datetime.now(UTC)


def test_even_count_reports_the_lower_middle_sample() -> None:
    with ntp_responder(0.5) as upper, ntp_responder(0.3) as lower:
        clock = StationClockSource([upper, lower], timeout_s=TIMEOUT_S).measure()
    assert clock.server == lower
    assert clock.offset_s == pytest.approx(0.3, abs=0.05)
    assert clock.detail == "median of 2 servers"


def test_round_trip_delay_is_reported_and_offset_stays_right() -> None:
    with ntp_responder(-1.5, delay_s=0.2) as slow_path:
        clock = StationClockSource([slow_path], timeout_s=TIMEOUT_S).measure()
    assert clock.synchronised
    assert clock.offset_s == pytest.approx(-1.5, abs=0.05)
    assert clock.delay_s == pytest.approx(0.2, abs=0.05)
    assert clock.detail == "1 server"


def test_ipv6_server_is_queried() -> None:
    with ntp_responder(0.3, host="::1") as v6:
        assert v6.startswith("[::1]:")
        clock = StationClockSource([v6], timeout_s=TIMEOUT_S).measure()
    assert clock.synchronised
    assert clock.server == v6
    assert clock.offset_s == pytest.approx(0.3, abs=0.05)


def test_unsynchronised_servers_give_no_offset_and_say_why() -> None:
    with ntp_responder(5.0, stratum=16) as stratum16, ntp_responder(5.0, leap=3) as alarm:
        clock = StationClockSource([stratum16, alarm], timeout_s=TIMEOUT_S).measure()

    assert clock.synchronised is False
    assert clock.method == "ntp"
    assert clock.offset_s is None
    assert clock.server is None and clock.stratum is None and clock.delay_s is None
    assert clock.detail == (
        f"no synchronised server answered: {stratum16} answered unsynchronised (stratum 16); "
        f"{alarm} answered unsynchronised (leap indicator 3: clock not synchronised)"
    )


def test_kiss_of_death_counts_as_unsynchronised() -> None:
    with ntp_responder(0.0, stratum=0) as kod:
        clock = StationClockSource([kod], timeout_s=TIMEOUT_S).measure()
    assert not clock.synchronised
    assert f"{kod} answered unsynchronised (kiss-o'-death 'DOCK')" in clock.detail


def test_bad_servers_are_left_out_of_the_median_and_named() -> None:
    down = closed_udp_port()
    with ntp_responder(0.3) as good, ntp_responder(9.0, stratum=16) as lost:
        clock = StationClockSource([good, lost, down], timeout_s=TIMEOUT_S).measure()
    assert clock.synchronised
    assert clock.server == good
    assert clock.offset_s == pytest.approx(0.3, abs=0.05)
    assert clock.detail == (
        f"1 server (left out: {lost} answered unsynchronised (stratum 16); "
        f"{down} timed out after {TIMEOUT_S:g} s)"
    )


def test_no_server_reachable_is_reported_within_the_timeout() -> None:
    first, second = closed_udp_port(), closed_udp_port()
    source = StationClockSource([first, second], timeout_s=TIMEOUT_S)

    started = time.monotonic()
    clock = source.measure()
    took = time.monotonic() - started

    assert took < UPPER_BOUND_S  # queried in parallel, not one after the other
    assert clock.synchronised is False
    assert clock.offset_s is None
    assert clock.method == "ntp"
    assert clock.detail == (
        f"no server answered: {first} timed out after {TIMEOUT_S:g} s; "
        f"{second} timed out after {TIMEOUT_S:g} s"
    )


def test_server_slower_than_the_timeout_counts_as_silent() -> None:
    with ntp_responder(0.3, delay_s=2 * TIMEOUT_S) as sluggish:
        clock = StationClockSource([sluggish], timeout_s=TIMEOUT_S).measure()
    assert not clock.synchronised
    assert clock.detail == f"no server answered: {sluggish} timed out after {TIMEOUT_S:g} s"


def test_reply_that_does_not_echo_the_request_is_rejected() -> None:
    with ntp_responder(0.3, echo_origin=False) as forger, ntp_responder(0.3) as honest:
        clock = StationClockSource([forger, honest], timeout_s=TIMEOUT_S).measure()
    assert clock.server == honest
    assert f"{forger} answered with a reply that does not match the request" in clock.detail


def test_unresolvable_host_is_reported_not_raised() -> None:
    clock = StationClockSource(["ntp.invalid"], timeout_s=TIMEOUT_S).measure()
    assert not clock.synchronised
    assert clock.detail.startswith("no server answered: ntp.invalid:123 ")
    assert "cannot resolve 'ntp.invalid'" in clock.detail  # .invalid never resolves (RFC 6761)


# --- caching ----------------------------------------------------------------------------


def test_measurements_within_cache_s_ask_the_server_once() -> None:
    with ntp_responder(0.3) as server:
        source = StationClockSource([server], cache_s=60.0, timeout_s=TIMEOUT_S)
        first = source.measure()
        second = source.measure()
        assert server.requests == 1
    assert second is first


def test_cache_expires_after_cache_s() -> None:
    ticks = [1000.0]
    with ntp_responder(0.3) as server:
        source = StationClockSource(
            [server], cache_s=60.0, timeout_s=TIMEOUT_S, monotonic=lambda: ticks[0]
        )
        source.measure()
        ticks[0] += 59.9
        source.measure()
        assert server.requests == 1
        ticks[0] += 0.2
        source.measure()
        assert server.requests == 2


def test_a_burst_of_dockings_shares_one_measurement() -> None:
    with ntp_responder(0.3, delay_s=0.2) as server:
        source = StationClockSource([server], cache_s=60.0, timeout_s=TIMEOUT_S)
        results: list[StationClock] = []
        barrier = threading.Barrier(8)

        def dock() -> None:
            barrier.wait()
            results.append(source.measure())

        threads = [threading.Thread(target=dock) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert server.requests == 1
    assert len(results) == 8
    assert all(r is results[0] for r in results)


def test_failures_are_cached_too() -> None:
    """With the network down, a burst of dockings must not each wait out the timeout."""
    source = StationClockSource([closed_udp_port()], cache_s=60.0, timeout_s=TIMEOUT_S)
    source.measure()
    started = time.monotonic()
    assert not source.measure().synchronised
    assert time.monotonic() - started < 0.1


# --- real chrony ------------------------------------------------------------------------


@pytest.mark.root
def test_real_chrony_serving_ntp_on_loopback(tmp_path: Path) -> None:
    with running_chronyd(tmp_path, serve=True) as chronyd:
        assert chronyd.ntp is not None
        clock = StationClockSource([chronyd.ntp], timeout_s=TIMEOUT_S).measure()

    assert clock.method == "ntp"
    assert clock.synchronised is True, clock.detail
    assert clock.server == chronyd.ntp
    # `local stratum 8` is the stratum chronyd itself claims, so clients see 8, not 9.
    assert clock.stratum == 8
    assert clock.offset_s is not None and abs(clock.offset_s) < 0.1
    assert clock.delay_s is not None and clock.delay_s < 0.1


@pytest.mark.root
def test_no_servers_configured_uses_chrony_tracking(tmp_path: Path) -> None:
    with ntp_responder(0.3) as upstream, running_chronyd(tmp_path, upstream=upstream) as chronyd:
        live_line = chronyd.tracking_csv()
        clock = StationClockSource([], chronyc=chronyd.chronyc).measure()

    assert parse_chronyc_tracking(live_line).ref_name == "127.0.0.1"
    assert clock.method == "chrony"
    assert clock.server == "chrony"
    assert clock.synchronised is True, clock.detail
    assert clock.stratum == 3  # the responder's stratum 2, plus chronyd's own hop
    assert clock.offset_s == pytest.approx(0.3, abs=0.05)  # chronyc: "0.3 s slow of NTP time"
    assert clock.detail.startswith("chronyd synchronised to 127.0.0.1 at stratum 3: station 0.3")
    assert "slow" in clock.detail


@pytest.mark.root
def test_chrony_on_its_own_local_clock_is_not_true_time(tmp_path: Path) -> None:
    with running_chronyd(tmp_path, serve=True) as chronyd:
        clock = StationClockSource([], chronyc=chronyd.chronyc).measure()
    assert clock.method == "chrony"
    assert clock.synchronised is False
    assert clock.offset_s is None
    assert "local reference" in clock.detail


def test_no_servers_and_no_time_daemon_records_unknown() -> None:
    clock = StationClockSource(
        [], chronyc=["/nonexistent/chronyc"], timedatectl=["/nonexistent/timedatectl"]
    ).measure()
    assert clock == StationClock(
        offset_s=None,
        server=None,
        stratum=None,
        delay_s=None,
        synchronised=False,
        measured_at=clock.measured_at,
        method="none",
        detail="no NTP servers configured; chronyc is not installed; timedatectl is not installed",
    )


# --- pure helpers -----------------------------------------------------------------------


def test_chronyc_csv_parser_on_captured_lines() -> None:
    synced = parse_chronyc_tracking(CHRONY_SYNCED)
    assert synced == ChronyTracking(
        ref_id="7F000001",
        ref_name="127.0.0.1",
        stratum=3,
        ref_time=1795453254.197906266,
        system_time_s=0.300031602,
        last_offset_s=-0.000000058,
        rms_offset_s=0.000000109,
        frequency_ppm=0.022,
        residual_freq_ppm=-0.007,
        skew_ppm=0.865,
        root_delay_s=0.000092975,
        root_dispersion_s=0.000996453,
        update_interval_s=0.1,
        leap_status="Normal",
    )
    assert synced.synchronised
    assert synced.error_bound_s == pytest.approx(0.300031602 + 0.000996453 + 0.000092975 / 2)

    local = parse_chronyc_tracking(CHRONY_LOCAL)
    assert local.is_local_reference and not local.synchronised
    unsynced = parse_chronyc_tracking(CHRONY_UNSYNCED)
    assert unsynced.leap_status == "Not synchronised" and not unsynced.synchronised


@pytest.mark.parametrize(
    "output", ["", "506 Cannot talk to daemon\n", "7F000001,x,3\n", CHRONY_SYNCED * 2]
)
def test_chronyc_csv_parser_rejects_other_output(output: str) -> None:
    with pytest.raises(ValueError):
        parse_chronyc_tracking(output)


@pytest.mark.parametrize(
    ("entry", "expected", "label"),
    [
        ("pool.ntp.org", ServerAddress("pool.ntp.org", 123), "pool.ntp.org:123"),
        ("ntp1.example:1123", ServerAddress("ntp1.example", 1123), "ntp1.example:1123"),
        (" 192.0.2.1:123 ", ServerAddress("192.0.2.1", 123), "192.0.2.1:123"),
        ("[::1]:123", ServerAddress("::1", 123), "[::1]:123"),
        ("[2001:db8::1]", ServerAddress("2001:db8::1", 123), "[2001:db8::1]:123"),
        ("2001:db8::1", ServerAddress("2001:db8::1", 123), "[2001:db8::1]:123"),
    ],
)
def test_parse_server(entry: str, expected: ServerAddress, label: str) -> None:
    assert parse_server(entry) == expected
    assert str(parse_server(entry)) == label


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "   ",
        "host:",
        "host:0",
        "host:65536",
        "host:12a",
        "ntp://host",
        "two words",
        "[::1",
        "[not-v6]:123",
        "[::1]:x",
        "2001:db8::1:123:zz",
        "-host",
    ],
)
def test_parse_server_rejects_invalid_entries_naming_them(entry: str) -> None:
    with pytest.raises(ValueError, match="invalid NTP server") as caught:
        parse_server(entry)
    assert repr(entry) in str(caught.value)


def test_invalid_config_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="'host:99999'"):
        StationClockSource(["good.example", "host:99999"])
    with pytest.raises(ValueError, match="listed twice"):
        parse_servers(["ntp.example", "ntp.example:123"])


def sample(server: str, offset: float, delay: float = 0.01) -> NtpSample:
    return NtpSample(server=server, offset_s=offset, delay_s=delay, stratum=2, leap=0)


def test_choose_median() -> None:
    assert choose_median([]) is None
    assert choose_median([sample("a", 1.0)]) == sample("a", 1.0)
    odd = [sample("a", 0.31), sample("b", 0.3), sample("c", 0.29)]
    assert choose_median(odd) == sample("b", 0.3)
    even = [sample("a", 4.0), sample("b", 0.2), sample("c", 0.1), sample("d", 0.3)]
    assert choose_median(even) == sample("b", 0.2)  # lower middle, never a mean
    tie = [sample("x", 0.1, delay=0.2), sample("y", 0.1, delay=0.05), sample("z", 0.5)]
    # equal offsets sort by delay: y (0.05 s), x (0.2 s), z; the middle one is x
    assert choose_median(tie) == sample("x", 0.1, delay=0.2)


def test_timedatectl_parsing() -> None:
    # The shape systemd 252 prints (timedatectl.c); no captured line: this machine has no
    # systemd as PID 1, so timedatectl cannot answer here.
    props = parse_properties(
        "LinkNTPServers=\nSystemNTPServers=\nFallbackNTPServers=0.debian.pool.ntp.org\n"
        "ServerName=0.debian.pool.ntp.org\nServerAddress=192.0.2.10\n"
        "RootDistanceMaxUSec=5s\nPollIntervalMinUSec=32s\n"
        "NTPMessage={ Leap=0, Version=4, Mode=4, Stratum=2, Precision=-25, RootDelay=1.2ms, "
        "RootDispersion=20.1ms, Reference=C0000201, "
        "OriginateTimestamp=Mon 2026-11-23 17:00:00 UTC, ReceiveTimestamp=Mon 2026-11-23 "
        "17:00:00 UTC, TransmitTimestamp=Mon 2026-11-23 17:00:00 UTC, DestinationTimestamp="
        "Mon 2026-11-23 17:00:00 UTC, Ignored=no PacketCount=3, Jitter=1.3ms }\n"
    )
    message = parse_ntp_message(props["NTPMessage"])
    assert message["Stratum"] == "2"
    assert message["Leap"] == "0"
    assert message["OriginateTimestamp"] == "Mon 2026-11-23 17:00:00 UTC"
    assert message["Ignored"] == "no" and message["PacketCount"] == "3"
    assert message["Jitter"] == "1.3ms"

    at = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    clock = timesyncd_station_clock("yes\n", props, at)
    assert clock == StationClock(
        offset_s=None,
        server="timesyncd",
        stratum=2,
        delay_s=None,
        synchronised=True,
        measured_at=at,
        method="timesyncd",
        detail="systemd reports the clock synchronised via 0.debian.pool.ntp.org (stratum 2); "
        "timesyncd does not expose the offset",
    )
    assert not timesyncd_station_clock("no\n", {}, at).synchronised
