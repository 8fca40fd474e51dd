"""Recorders that read as slowly as a real one: a loop-mounted image behind a USB-like link.

A body camera hands its card over USB 2.0 mass storage, which reads at some 10-35 MiB/s:
at shift change it is the recorders, not the dock, that set each dock's pace. A folder on
the bench machine's own disk reads at gigabytes a second, so a benchmark of many docks
at once on a few cores measures the cores, not what the docks cost each other.

Each recorder here is an ext4 image (the kernel has no vfat here; the file system is not
what is measured) on its own loop device, mounted read-only as a dock mounts a card, and
its reads are limited to ``read_mib_s`` by a cgroup-v1 blkio throttle on that loop
device. A process moved into the recorder's cgroup (``enter``, as a ``preexec_fn``) is
throttled on that device only: its writes to its store and its read-back from the store
run at the disk's speed, as on a real dock. Needs root and the blkio controller at
``/sys/fs/cgroup/blkio``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BLKIO = Path("/sys/fs/cgroup/blkio")
MIB = 1 << 20


@dataclass(frozen=True)
class Recorder:
    mount: Path  # the read-only mount a dock session ingests
    device: str  # /dev/loopN
    cgroup: Path | None  # None: not throttled

    def enter(self) -> None:
        """Moves the calling process into this recorder's cgroup (for ``preexec_fn``)."""
        if self.cgroup is not None:
            (self.cgroup / "cgroup.procs").write_text(str(os.getpid()))


def throttle_available() -> str | None:
    """Why a throttled recorder cannot be made here, or None."""
    if os.geteuid() != 0:
        return "not root"
    if not (BLKIO / "blkio.throttle.read_bps_device").exists():
        return f"no cgroup-v1 blkio throttle at {BLKIO}"
    return None


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
        cgroup = None
        if read_mib_s:
            cgroup = BLKIO / f"dockd-bench-{name}"
            cgroup.mkdir(exist_ok=True)
            undo.callback(_remove_cgroup, cgroup)
            major_minor = _run("lsblk", "-dno", "MAJ:MIN", device).replace(" ", "")
            limit = f"{major_minor} {int(read_mib_s * MIB)}"
            (cgroup / "blkio.throttle.read_bps_device").write_text(limit)
        yield Recorder(mount, device, cgroup)


def _remove_cgroup(cgroup: Path) -> None:
    """A cgroup goes once its processes have ended; they are reaped before this runs."""
    with contextlib.suppress(OSError):
        cgroup.rmdir()


def drop_caches() -> None:
    """Cold reads for every recorder alike: what a freshly plugged card gives."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
