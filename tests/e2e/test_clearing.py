"""Clearing a recorder after offload (数据清空) on real parts: a FAT32 loop recorder through
real udevd, a real `dockd run`, fusefat's read-write mount, and a real SeaweedFS as the
central store. Only the verified recordings go; with a hold, or with clearing off (the
default), the recorder's image is unchanged. With a central store, a recorder still docked
when the confirmation arrives is cleared then; one taken away at its next dock."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import (
    REPO,
    SCOPED_PORT,
    Daemon,
    Dock,
    blob,
    fat32_recorder,
    require_scoped_port,
    wait_for,
)
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer

pytestmark = pytest.mark.root

PACK = "dalian-jinpu-ocean"


@pytest.fixture
def dock(dock: Dock) -> Dock:
    """Recorders under scoped/ get SCOPED_PORT: a clearing daemon is given only those."""
    require_scoped_port()
    return dock


def _clip(serial: str, n: int) -> str:
    return f"DCIM/{serial}_007_2026112208{n:02d}00_{n:04d}.AVI"


def _rules_allowing_clearing(tmp_path: Path) -> Path:
    """The shipped packs do not allow clearing; a station whose regime does adds its article
    (000:30 stands in for that article here)."""
    rules = tmp_path / "rules"
    if rules.exists():
        return rules
    shutil.copytree(REPO / "rules", rules)
    pack = rules / "policies" / f"{PACK}.toml"
    pack.write_text(pack.read_text() + '\n[clearing]\nallowed = true\narticles = ["000:30"]\n')
    return rules


def _config(tmp_path: Path, clear: bool) -> str:
    rules = _rules_allowing_clearing(tmp_path)
    # [daemon] is the harness's last section: the keys join it. Only this test's recorders:
    # other tests on this host plug theirs meanwhile, and this daemon may clear.
    return (
        f'clear_after_offload = {"true" if clear else "false"}\nports = ["{SCOPED_PORT}"]\n'
        f'[rules]\ndir = "{rules}"\n'
    )


def _listing(img: Path) -> list[str]:
    """Every entry on the image, read by mtools from the bytes (no mount)."""
    out = subprocess.run(
        ["mdir", "-/", "-b", "-i", str(img), "::/"], capture_output=True, text=True, check=True
    ).stdout
    return sorted(line.removeprefix("::/") for line in out.split())


def _custody(daemon: Daemon, kind: str) -> list[str]:
    with sqlite3.connect(daemon.home / "ledger.sqlite3") as db:
        rows = db.execute("SELECT details FROM custody_events WHERE kind = ? ORDER BY seq", (kind,))
        return [details for (details,) in rows]


def _recorder(tmp_path: Path, serial: str) -> tuple[Path, dict[str, bytes]]:
    clips = {_clip(serial, i): blob(f"{serial}{i}", 150_000) for i in range(3)}
    files = {**clips, "NOTES.TXT": b"not a recording\n", "GPS/TRACK.LOG": b"gps\n"}
    (tmp_path / "scoped").mkdir(exist_ok=True)
    img = fat32_recorder(tmp_path / "scoped" / f"{serial}.dockrec", serial, files)
    return img, clips


def _digest(img: Path) -> str:
    return hashlib.sha256(img.read_bytes()).hexdigest()


def test_clearing_deletes_exactly_the_verified_recordings(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    img, clips = _recorder(tmp_path, "SNCLR")
    daemon.write_config(_config(tmp_path, clear=True))
    daemon.start()
    dev = dock.plug(img)
    [session] = wait_for(lambda: daemon.finished("SNCLR"), 60, "the session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    assert session["state"] == "completed", session["problems"]
    log = daemon.log.read_text()
    assert log.index("recorder-cleared") < log.index("safe-to-unplug")
    dock.unplug(dev)

    assert _listing(img) == ["DCIM/", "GPS/", "GPS/TRACK.LOG", "NOTES.TXT"]
    cleared = _custody(daemon, "recorder-file-cleared")
    assert _custody(daemon, "recorder-file-clearing") == cleared
    assert sorted(p for p in clips if any(f'"{p}"' in d for d in cleared)) == sorted(clips)
    assert len(cleared) == 3
    assert {r["path"] for r in daemon.recordings()} == set(clips)
    audit = daemon.cli("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert subprocess.run(["fsck.vfat", "-n", str(img)], capture_output=True).returncode == 0


def test_a_recorder_with_a_recording_on_hold_is_not_cleared(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    img, _ = _recorder(tmp_path, "SNHLD")
    daemon.write_config(_config(tmp_path, clear=False))
    daemon.start()
    dev = dock.plug(img)
    wait_for(lambda: daemon.finished("SNHLD"), 60, "the first session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    dock.unplug(dev)
    daemon.stop()
    first = next(r["id"] for r in daemon.recordings() if r["path"] == _clip("SNHLD", 1))
    held = daemon.cli("holds", "add", str(first), "--case", "CASE-2026-17")
    assert held.returncode == 0, held.stderr
    before = _digest(img)

    daemon.write_config(_config(tmp_path, clear=True))
    daemon.log.write_text("")  # start() waits for a "ready" of its own
    daemon.start()
    dev = dock.plug(img)
    wait_for(lambda: daemon.finished("SNHLD", 2), 60, "the second session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    dock.unplug(dev)

    assert "1 of the recorder's recordings are on hold" in daemon.log.read_text()
    assert _digest(img) == before, "a recorder with a recording on hold was written to"
    assert _custody(daemon, "recorder-file-clearing") == []


def test_with_clearing_off_the_recorder_is_byte_identical(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    img, _ = _recorder(tmp_path, "SNOFF")
    before = _digest(img)
    daemon.write_config(_config(tmp_path, clear=False))  # the pack allows; the station does not
    daemon.start()
    dev = dock.plug(img)
    [session] = wait_for(lambda: daemon.finished("SNOFF"), 60, "the session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    dock.unplug(dev)
    assert session["state"] == "completed", session["problems"]
    assert _digest(img) == before
    assert "recorder-cleared" not in daemon.log.read_text()


def _central(seaweed: SeaweedServer, bucket: str) -> str:
    """Passes every 2 s, so that a confirmation follows the server's return quickly."""
    return (
        f'[central]\nendpoint = "{seaweed.endpoint}"\nbucket = "{bucket}"\n'
        f'access_key = "{ACCESS_KEY}"\nsecret_key = "{SECRET_KEY}"\n'
        "pass_interval_seconds = 2\ntimeout_seconds = 5\n"
    )


