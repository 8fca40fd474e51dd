"""Station offset, recorder drift and corrected times, end to end through `dockd ingest`.

Real NTP responders on loopback stand in for the station's time servers; real folders
(and a real FAT32 image) stand in for recorders, with DEVCLOCK.TXT written just before
the dock. Every case is checked where an admin and a court would look: `sessions --json`,
`recordings --json` and the session manifest in the store.

Sign conventions: station offset_s = true − station; drift = recorder − true;
corrected = reported − drift.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dockd.adapters.volume import stores_local_times
from tests.conftest import REPO, Dockd
from tests.support.media import make_fat32_image, mounted_fat
from tests.support.ntp import free_udp_port, ntp_responder
from tests.unit.test_clock import BERLIN_AMBIGUOUS_0230_UTC

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"
SERIAL = "SN0001"
PAST_NAME = f"{SERIAL}_007_20261122081500_0001.JPG"  # 2026-11-22 00:15 UTC; .jpg: no container
PAST_START = datetime(2026, 11, 22, 0, 15, tzinfo=UTC)
TOLERANCE_S = 15.0  # dock start-up time on a loaded machine; EXACT_S checks the math
EXACT_S = 0.002  # drift is rounded to the millisecond


# --- helpers ------------------------------------------------------------------------


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def servers_env(*servers: str) -> dict[str, str]:
    return {"DOCKD_CLOCK__NTP_SERVERS": json.dumps(list(servers))}


def recorder(tmp_path: Path, *names: str) -> Path:
    src = tmp_path / "recorder"
    src.mkdir()
    for i, name in enumerate(names):
        (src / name).write_bytes(f"recording {i}".encode())
    return src


def write_devclock(src: Path, recorder_now: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    """What a recorder writes on docking: its clock, in its zone, whole seconds. Returns
    the instant the text stands for."""
    text = recorder_now.astimezone(zone).strftime(CLOCK_FORMAT)
    (src / "DEVCLOCK.TXT").write_text(text + "\r\n", "ascii")
    return datetime.strptime(text, CLOCK_FORMAT).replace(tzinfo=zone).astimezone(UTC)


def true_now(offset_s: float = 0.0) -> datetime:
    """True time by the responders: this machine's clock plus their offset."""
    return datetime.now(UTC) + timedelta(seconds=offset_s)


def whole_second_ahead(when: datetime) -> datetime:
    """The next whole second: the dock reads the file a moment later, which the rounding
    up half compensates, keeping the measured drift within TOLERANCE_S of the setting."""
    return when.replace(microsecond=0) + timedelta(seconds=1)


def use_rules(dockd: Dockd, tmp_path: Path, *, refuse: bool = False, berlin: bool = False) -> None:
    """A private copy of rules/ (the policy pack refusing an unsynchronised station; a
    Berlin recorder profile) and the config pointing at it."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    if refuse:
        pack = rules / "policies" / "dalian-jinpu-ocean.toml"  # the default [policy] pack
        text = pack.read_text("utf-8")
        assert 'on_unsynchronised = "warn"' in text
        pack.write_text(
            text.replace('on_unsynchronised = "warn"', 'on_unsynchronised = "refuse"'), "utf-8"
        )
    if berlin:
        generic = (rules / "recorders" / "generic.toml").read_text("utf-8")
        assert 'id = "generic"' in generic and 'timezone = "Asia/Shanghai"' in generic
        (rules / "recorders" / "berlin.toml").write_text(
            generic.replace('id = "generic"', 'id = "berlin"').replace(
                'timezone = "Asia/Shanghai"', 'timezone = "Europe/Berlin"'
            ),
            "utf-8",
        )
    with dockd.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[rules]\ndir = "{rules}"\n')


def dock(
    dockd: Dockd, src: Path, *extra: str, exit_code: int, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]:
    """Ingest, expecting `exit_code` (0 only for a session completed without problems); return
    the session, its recordings by path, and its manifest, after checking that the three
    agree on the clocks and the times."""
    result = dockd.run("ingest", str(src), "--serial", SERIAL, *extra, env=env, timeout=60)
    session = dockd.json("sessions")[-1]
    assert result.returncode == exit_code, (result.stderr, session["problems"])
    recordings = {r["path"]: r for r in dockd.json("recordings") if r["session"] == session["id"]}
    assert session["recordings"] == len(recordings)
    digest = session["manifest"]
    assert digest is not None, "every session, failed or not, has a manifest"
    manifest = json.loads(
        (dockd.store / "objects" / "blake3" / digest[:2] / digest).read_text("utf-8")
    )
    assert manifest["session"] == session["id"]
    assert manifest["station_clock"] == session["station_clock"]
    assert manifest["recorder_clock"] == session["recorder_clock"]
    # the manifest keeps the English record; the session adds the template and values
    english = [{k: p[k] for k in ("path", "code", "message")} for p in session["problems"]]
    assert manifest["problems"] == english
    entries = {e["path"]: e for e in manifest["recordings"]}
    assert set(entries) == set(recordings)
    for path, rec in recordings.items():
        entry = entries[path]
        assert rec["start"] == rec["reported_start"] and rec["end"] == rec["reported_end"]
        for ledger_key, manifest_key in (
            ("reported_start", "start"),
            ("reported_end", "end"),
            ("corrected_start", "corrected_start"),
            ("corrected_end", "corrected_end"),
        ):
            assert instant(rec[ledger_key]) == instant(entry[manifest_key]), (path, ledger_key)
    return session, recordings, manifest


def codes(session: dict[str, Any]) -> set[str]:
    return {p["code"] for p in session["problems"]}


def true_at_read(session: dict[str, Any]) -> datetime:
    """True time when the recorder's clock was read: station time plus station offset."""
    measured_at = instant(session["recorder_clock"]["measured_at"])
    assert measured_at is not None
    return measured_at + timedelta(seconds=session["station_clock"]["offset_s"] or 0.0)


