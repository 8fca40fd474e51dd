"""Recorders that read as slowly as a real one: a loop-mounted image behind a USB-like link.

A body camera hands its card over USB 2.0 mass storage, which reads at some 10-35 MiB/s:
at shift change it is the recorders, not the dock, that set each dock's pace. A folder on
the bench machine's own disk reads at gigabytes a second, so a benchmark of many docks
at once on a few cores measures the cores, not what the docks cost each other.

Each recorder here is an ext4 image (the kernel has no vfat here; the file system is not
what is measured) on its own loop device, mounted read-only as a dock mounts a card, and
its reads are limited to ``read_mib_s`` by a cgroup throttle on that loop device: the
cgroup-v1 blkio controller (``blkio.throttle.read_bps_device``) where the host mounts it,
else cgroup v2's io controller (``io.max`` ``rbps=``), as current Debian, Ubuntu, RHEL and
Fedora have only v2. A process moved into the recorder's cgroup (``enter``, as a
``preexec_fn``) is throttled on that device only: its writes to its store and its
read-back from the store run at the disk's speed, as on a real dock. Needs root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BLKIO = Path("/sys/fs/cgroup/blkio")  # cgroup v1 (or a hybrid host)
UNIFIED = Path("/sys/fs/cgroup")  # cgroup v2 only
MIB = 1 << 20


@dataclass(frozen=True)
class Recorder:
    mount: Path  # the read-only mount a dock session ingests
    device: str  # /dev/loopN
    cgroup: Path | None  # None: not throttled
    limit: tuple[str, str] = ("", "")  # the cgroup's control file and the line it holds

    def enter(self) -> None:
        """Moves the calling process into this recorder's cgroup (for ``preexec_fn``).

        On this shared host something else (another run's cleanup, a container's systemd)
        has removed an empty cgroup between its making and its first use: it is made again
        here. Once a process is inside, the kernel refuses to remove it."""
        if self.cgroup is None:
            return
        if not self.cgroup.is_dir():
            self.cgroup.mkdir(exist_ok=True)
            (self.cgroup / self.limit[0]).write_text(self.limit[1])
        (self.cgroup / "cgroup.procs").write_text(str(os.getpid()))


def throttle_available() -> str | None:
    """Why a throttled recorder cannot be made here, or None."""
    if os.geteuid() != 0:
        return "not root"
    if (BLKIO / "blkio.throttle.read_bps_device").exists():
        return None
    controllers = UNIFIED / "cgroup.controllers"
    if not controllers.exists():
        return f"neither a cgroup-v1 blkio throttle at {BLKIO} nor cgroup v2 at {UNIFIED}"
    if "io" not in controllers.read_text().split():
        return f"cgroup v2 at {UNIFIED} without the io controller (cgroup.controllers)"
    return None


def throttle_mechanism() -> str:
    """Which throttle `recorder` uses here, for the results."""
    if (BLKIO / "blkio.throttle.read_bps_device").exists():
        return "cgroup-v1 blkio.throttle.read_bps_device"
    return "cgroup-v2 io.max rbps"


def _throttled_cgroup(name: str, device: str, read_mib_s: float) -> tuple[Path, tuple[str, str]]:
    """A cgroup whose reads of `device` are limited to `read_mib_s`, and its limit: v1
    where it is mounted, else v2, whose io controller must be enabled for the root's
    children."""
    major_minor = _run("lsblk", "-dno", "MAJ:MIN", device).replace(" ", "")
    rate = int(read_mib_s * MIB)
    if (BLKIO / "blkio.throttle.read_bps_device").exists():
        cgroup, limit = (
            BLKIO / f"dockd-bench-{name}",
            ("blkio.throttle.read_bps_device", f"{major_minor} {rate}"),
        )
    else:
        subtree = UNIFIED / "cgroup.subtree_control"
        if "io" not in subtree.read_text().split():
            subtree.write_text("+io")
        cgroup, limit = UNIFIED / f"dockd-bench-{name}", ("io.max", f"{major_minor} rbps={rate}")
    cgroup.mkdir(exist_ok=True)
    (cgroup / limit[0]).write_text(limit[1])
    return cgroup, limit


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def recorder(
    home: Path, name: str, size_bytes: int, fill: Callable[[Path], None], read_mib_s: float
) -> Iterator[Recorder]:
    """An image of ``size_bytes`` filled by ``fill(root)`` while mounted read-write, then
    mounted read-only at ``home/recorder``, its reads throttled to ``read_mib_s`` (0: none).
    Everything is undone on exit, also after a failure half-way."""
    image, mount = home / "recorder.img", home / "recorder"
    mount.mkdir(parents=True)
    with open(image, "wb") as fh:
        fh.truncate(size_bytes)
    _run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", str(image))
    with contextlib.ExitStack() as undo:
        device = _run("losetup", "--find", "--show", str(image))
        undo.callback(subprocess.run, ["losetup", "-d", device], check=False)
        _run("mount", device, str(mount))
        try:
            fill(mount)
        finally:
            _run("umount", str(mount))
        _run("mount", "-o", "ro", device, str(mount))
        undo.callback(subprocess.run, ["umount", "-l", str(mount)], check=False)
        if not read_mib_s:
            yield Recorder(mount, device, None)
            return
        cgroup, limit = _throttled_cgroup(name, device, read_mib_s)
        undo.callback(_remove_cgroup, cgroup)
        yield Recorder(mount, device, cgroup, limit)


def _remove_cgroup(cgroup: Path) -> None:
    """A cgroup goes once its processes have ended; they are reaped before this runs."""
    with contextlib.suppress(OSError):
        cgroup.rmdir()


def drop_caches() -> None:
    """Cold reads for every recorder alike: what a freshly plugged card gives."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
