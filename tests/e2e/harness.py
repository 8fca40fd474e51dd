"""Real parts for end-to-end tests: udevd, a test udev rule, loop-device recorders, the daemon.

Loop devices carrying FAT32/exFAT images are tagged by the test rule exactly as
udev/99-dockd.rules tags USB recorders (DOCKD_RECORDER, DOCKD_SERIAL from the
volume label, DOCKD_SLOT), so the daemon cannot tell them from real recorders.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import with_language

REPO = Path(__file__).resolve().parents[2]
UDEVD = Path("/lib/systemd/systemd-udevd")
RULE = Path("/etc/udev/rules.d/99-dockd-test.rules")
# A loop device backed by "<SERIAL>.dockrec" is a recorder with that serial, whatever
# (if anything) its filesystem is: a corrupt recorder must be docked and reported too.
RULE_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.dockrec", '
    'PROGRAM="/usr/bin/basename %s{loop/backing_file} .dockrec", '
    'ENV{DOCKD_RECORDER}="1", ENV{DOCKD_SERIAL}="%c", '
    'ENV{DOCKD_SLOT}="test-%k", ENV{DOCKD_PROFILE}="generic", ENV{UDISKS_IGNORE}="1"\n'
)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def blob(seed: str, size: int) -> bytes:
    """Recording-like bytes: distinct per seed, made quickly (no urandom of many MiB)."""
    block = hashlib.sha256(seed.encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def udevd_listening() -> bool:
    """A socket file alone is not enough: a udevd that died leaves it behind."""
    ping = subprocess.run(
        ["udevadm", "control", "--ping", "--timeout=2"], capture_output=True, check=False
    )
    return ping.returncode == 0


def require_udev() -> None:
    """Start a real udevd if none runs, and install the test rule."""
    if os.geteuid() != 0:
        pytest.skip("run as root (loop devices, mounts, udevd)")
    for tool in (
        "udevadm",
        "losetup",
        "mkfs.vfat",
        "mcopy",
        "fusefat",
        "mkfs.exfat",
        "mount.exfat-fuse",
    ):
        if shutil.which(tool) is None:
            pytest.skip("apt-get install udev dosfstools mtools fusefat exfatprogs exfat-fuse")
    if not UDEVD.exists():
        pytest.skip("apt-get install udev")
    if not udevd_listening():
        Path("/run/udev").mkdir(parents=True, exist_ok=True)
        # a udevd that died (or the udev package's install) leaves its control socket behind
        Path("/run/udev/control").unlink(missing_ok=True)
        subprocess.run([str(UDEVD), "--daemon"], check=True, capture_output=True)
        wait_for(udevd_listening, 10, "udevd")
    if not RULE.exists() or RULE.read_text() != RULE_TEXT:
        RULE.parent.mkdir(parents=True, exist_ok=True)
        RULE.write_text(RULE_TEXT)
    subprocess.run(["udevadm", "control", "--reload"], check=True)


#: Recorders whose image is in a folder named "scoped" also get this ID_PATH, so that a
#: daemon that clears recorders can be given `[daemon] ports = [SCOPED_PORT]` and leave
#: alone the test recorders other test runs on this host have plugged meanwhile.
SCOPED_PORT = "dockd-test-scoped"
SCOPED_RULE = Path("/etc/udev/rules.d/99-dockd-test-scoped.rules")
SCOPED_RULE_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/scoped/*.dockrec", '
    f'ENV{{ID_PATH}}="{SCOPED_PORT}"\n'
)


def require_scoped_port() -> None:
    """udev as for `require_udev`, plus the rule giving recorders in scoped/ SCOPED_PORT."""
    require_udev()
    if not SCOPED_RULE.exists() or SCOPED_RULE.read_text() != SCOPED_RULE_TEXT:
        SCOPED_RULE.write_text(SCOPED_RULE_TEXT)
        subprocess.run(["udevadm", "control", "--reload"], check=True)


def fat32_recorder(img: Path, label: str, files: dict[str, bytes], size_mib: int = 64) -> Path:
    """A FAT32 image labelled like a recorder, filled through mtools (no mount)."""
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(img)], check=True)
    subprocess.run(
        ["mkfs.vfat", "-F", "32", "-n", label, str(img)], check=True, capture_output=True
    )
    staging = img.with_suffix(".src")
    staging.mkdir(exist_ok=True)
    for rel, data in files.items():
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            subprocess.run(
                ["mmd", "-D", "s", "-i", str(img), "::/" + "/".join(parts[:depth])],
                capture_output=True,
                check=False,
            )
        local = staging / parts[-1]
        local.write_bytes(data)
        subprocess.run(["mcopy", "-o", "-i", str(img), str(local), "::/" + rel], check=True)
        local.unlink()
    staging.rmdir()
    return img


def exfat_recorder(img: Path, label: str, files: dict[str, bytes], size_mib: int = 64) -> Path:
    """Filled through a read-write FUSE mount of a loop device under another name, so that
    the daemon does not take it for a docked recorder while it is being made."""
    building = img.with_suffix(".building")
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(building)], check=True)
    subprocess.run(["mkfs.exfat", "-L", label, str(building)], check=True, capture_output=True)
    mnt = img.with_suffix(".mnt")
    mnt.mkdir(exist_ok=True)
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(building)], check=True, capture_output=True, text=True
    ).stdout.strip()
    # a loop device keeps the read-only flag dockd set (BLKROSET) when it served a recorder
    subprocess.run(["blockdev", "--setrw", dev], check=True)
    try:
        subprocess.run(["mount.exfat-fuse", dev, str(mnt)], check=True, capture_output=True)
        try:
            for rel, data in files.items():
                (mnt / rel).parent.mkdir(parents=True, exist_ok=True)
                (mnt / rel).write_bytes(data)
        finally:
            subprocess.run(["umount", str(mnt)], check=True)
    finally:
        subprocess.run(["losetup", "-d", dev], check=True)
    building.rename(img)
    return img


def _dead(mountpoint: Path) -> bool:
    try:
        os.stat(mountpoint)
    except OSError:
        return True
    return False


def _detach(dev: str) -> None:
    """Detach, leaving the loop device writable again: the daemon's BLKROSET outlives the
    attachment, and the next test (or mount -o loop) would get a read-only device."""
    subprocess.run(["blockdev", "--setrw", dev], capture_output=True, check=False)
    subprocess.run(["losetup", "-d", dev], capture_output=True, check=False)


class Dock:
    """Plugging recorders in and out: attaching and detaching loop devices."""

    def __init__(self) -> None:
        self.attached: list[str] = []

    def plug(self, img: Path) -> str:
        dev = subprocess.run(
            ["losetup", "-f", "--show", str(img)], check=True, capture_output=True, text=True
        ).stdout.strip()
        self.attached.append(dev)
        subprocess.run(["udevadm", "settle"], check=False)
        return dev

    def unplug(self, dev: str, mountpoint: Path | None = None) -> None:
        """Yank: the FUSE driver serving the device dies with it (as the kernel's vfat would
        start failing every read), then the device itself goes away."""
        if mountpoint is not None:
            subprocess.run(
                ["pkill", "-9", "-f", f"(fusefat|exfat).* {dev} "], capture_output=True, check=False
            )
            wait_for(
                lambda: not os.path.ismount(mountpoint) or _dead(mountpoint), 10, "the mount to die"
            )
        _detach(dev)
        if dev in self.attached:
            self.attached.remove(dev)

    def close(self) -> None:
        for dev in list(self.attached):
            _detach(dev)
        self.attached.clear()


@dataclass
class Daemon:
    """`dockd run` as a real process with its own store, ledger and mount root."""

    home: Path
    process: subprocess.Popen[str] | None = None

    @property
    def config(self) -> Path:
        return self.home / "dockd.toml"

    @property
    def log(self) -> Path:
        return self.home / "daemon.log"

    @property
    def mount_root(self) -> Path:
        return self.home / "mnt"

    def write_config(self, extra: str = "", language: str = "en") -> None:
        self.config.write_text(
            f'[store]\nroot = "{self.home / "store"}"\n'
            f'[ledger]\nurl = "sqlite:///{self.home / "ledger.sqlite3"}"\n'
            f'[daemon]\nmount_root = "{self.mount_root}"\nmax_parallel = 4\n'
            + with_language(extra, language)
        )

    def start(self) -> None:
        if not self.config.exists():
            self.write_config()
        log = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dockd.cli", "--config", str(self.config), "run"],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        wait_for(lambda: "ready" in self.log.read_text(), 30, "the daemon to be ready")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dockd.cli", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )

    def sessions(self) -> list[dict[str, Any]]:
        result = self.cli("sessions", "--json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def recordings(self) -> list[dict[str, Any]]:
        result = self.cli("recordings", "--json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def verified(self, serial: str) -> int:
        """Recordings of `serial` in the ledger, read directly: the CLI takes a second to
        start, long enough for a fast copy to finish before a test can interrupt it."""
        ledger = self.home / "ledger.sqlite3"
        if not ledger.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as db:
                query = "SELECT count(*) FROM recordings WHERE serial = ?"
                return int(db.execute(query, (serial,)).fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def finished(self, serial: str, count: int = 1) -> list[dict[str, Any]]:
        done = [s for s in self.sessions() if s["serial"] == serial and s["state"] != "running"]
        return done if len(done) >= count else []


@contextmanager
def running_daemon(home: Path) -> Iterator[Daemon]:
    daemon = Daemon(home)
    try:
        yield daemon
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.send_signal(signal.SIGKILL)
            daemon.process.wait()
        for mnt in sorted(daemon.mount_root.glob("*")) if daemon.mount_root.exists() else []:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)
        subprocess.run(
            ["chattr", "-R", "-i", str(home / "store")], capture_output=True, check=False
        )