def assert_corrected(rec: dict[str, Any], drift_s: float) -> None:
    """corrected = reported − drift, as instants."""
    for end in ("start", "end"):
        reported, fixed = instant(rec[f"reported_{end}"]), instant(rec[f"corrected_{end}"])
        assert reported is not None and fixed is not None, rec
        assert (reported - fixed).total_seconds() == pytest.approx(drift_s, abs=EXACT_S), end


def assert_station_synchronised(session: dict[str, Any], offset_s: float) -> None:
    station = session["station_clock"]
    assert station["synchronised"] is True
    assert station["method"] == "ntp"
    assert station["offset_s"] == pytest.approx(offset_s, abs=0.05)
    assert "station-clock-unsynchronised" not in codes(session)


# --- station 0.3 s slow, recorder 90 s fast -----------------------------------------


def test_station_0_3_s_slow_and_recorder_90_s_fast(dockd: Dockd, tmp_path: Path) -> None:
    src = recorder(tmp_path, PAST_NAME, "clip.jpg")
    with (
        ntp_responder(0.29) as low,
        ntp_responder(0.30) as middle,
        ntp_responder(0.31) as high,
    ):
        devclock = write_devclock(src, whole_second_ahead(true_now(0.3) + timedelta(seconds=90)))
        session, recordings, _ = dock(dockd, src, exit_code=1, env=servers_env(high, low, middle))

    assert session["state"] == "completed_with_problems"
    assert_station_synchronised(session, 0.3)
    station = session["station_clock"]
    assert (station["server"], station["stratum"]) == (middle, 2)
    assert station["detail"] == "median of 3 servers"

    clock = session["recorder_clock"]
    assert clock["method"] == "clock-file"
    assert clock["verdict"] == "violation"
    assert clock["drift_s"] == pytest.approx(90.0, abs=TOLERANCE_S)
    # exactly DEVCLOCK.TXT − (station time + 0.3 s): the station offset is added, not taken
    expected = (devclock - true_at_read(session)).total_seconds()
    assert clock["drift_s"] == pytest.approx(expected, abs=EXACT_S)
    assert clock["detail"].startswith("DEVCLOCK.TXT says 20")
    assert codes(session) == {"recorder-clock-violation"}

    named = recordings[PAST_NAME]
    assert (named["time_source"], instant(named["reported_start"])) == ("name", PAST_START)
    assert_corrected(named, clock["drift_s"])
    assert instant(named["corrected_start"]) == PAST_START - timedelta(seconds=clock["drift_s"])
    unnamed = recordings["clip.jpg"]  # file time on a plain folder: an instant, corrected too
    assert unnamed["time_source"] == "file-mtime"
    assert_corrected(unnamed, clock["drift_s"])


# --- an unsynchronised or unreachable station clock ---------------------------------