def _confirmed(daemon: Daemon, serial: str) -> bool:
    mine = [r for r in daemon.recordings() if r["serial"] == serial]
    return len(mine) == 3 and all(r["central"]["state"] == "confirmed" for r in mine)


def _docked_while_the_server_is_down(
    dock: Dock,
    daemon: Daemon,
    tmp_path: Path,
    seaweed: SeaweedServer,
    bucket: str,
    serial: str,
    img: Path | None = None,
) -> tuple[Path, str]:
    """Docked, verified and safe to unplug while the central store cannot be reached: the
    clearing after the session deletes nothing, since nothing is confirmed there. `img`:
    the recorder's image when the test made it already."""
    if img is None:
        img, _ = _recorder(tmp_path, serial)
    daemon.write_config(_config(tmp_path, clear=True) + _central(seaweed, bucket))
    seaweed.stop()
    daemon.start()
    dev = dock.plug(img)
    [session] = wait_for(lambda: daemon.finished(serial), 60, "the session")
    wait_for(lambda: "recorder-cleared" in daemon.log.read_text(), 20, "the first clearing")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    assert session["state"] == "completed", session["problems"]
    assert "CENTRAL_UNREACHABLE" in daemon.log.read_text()
    assert _custody(daemon, "recorder-file-clearing") == []
    assert len([e for e in _listing(img) if e.endswith(".AVI")]) == 3
    return img, dev


