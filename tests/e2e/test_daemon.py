"""The dock daemon on real parts: udevd, loop-device recorders (FAT32 and exFAT), FUSE mounts,
a real `dockd run` process. What an officer and an admin would notice."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from blake3 import blake3

from tests.e2e.harness import (
    REPO,
    Daemon,
    Dock,
    blob,
    exfat_recorder,
    fat32_recorder,
    wait_for,
)
from tests.support.media import mounted_exfat

pytestmark = pytest.mark.root


def _clip(serial: str, n: int) -> str:
    return f"{serial}_007_20261122{8 + n // 60:02d}{n % 60:02d}00_{n:04d}.AVI"  # no container


def _ro(dev: str) -> str:
    return subprocess.run(
        ["blockdev", "--getro", dev], capture_output=True, text=True
    ).stdout.strip()


def test_recorder_present_at_start_up_is_copied(dock: Dock, daemon: Daemon, tmp_path: Path) -> None:
    files = {f"DCIM/{_clip('SNCOLD', i)}": blob(f"cold{i}", 300_000) for i in range(3)}
    dev = dock.plug(fat32_recorder(tmp_path / "SNCOLD.dockrec", "SNCOLD", files))

    daemon.start()

    [session] = wait_for(lambda: daemon.finished("SNCOLD"), 60, "the cold-plugged session")
    assert session["state"] == "completed", session["problems"]
    assert session["slot"] == f"test-{Path(dev).name}"
    recordings = {r["path"]: r for r in daemon.recordings()}
    assert {p: r["blake3"] for p, r in recordings.items()} == {
        p: blake3(d).hexdigest() for p, d in files.items()
    }
    assert _ro(dev) == "1", "the recorder must be write-blocked (BLKROSET)"
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 10, "safe to unplug")
    assert not os.path.ismount(daemon.mount_root / session["slot"]), "left mounted"


def test_two_recorders_docked_at_once_fat32_and_exfat(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    daemon.start()
    fat = {_clip("SNFAT", i): blob(f"fat{i}", 2_000_000) for i in range(4)}
    exf = {_clip("SNEXF", i): blob(f"exf{i}", 2_000_000) for i in range(4)}
    fat_img = fat32_recorder(tmp_path / "SNFAT.dockrec", "SNFAT", fat)
    exf_img = exfat_recorder(tmp_path / "SNEXF.dockrec", "SNEXF", exf)
    dock.plug(fat_img)
    dock.plug(exf_img)

    for serial, files in (("SNFAT", fat), ("SNEXF", exf)):
        [session] = wait_for(partial(daemon.finished, serial), 90, f"{serial} to finish")
        assert session["state"] == "completed", session["problems"]
        got = {r["path"]: r["sha256"] for r in daemon.recordings() if r["serial"] == serial}
        assert got == {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    assert daemon.cli("audit", "verify").returncode == 0


def test_unplug_mid_copy_then_redock_copies_only_what_is_missing(
    dock: Dock, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKD_STORE__PARALLEL_FILES", "1")  # slow enough to interrupt
    files = {_clip("SNYANK", i): blob(f"yank{i}", 24 << 20) for i in range(20)}
    img = fat32_recorder(tmp_path / "SNYANK.dockrec", "SNYANK", files, size_mib=640)
    daemon.start()
    dev = dock.plug(img)
    wait_for(
        lambda: daemon.verified("SNYANK") > 0,
        120,
        "the first recording to be verified",
    )

    dock.unplug(dev, daemon.mount_root / f"test-{Path(dev).name}")

    [first] = wait_for(lambda: daemon.finished("SNYANK"), 60, "the interrupted session")
    copied_before = len([r for r in daemon.recordings() if r["serial"] == "SNYANK"])
    assert first["state"] == "interrupted", first
    assert first["error_code"] == "RECORDER_GONE"
    assert 1 <= copied_before < len(files)
    assert "interrupted" in daemon.log.read_text()
    store = daemon.home / "store"
    assert not list((store / "tmp").rglob("*.part")), "a partial copy was left in staging"
    for obj in (store / "objects").rglob("*"):
        if obj.is_file():
            assert blake3(obj.read_bytes()).hexdigest() == obj.name, "half-published object"

    dock.plug(img)

    sessions = wait_for(lambda: daemon.finished("SNYANK", 2), 180, "the re-dock session")
    second = sessions[-1]
    assert second["state"] == "completed", second["problems"]
    assert second["recordings"] == len(files) - copied_before
    assert second["already_verified"] == copied_before
    got = {r["path"]: r["blake3"] for r in daemon.recordings() if r["serial"] == "SNYANK"}
    assert got == {p: blake3(d).hexdigest() for p, d in files.items()}


def test_daemon_killed_mid_copy_then_restarted(
    dock: Dock, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKD_STORE__PARALLEL_FILES", "1")  # slow enough to interrupt
    files = {_clip("SNKILL", i): blob(f"kill{i}", 24 << 20) for i in range(20)}
    dock.plug(fat32_recorder(tmp_path / "SNKILL.dockrec", "SNKILL", files, size_mib=640))
    daemon.start()
    wait_for(
        lambda: daemon.verified("SNKILL") > 0,
        120,
        "the first recording to be verified",
    )

    daemon.stop(signal.SIGKILL)
    daemon.start()

    sessions = wait_for(
        lambda: [
            s for s in daemon.sessions() if s["serial"] == "SNKILL" and s["state"] == "completed"
        ],
        180,
        "the session to complete",
    )
    all_sessions = [s for s in daemon.sessions() if s["serial"] == "SNKILL"]
    killed = all_sessions[0]
    assert killed["state"] == "interrupted"
    assert "session-abandoned" in {p["code"] for p in killed["problems"]}
    assert sessions[0]["already_verified"] + sessions[0]["recordings"] == len(files)
    got = {r["path"]: r["blake3"] for r in daemon.recordings() if r["serial"] == "SNKILL"}
    assert got == {p: blake3(d).hexdigest() for p, d in files.items()}
    assert not list((daemon.home / "store" / "tmp").rglob("*.part"))
    assert daemon.cli("audit", "verify").returncode == 0


def test_corrupt_filesystem_is_reported_and_the_dock_keeps_working(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    bad = fat32_recorder(tmp_path / "SNBAD.dockrec", "SNBAD", {"A.AVI": b"x" * 1000})
    with bad.open("r+b") as image:  # sectors per cluster = 0: no FAT driver can read it
        image.seek(0x0D)
        image.write(b"\0")
    good = {_clip("SNGOOD", 1): blob("good", 100_000)}
    daemon.start()
    dock.plug(bad)
    [failed] = wait_for(lambda: daemon.finished("SNBAD"), 60, "the corrupt recorder's session")
    dock.plug(fat32_recorder(tmp_path / "SNGOOD.dockrec", "SNGOOD", good))
    [ok] = wait_for(lambda: daemon.finished("SNGOOD"), 60, "the good recorder after it")

    assert failed["state"] == "failed"
    assert failed["error_code"] in ("FILESYSTEM_UNKNOWN", "MOUNT_FAILED")
    assert failed["problems"][0]["message"]
    assert ok["state"] == "completed"
    assert daemon.process is not None and daemon.process.poll() is None


def test_sigterm_unmounts_and_exits(
    dock: Dock, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKD_STORE__PARALLEL_FILES", "1")  # slow enough to interrupt
    files = {_clip("SNTERM", i): blob(f"term{i}", 24 << 20) for i in range(6)}
    dev = dock.plug(fat32_recorder(tmp_path / "SNTERM.dockrec", "SNTERM", files, size_mib=256))
    daemon.start()
    wait_for(lambda: os.path.ismount(daemon.mount_root / f"test-{Path(dev).name}"), 60, "the mount")

    assert daemon.stop(signal.SIGTERM, timeout=60) == 0

    assert not os.path.ismount(daemon.mount_root / f"test-{Path(dev).name}")
    [session] = [s for s in daemon.sessions() if s["serial"] == "SNTERM"]
    assert session["state"] in ("interrupted", "completed")
    assert not list((daemon.home / "store" / "tmp").rglob("*.part"))


def test_recorder_with_ten_thousand_files(dock: Dock, daemon: Daemon, tmp_path: Path) -> None:
    img = tmp_path / "SNMANY.dockrec"
    subprocess.run(["truncate", "-s", "128M", str(img)], check=True)
    subprocess.run(
        ["mkfs.vfat", "-F", "32", "-n", "SNMANY", str(img)], check=True, capture_output=True
    )
    src = tmp_path / "many"
    for folder in range(10):
        sub = src / f"D{folder:02d}"
        sub.mkdir(parents=True)
        for i in range(1000):
            (sub / f"C{i:04d}.AVI").write_bytes(f"{folder}-{i}".encode() * 100)
        subprocess.run(["mmd", "-i", str(img), f"::/D{folder:02d}"], check=True)
        subprocess.run(
            ["mcopy", "-i", str(img), *map(str, sorted(sub.iterdir())), f"::/D{folder:02d}/"],
            check=True,
        )
    daemon.start()
    dock.plug(img)
    [session] = wait_for(lambda: daemon.finished("SNMANY"), 600, "10 000 files to be copied")
    assert session["state"] == "completed", session["problems"][:5]
    assert session["recordings"] == 10_000


def _image_digest(img: Path) -> str:
    return hashlib.sha256(img.read_bytes()).hexdigest()


def _rules_allowing_clock_set(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    pack = rules / "policies" / "dalian-jinpu-ocean.toml"
    text = pack.read_text()
    assert "set_recorder_clock = false" in text
    pack.write_text(text.replace("set_recorder_clock = false", "set_recorder_clock = true"))
    return rules


def test_recorder_is_never_written_unless_policy_allows_the_clock_set_file(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {_clip("SNRO", i): blob(f"ro{i}", 200_000) for i in range(2)}
    files["DEVCLOCK.TXT"] = b"2026-01-01 00:00:00\n"
    fat = fat32_recorder(tmp_path / "SNRO.dockrec", "SNRO", files)
    before = _image_digest(fat)
    daemon.start()
    dev = dock.plug(fat)
    [session] = wait_for(lambda: daemon.finished("SNRO"), 60, "the session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 10, "safe to unplug")
    dock.unplug(dev)

    assert session["recorder_clock"]["verdict"] == "violation"
    assert _image_digest(fat) == before, "dockd wrote to a recorder although policy forbids it"
    assert "recorder-clock-set" not in daemon.log.read_text()


def test_clock_set_file_is_written_after_verification_when_allowed(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {_clip("SNSET", i): blob(f"set{i}", 200_000) for i in range(2)}
    files["DEVCLOCK.TXT"] = b"2026-01-01 00:00:00\n"
    img = exfat_recorder(tmp_path / "SNSET.dockrec", "SNSET", files)
    daemon.write_config(f'[rules]\ndir = "{_rules_allowing_clock_set(tmp_path)}"\n')
    daemon.start()
    dev = dock.plug(img)
    [session] = wait_for(lambda: daemon.finished("SNSET"), 60, "the session")
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    log = daemon.log.read_text()
    assert log.index("recorder-clock-set") < log.index("safe-to-unplug")
    assert session["state"] == "completed_with_problems"  # the clock was off: flagged
    dock.unplug(dev)

    with mounted_exfat(img, tmp_path / "check") as mnt:
        written = (mnt / "TIMESET.TXT").read_text().strip()
        assert sorted(p.name for p in mnt.iterdir()) == sorted(
            [*(name for name in files), "TIMESET.TXT"]
        ), "the clock-set mount touched something else"
    told = datetime.strptime(written, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert abs((told - datetime.now(UTC)).total_seconds()) < 120
    assert daemon.cli("audit", "verify").returncode == 0
    with sqlite3.connect(daemon.home / "ledger.sqlite3") as db:
        query = "SELECT kind FROM custody_events WHERE kind = 'recorder-clock-set'"
        events = [kind for (kind,) in db.execute(query)]
    assert events == ["recorder-clock-set"]
