"""Mounting a recorder read-only under the mount root, kernel driver first, FUSE second.

Real docks have the vfat/exfat kernel drivers; some kernels (and these test
machines) have none, so the FUSE implementations are the fallback. Tool errors
are translated into MountError with the tool's own words.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dockd.errors import MountError, UnknownFilesystemError

OPTIONS = "ro,nosuid,nodev,noexec"
WRITABLE = "rw,nosuid,nodev,noexec"
_FUSE = {"vfat": "fusefat", "exfat": "mount.exfat-fuse"}
# fusefat writes only when asked with "rw+" (its writing is marked experimental)
_FUSE_RW = {"vfat": "rw+,nosuid,nodev,noexec", "exfat": WRITABLE}
_KERNEL = {"vfat": "vfat", "exfat": "exfat"}
# how long an unmount waits for its FUSE driver to finish writing and exit
_DRIVER_EXIT_SECONDS = 30.0


def _run(cmd: list[str], tz: str | None = None) -> subprocess.CompletedProcess[str]:
    env = None if tz is None else {**os.environ, "TZ": tz}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, env=env)


def _minutes_east(zone: str) -> int:
    """The zone's UTC offset now (the kernel takes one number: a DST zone is off by an hour
    across its change, which the recorder's own clock is as well)."""
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def _kernel_supports(fs: str) -> bool:
    try:
        return any(
            line.split()[-1] == fs
            for line in Path("/proc/filesystems").read_text().splitlines()
            if line.strip()
        )
    except OSError:
        return False


def _fuse_drivers(target: Path) -> list[int]:
    """The FUSE driver processes serving `target` (their command line names it)."""
    wanted = os.fsencode(os.path.abspath(target))
    names = {os.fsencode(name) for name in _FUSE.values()}
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if wanted in argv and os.path.basename(argv[0]) in names:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its reaper (it has written all it will)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_ended(pids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def _mount_type(target: Path) -> str | None:
    """The filesystem type the mount table gives `target` ("fuse.fusefat", "vfat"), or
    None when nothing is mounted there."""
    wanted = os.path.abspath(target)
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return "unknown" if os.path.ismount(target) else None
    for fields in (line.split() for line in lines):
        if len(fields) > 2 and fields[1].replace("\\040", " ") == wanted:
            return fields[2]
    return None


class Mounter:
    def __init__(self, mount_root: Path) -> None:
        self.mount_root = mount_root

    def mount(
        self,
        devnode: str,
        fs_type: str | None,
        slot: str,
        zone: str = "UTC",
        writable: bool = False,
    ) -> Path:
        """Read-only unless `writable`: that is only for writing a clock-set file.

        File times: FAT keeps local wall-clock fields, presented unconverted (as if UTC)
        and read in the recorder's `zone` by the ingest. exFAT entries carry their UTC
        offset when the camera wrote one; entries without one are local time of the
        recorder, so the driver is told the recorder's zone. The FUSE drivers convert
        with the TZ of their own process, never the dock's."""
        if fs_type not in _FUSE:
            if not fs_type:
                raise UnknownFilesystemError(
                    "{devnode} carries no recognisable filesystem; dockd reads FAT32 (vfat) "
                    "and exFAT",
                    devnode=devnode,
                )
            raise UnknownFilesystemError(
                "{devnode} carries {fs_type}; dockd reads FAT32 (vfat) and exFAT",
                devnode=devnode,
                fs_type=fs_type,
            )
        target = self.mount_root / slot
        self.unmount(target)  # a mount left by a yanked recorder or a killed dockd
        target.mkdir(parents=True, exist_ok=True)
        tz = None
        if _kernel_supports(_KERNEL[fs_type]):
            options = WRITABLE if writable else OPTIONS
            if fs_type == "vfat":
                options += ",tz=UTC"
            else:
                options += f",time_offset={_minutes_east(zone)}"
            cmd = ["mount", "-t", _KERNEL[fs_type], "-o", options, devnode, str(target)]
        else:
            options = _FUSE_RW[fs_type] if writable else OPTIONS
            cmd = [_FUSE[fs_type], "-o", options, devnode, str(target)]
            tz = "UTC" if fs_type == "vfat" else zone
        result = _run(cmd, tz)
        if result.returncode != 0 or not os.path.ismount(target):
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise MountError(
                "{cmd} could not mount {devnode} ({fs_type}): {value}",
                cmd=" ".join(cmd[:1]),
                devnode=devnode,
                fs_type=fs_type,
                value=detail[-1] if detail else "exit " + str(result.returncode),
            )
        return target

    def unmount(self, target: Path) -> None:
        """Unmount; a yanked device leaves a dead mount that only a lazy unmount clears.
        The mount table decides, not stat(): a dead FUSE mount cannot even be stat'ed.

        A FUSE driver is still writing when `umount` returns: it flushes the FAT and
        clears the volume's dirty bit only as it exits. So the unmount ends when its
        driver has ended; a recorder unplugged before then (the officer is told "safe
        to unplug" right after this) would keep a half-written FAT."""
        kind = _mount_type(target)
        if kind is None:
            return
        drivers = [] if kind in _KERNEL.values() else _fuse_drivers(target)
        if _run(["umount", str(target)]).returncode != 0:
            _run(["umount", "-l", str(target)])
        _wait_ended(drivers, _DRIVER_EXIT_SECONDS)
