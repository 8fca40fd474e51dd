"""A one-shot ingest measures the station clock on a thread while it builds its dock
session (issue 17: the measurement mostly waits on chronyc, timedatectl or the NTP
servers); the session then finds it measured, and measures nothing twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from dockd.app import CLOCK_AHEAD_THREAD, build, load_config
from tests.conftest import write_config


def _ahead() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == CLOCK_AHEAD_THREAD]


def test_the_clock_is_measured_ahead_and_the_session_reuses_it(tmp_path: Path) -> None:
    config = write_config(tmp_path / "dockd.toml", tmp_path / "store", "sqlite://")
    app = build(load_config(config))
    app.measure_station_clock_ahead()
    threads = _ahead()
    assert len(threads) == 1
    threads[0].join(30)
    asked = datetime.now(UTC)
    measured = app.station_clock.measure()
    assert measured.measured_at < asked, "the thread's measurement, not a new one"
    assert app.station_clock.measure() is measured


def test_without_caching_nothing_is_measured_ahead(tmp_path: Path) -> None:
    extra = "[clock]\ncache_seconds = 0\n"
    config = write_config(tmp_path / "dockd.toml", tmp_path / "store", "sqlite://", extra)
    app = build(load_config(config))
    app.measure_station_clock_ahead()
    assert _ahead() == []
