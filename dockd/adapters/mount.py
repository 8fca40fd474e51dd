"""Mounting a recorder read-only under the mount root, kernel driver first, FUSE second.

Real docks have the vfat/exfat kernel drivers; some kernels (and these test
machines) have none, so the FUSE implementations are the fallback. Tool errors
are translated into MountError with the tool's own words.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dockd.errors import SourceError

OPTIONS = "ro,nosuid,nodev,noexec"
_FUSE = {
    "vfat": ["fusefat", "-o", OPTIONS],
    "exfat": ["mount.exfat-fuse", "-o", OPTIONS],
}
_KERNEL = {"vfat": "vfat", "exfat": "exfat"}


class MountError(SourceError):
    code = "MOUNT_FAILED"
    hint = (
        "The recorder's filesystem could not be mounted: it may be corrupt or not FAT32/"
        "exFAT. The recorder was not written to; have it checked before re-docking."
    )


class UnknownFilesystemError(MountError):
    code = "FILESYSTEM_UNKNOWN"


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _kernel_supports(fs: str) -> bool:
    try:
        return any(
            line.split()[-1] == fs
            for line in Path("/proc/filesystems").read_text().splitlines()
            if line.strip()
        )
    except OSError:
        return False


class Mounter:
    def __init__(self, mount_root: Path) -> None:
        self.mount_root = mount_root

    def mount(self, devnode: str, fs_type: str | None, slot: str) -> Path:
        if fs_type not in _FUSE:
            raise UnknownFilesystemError(
                f"{devnode} carries {fs_type or 'no recognisable filesystem'}; dockd reads "
                "FAT32 (vfat) and exFAT"
            )
        target = self.mount_root / slot
        target.mkdir(parents=True, exist_ok=True)
        if os.path.ismount(target):
            self.unmount(target)
        if _kernel_supports(_KERNEL[fs_type]):
            cmd = ["mount", "-t", _KERNEL[fs_type], "-o", OPTIONS, devnode, str(target)]
        else:
            cmd = [*_FUSE[fs_type], devnode, str(target)]
        result = _run(cmd)
        if result.returncode != 0 or not os.path.ismount(target):
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise MountError(
                f"{' '.join(cmd[:1])} could not mount {devnode} ({fs_type}): "
                f"{detail[-1] if detail else 'exit ' + str(result.returncode)}"
            )
        return target

    def unmount(self, target: Path) -> None:
        """Unmount; a yanked device leaves a dead mount that only a lazy unmount clears."""
        if not os.path.ismount(target):
            return
        if _run(["umount", str(target)]).returncode != 0:
            _run(["umount", "-l", str(target)])