def test_unsynchronised_station_is_flagged_and_ingest_goes_on(dockd: Dockd, tmp_path: Path) -> None:
    src = recorder(tmp_path, PAST_NAME)
    with ntp_responder(5.0, stratum=16) as lost:
        session, recordings, _ = dock(dockd, src, exit_code=1, env=servers_env(lost))

    assert session["state"] == "completed_with_problems"
    assert "station-clock-unsynchronised" in codes(session)
    station = session["station_clock"]
    assert station["synchronised"] is False
    assert station["offset_s"] is None and station["server"] is None
    assert station["detail"] == (
        f"no synchronised server answered: {lost} answered unsynchronised (stratum 16)"
    )
    assert list(recordings) == [PAST_NAME]  # policy 'warn': copied all the same
    assert session["recorder_clock"]["method"] == "unknown"


def test_unsynchronised_station_under_a_refusing_policy_copies_nothing(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_rules(dockd, tmp_path, refuse=True)
    src = recorder(tmp_path, PAST_NAME)
    write_devclock(src, true_now())
    with ntp_responder(5.0, stratum=16) as lost:
        session, recordings, manifest = dock(dockd, src, exit_code=1, env=servers_env(lost))

    assert session["state"] == "failed"
    assert session["error_code"] == "STATION_CLOCK_UNSYNCHRONISED"
    assert ("/", "STATION_CLOCK_UNSYNCHRONISED") in {
        (p["path"], p["code"]) for p in session["problems"]
    }
    assert recordings == {} and session["recordings"] == 0 and session["bytes_copied"] == 0
    assert dockd.json("recordings") == []
    assert manifest["recordings"] == []
    assert [p.name for p in dockd.objects()] == [session["manifest"]]  # the manifest only
    assert session["recorder_clock"] is None  # the recorder was never looked at
    # BUG: the measurement that made dockd refuse is not kept in the session's record
    station = session["station_clock"]
    assert station is not None, "a refused session must still record the station clock"
    assert station["synchronised"] is False and station["offset_s"] is None
    assert "stratum 16" in station["detail"]


def test_refused_session_manifest_names_the_recordings_left_on_the_recorder(
    dockd: Dockd, tmp_path: Path
) -> None:
    """BUG: dockd refuses before it scans the recorder, so the failed session's manifest
    says `not_copied: []` although a recording was left behind (ingest.py promises 'a
    manifest of what was and was not copied' in every case)."""
    use_rules(dockd, tmp_path, refuse=True)
    src = recorder(tmp_path, PAST_NAME)
    with ntp_responder(5.0, stratum=16) as lost:
        session, _, manifest = dock(dockd, src, exit_code=1, env=servers_env(lost))
    assert session["state"] == "failed"
    assert manifest["recordings"] == []
    assert manifest["not_copied"] == [PAST_NAME]


def test_no_ntp_server_reachable_is_flagged_like_unsynchronised(
    dockd: Dockd, tmp_path: Path
) -> None:
    src = recorder(tmp_path, PAST_NAME)
    down = f"127.0.0.1:{free_udp_port()}"
    env = {**servers_env(down), "DOCKD_CLOCK__TIMEOUT_SECONDS": "0.5"}
    session, recordings, _ = dock(dockd, src, exit_code=1, env=env)

    assert "station-clock-unsynchronised" in codes(session)
    station = session["station_clock"]
    assert station["synchronised"] is False
    assert station["offset_s"] is None and station["stratum"] is None
    assert station["detail"] == f"no server answered: {down} timed out after 0.5 s"
    assert list(recordings) == [PAST_NAME]


# --- recorders whose clocks are wrong -----------------------------------------------


def test_recorder_an_hour_behind_is_a_violation(dockd: Dockd, tmp_path: Path) -> None:
    """Set in the wrong zone: the clock reads UTC+7 while the profile says UTC+8."""
    src = recorder(tmp_path, PAST_NAME)
    devclock = write_devclock(src, whole_second_ahead(true_now() - timedelta(hours=1)))
    session, recordings, _ = dock(dockd, src, exit_code=1)

    assert_station_synchronised(session, 0.0)
    clock = session["recorder_clock"]
    assert (clock["method"], clock["verdict"]) == ("clock-file", "violation")
    assert clock["drift_s"] == pytest.approx(-3600.0, abs=TOLERANCE_S)
    assert clock["drift_s"] == pytest.approx(
        (devclock - true_at_read(session)).total_seconds(), abs=EXACT_S
    )
    assert "recorder-clock-violation" in codes(session)
    assert_corrected(recordings[PAST_NAME], clock["drift_s"])
    fixed = instant(recordings[PAST_NAME]["corrected_start"])
    assert fixed is not None
    assert abs((fixed - (PAST_START + timedelta(hours=1))).total_seconds()) <= TOLERANCE_S


def test_dead_clock_battery_gives_huge_drift_and_corrected_true_times(
    dockd: Dockd, tmp_path: Path
) -> None:
    """The clock restarted at 2000-01-01 00:00:00 just now; a clip begun ten minutes ago
    was named by it 1999-12-31 23:50:00. Corrected, that clip starts ten minutes ago."""
    name = f"{SERIAL}_007_19991231235000_0001.JPG"
    src = recorder(tmp_path, name)
    (src / "DEVCLOCK.TXT").write_text("2000-01-01 00:00:00\n", "ascii")
    began = true_now() - timedelta(minutes=10)
    session, recordings, _ = dock(dockd, src, exit_code=1)

    clock = session["recorder_clock"]
    assert (clock["method"], clock["verdict"]) == ("clock-file", "violation")
    dead = datetime(2000, 1, 1, tzinfo=SHANGHAI)
    assert clock["drift_s"] == pytest.approx(
        (dead - true_at_read(session)).total_seconds(), abs=EXACT_S
    )
    assert clock["drift_s"] < -26 * 365 * 86400
    assert "recorder-clock-violation" in codes(session)
    rec = recordings[name]
    assert instant(rec["reported_start"]) == datetime(1999, 12, 31, 15, 50, tzinfo=UTC)
    assert_corrected(rec, clock["drift_s"])
    fixed = instant(rec["corrected_start"])
    assert fixed is not None
    assert abs((fixed - began).total_seconds()) < TOLERANCE_S + 1


def test_unreadable_clock_file_is_a_problem_and_measures_nothing(
    dockd: Dockd, tmp_path: Path
) -> None:
    src = recorder(tmp_path, PAST_NAME)
    (src / "DEVCLOCK.TXT").write_text("CLOCK ERROR\n", "ascii")
    session, recordings, _ = dock(dockd, src, exit_code=1)

    assert ("DEVCLOCK.TXT", "clock-file-unreadable") in {
        (p["path"], p["code"]) for p in session["problems"]
    }
    clock = session["recorder_clock"]
    assert (clock["method"], clock["drift_s"], clock["verdict"]) == ("unknown", None, "unknown")
    assert recordings[PAST_NAME]["corrected_start"] is None


# --- no clock file: unknown, or a lower bound -------------------------------------


def test_no_clock_file_and_only_past_recordings_leave_drift_unknown(
    dockd: Dockd, tmp_path: Path
) -> None:
    # numbered before PAST_NAME's 0001, as it was recorded before it: no sequence finding
    src = recorder(tmp_path, PAST_NAME, f"{SERIAL}_007_20240101120000_0000.JPG")
    session, recordings, _ = dock(dockd, src, exit_code=0)

    assert session["state"] == "completed"
    assert_station_synchronised(session, 0.0)
    clock = session["recorder_clock"]
    assert (clock["method"], clock["drift_s"], clock["verdict"]) == ("unknown", None, "unknown")
    assert len(recordings) == 2
    for rec in recordings.values():
        assert rec["corrected_start"] is None and rec["corrected_end"] is None


def test_recording_named_ten_minutes_ahead_gives_a_lower_bound_only(
    dockd: Dockd, tmp_path: Path
) -> None:
    ahead = (true_now() + timedelta(minutes=10)).replace(microsecond=0)
    future = f"{SERIAL}_007_{ahead.astimezone(SHANGHAI):%Y%m%d%H%M%S}_0002.JPG"
    src = recorder(tmp_path, PAST_NAME, future)
    session, recordings, _ = dock(dockd, src, exit_code=1)

    clock = session["recorder_clock"]
    assert clock["method"] == "newest-recording-lower-bound"
    assert clock["drift_s"] >= 600 - TOLERANCE_S
    assert clock["drift_s"] == pytest.approx(
        (ahead - true_at_read(session)).total_seconds(), abs=EXACT_S
    )
    assert clock["verdict"] == "violation"  # at least 598 s ≥ drift_violation_s (30 s)
    assert "recorder-clock-violation" in codes(session)
    assert "at least" in clock["detail"]
    for rec in recordings.values():  # a lower bound is not a measurement: nothing corrected
        assert rec["corrected_start"] is None and rec["corrected_end"] is None


# --- a Berlin recorder and daylight saving time -------------------------------------


def test_berlin_name_in_the_repeated_hour_is_read_as_the_first_occurrence(
    dockd: Dockd, tmp_path: Path
) -> None:
    """2026-10-25 02:30 happened twice in Berlin; dockd records the first, 00:30 UTC, as
    wall_clock does (tests/unit/test_clock.py)."""
    use_rules(dockd, tmp_path, berlin=True)
    name = f"{SERIAL}_007_20261025023000_0001.JPG"
    src = recorder(tmp_path, name)
    session, recordings, manifest = dock(dockd, src, "--profile", "berlin", exit_code=0)

    assert session["profile"] == "berlin"
    rec = recordings[name]
    assert instant(rec["reported_start"]) == BERLIN_AMBIGUOUS_0230_UTC
    assert rec["reported_start"] == "2026-10-25T00:30:00+00:00"
    [entry] = manifest["recordings"]
    assert entry["start"] == "2026-10-25T00:30:00+00:00"  # times are kept in UTC
    assert rec["corrected_start"] is None  # no clock file: nothing measured


def test_berlin_corrected_time_across_the_dst_end_moves_only_by_the_drift(
    dockd: Dockd, tmp_path: Path
) -> None:
    """BUG: a recorder 90 s fast names a clip 03:00:30 CET (02:00:30 UTC) on the night the
    clocks go back; corrected it starts at 01:59:00 UTC. dockd's `corrected` subtracts the
    drift from the Berlin wall clock (02:59:00, read as CEST) and says 00:59:00 UTC."""
    use_rules(dockd, tmp_path, berlin=True)
    name = f"{SERIAL}_007_20261025030030_0001.JPG"
    src = recorder(tmp_path, name)
    write_devclock(src, whole_second_ahead(true_now() + timedelta(seconds=90)), BERLIN)
    session, recordings, _ = dock(dockd, src, "--profile", "berlin", exit_code=1)

    clock = session["recorder_clock"]
    assert (clock["method"], clock["verdict"]) == ("clock-file", "violation")
    assert clock["drift_s"] == pytest.approx(90.0, abs=TOLERANCE_S)
    rec = recordings[name]
    assert instant(rec["reported_start"]) == datetime(2026, 10, 25, 2, 0, 30, tzinfo=UTC)
    assert_corrected(rec, clock["drift_s"])


def _wav(path: Path, seconds: int, rate: int = 1000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * (rate * seconds))


def test_berlin_reported_end_across_the_dst_end_is_start_plus_duration(
    dockd: Dockd, tmp_path: Path
) -> None:
    """BUG (reported_end): a 120 s clip named 02:59:00 CEST (00:59 UTC) the night the
    clocks go back ends at 01:01 UTC. dockd adds the duration to the Berlin wall clock
    (03:01:00, read as CET = 02:01 UTC) and records a 62-minute clip."""
    use_rules(dockd, tmp_path, berlin=True)
    name = f"{SERIAL}_007_20261025025900_0001.WAV"
    src = tmp_path / "recorder"
    src.mkdir()
    _wav(src / name, 120)
    _, recordings, _ = dock(dockd, src, "--profile", "berlin", exit_code=0)

    rec = recordings[name]
    assert rec["duration_s"] == 120.0
    start, end = instant(rec["reported_start"]), instant(rec["reported_end"])
    assert start == datetime(2026, 10, 25, 0, 59, tzinfo=UTC)
    assert end is not None and start is not None
    assert (end - start).total_seconds() == 120.0


# --- FAT keeps local wall-clock times -----------------------------------------------


@pytest.mark.root
def test_fat32_volume_keeps_local_times_and_its_clock_file_is_read(
    dockd: Dockd, tmp_path: Path
) -> None:
    """FAT file times are not asserted here: fusefat shows them a month late."""
    started = time.monotonic()
    text = whole_second_ahead(true_now() + timedelta(seconds=90)).astimezone(SHANGHAI)
    img = make_fat32_image(
        tmp_path / "fat32.img",
        {
            "DEVCLOCK.TXT": text.strftime(CLOCK_FORMAT).encode() + b"\r\n",
            f"DCIM/{PAST_NAME}": b"recording",
        },
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    assert stores_local_times(plain) is False
    with mounted_fat(img, tmp_path / "mnt") as mnt:
        assert stores_local_times(mnt) is True
        assert stores_local_times(mnt / "DCIM") is True
        session, recordings, _ = dock(dockd, mnt, exit_code=1)
    waited = time.monotonic() - started

    clock = session["recorder_clock"]
    assert clock["method"] == "clock-file"
    assert clock["drift_s"] == pytest.approx(
        (text - true_at_read(session)).total_seconds(), abs=EXACT_S
    )
    assert 90 - TOLERANCE_S - math.ceil(waited) <= clock["drift_s"] <= 90 + TOLERANCE_S
    rec = recordings[f"DCIM/{PAST_NAME}"]
    assert instant(rec["reported_start"]) == PAST_START
    assert_corrected(rec, clock["drift_s"])