def test_a_recorder_left_docked_is_cleared_when_the_central_store_confirms(
    dock: Dock, daemon: Daemon, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    try:
        img, dev = _docked_while_the_server_is_down(
            dock, daemon, tmp_path, seaweed, central_bucket, "SNLAT"
        )
    finally:
        seaweed.start()
    wait_for(lambda: len(_custody(daemon, "recorder-file-cleared")) == 3, 90, "the late clearing")
    wait_for(lambda: daemon.log.read_text().count("safe-to-unplug") == 2, 20, "safe again")
    assert _confirmed(daemon, "SNLAT")
    dock.unplug(dev)

    assert _listing(img) == ["DCIM/", "GPS/", "GPS/TRACK.LOG", "NOTES.TXT"]
    assert _custody(daemon, "recorder-file-clearing") == _custody(daemon, "recorder-file-cleared")
    log = daemon.log.read_text()
    assert log.index("recorder-clearing-late") > log.rindex("CENTRAL_UNREACHABLE")
    audit = daemon.cli("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert subprocess.run(["fsck.vfat", "-n", str(img)], capture_output=True).returncode == 0


def test_a_recorder_unplugged_before_the_confirmation_is_cleared_at_its_next_dock(
    dock: Dock, daemon: Daemon, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    try:
        img, dev = _docked_while_the_server_is_down(
            dock, daemon, tmp_path, seaweed, central_bucket, "SNGON"
        )
        dock.unplug(dev)
        wait_for(lambda: "] removed " in daemon.log.read_text(), 20, "the slot released")
        unplugged = _digest(img)
    finally:
        seaweed.start()
    wait_for(lambda: _confirmed(daemon, "SNGON"), 90, "the central confirmation")
    passes = daemon.log.read_text().count("forward-pass")
    wait_for(lambda: daemon.log.read_text().count("forward-pass") > passes, 20, "a pass after")
    assert _digest(img) == unplugged, "a recorder taken away was written to"
    assert _custody(daemon, "recorder-file-clearing") == []
    assert "recorder-clearing-late" not in daemon.log.read_text()

    dev = dock.plug(img)
    wait_for(lambda: daemon.finished("SNGON", 2), 60, "the second session")
    wait_for(lambda: len(_custody(daemon, "recorder-file-cleared")) == 3, 30, "the clearing")
    dock.unplug(dev)
    assert _listing(img) == ["DCIM/", "GPS/", "GPS/TRACK.LOG", "NOTES.TXT"]


def test_a_hold_placed_between_the_dock_and_the_late_clearing_keeps_the_recorder(
    dock: Dock, daemon: Daemon, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    try:
        img, dev = _docked_while_the_server_is_down(
            dock, daemon, tmp_path, seaweed, central_bucket, "SNHLT"
        )
        first = next(r["id"] for r in daemon.recordings() if r["path"] == _clip("SNHLT", 1))
        held = daemon.cli("holds", "add", str(first), "--case", "CASE-2026-18")
        assert held.returncode == 0, held.stderr
        before = _digest(img)
    finally:
        seaweed.start()
    wait_for(lambda: _confirmed(daemon, "SNHLT"), 90, "the central confirmation")
    wait_for(
        lambda: "1 of the recorder's recordings are on hold" in daemon.log.read_text(),
        30,
        "the late clearing's refusal",
    )
    dock.unplug(dev)
    assert _digest(img) == before, "a recorder with a recording on hold was written to"
    assert _custody(daemon, "recorder-file-clearing") == []


def test_a_recorder_swapped_under_a_late_clearing_is_not_touched(
    dock: Dock, daemon: Daemon, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    """The devnode's medium changes without a udev event (the loop device's backing bytes
    replaced, as a card swapped in a reader that reports nothing) for a clone of the
    recorder made before the dock: same label, same files with the same names, sizes and
    times, so every file matches a verified copy; only its FAT volume id differs. The late
    clearing finds that before lifting the write block and deletes nothing."""
    img, _ = _recorder(tmp_path, "SNSWP")
    clone = bytearray(img.read_bytes())
    struct.pack_into("<I", clone, 67, struct.unpack_from("<I", clone, 67)[0] ^ 0xFFFFFFFF)
    try:
        img, dev = _docked_while_the_server_is_down(
            dock, daemon, tmp_path, seaweed, central_bucket, "SNSWP", img
        )
        with img.open("r+b") as medium:  # the same inode: the loop device reads it now
            medium.write(clone)
        subprocess.run(["blockdev", "--flushbufs", dev], check=True)
    finally:
        seaweed.start()
    wait_for(lambda: _confirmed(daemon, "SNSWP"), 90, "the central confirmation")
    wait_for(
        lambda: "volume id changed): nothing was deleted" in daemon.log.read_text(),
        30,
        "the refusal",
    )
    dock.unplug(dev)
    assert "RECORDER_NOT_CLEARED" in daemon.log.read_text()
    assert img.read_bytes() == bytes(clone), "the swapped-in recorder was written to"
    assert _custody(daemon, "recorder-file-clearing") == []
