"""Drop folders: `dockd run` ingests <watch dir>/<serial>/ once its files have settled
and none is open for writing, and docks each arrival once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unfreeze
from tests.e2e.harness import Daemon, wait_for

SETTLE_S = 1.0


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path)
    daemon.write_config(f'watch_dirs = ["{tmp_path / "drop"}"]\nsettle_seconds = {SETTLE_S}\n')
    daemon.start()
    try:
        yield daemon
    finally:
        if daemon.process is not None:
            daemon.stop()
        unfreeze(tmp_path / "store")


def sessions_of(daemon: Daemon, serial: str) -> list[dict[str, object]]:
    return [s for s in daemon.sessions() if s["serial"] == serial]


def test_a_dropped_recording_is_docked_once(daemon: Daemon, tmp_path: Path) -> None:
    folder = tmp_path / "drop" / "SN5" / "DCIM"
    folder.mkdir(parents=True)
    (folder / "SN5_007_20261123080000_0001.MP4").write_bytes(b"drop" * 50_000)
    wait_for(lambda: daemon.verified("SN5") == 1, 60, "the dropped recording to be verified")
    # the ingest opened and read the file: that must not announce the folder again
    time.sleep(SETTLE_S * 5)
    assert len(sessions_of(daemon, "SN5")) == 1, daemon.log.read_text()[-3000:]


def test_a_file_still_being_written_waits_until_it_is_closed(
    daemon: Daemon, tmp_path: Path
) -> None:
    folder = tmp_path / "drop" / "SN6"
    folder.mkdir(parents=True)
    upload = folder / "SN6_007_20261123090000_0001.MP4"
    with upload.open("wb") as out:
        out.write(b"part one " * 10_000)
        out.flush()
        time.sleep(SETTLE_S * 5)  # settled by its time, but open for writing
        assert daemon.verified("SN6") == 0, "a file being uploaded was taken"
        out.write(b"part two " * 10_000)
    wait_for(lambda: daemon.verified("SN6") == 1, 60, "the upload to be verified once closed")
    [recording] = [r for r in daemon.recordings() if r["serial"] == "SN6"]
    assert recording["size"] == upload.stat().st_size
