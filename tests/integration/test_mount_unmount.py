"""An unmount of a recorder is over only when its filesystem is whole on the device.

After a read-write mount (clearing, the clock-set file) dockd tells the officer "safe to
unplug" as soon as the unmount returns. A FUSE driver (fusefat on a kernel without vfat)
writes its FAT and clears the volume's dirty bit only as it exits after `umount`; a
recorder pulled in between keeps a half-written FAT. Real loop device, real fusefat.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dockd.adapters.mount import Mounter
from tests.support.media import make_fat32_image

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")


def _fuse_vfat_only() -> None:
    kernel_vfat = any(
        line.split()[-1] == "vfat" for line in Path("/proc/filesystems").read_text().splitlines()
    )
    if kernel_vfat:
        pytest.skip("the kernel mounts vfat itself here: no FUSE driver to wait for")
    if shutil.which("fusefat") is None or shutil.which("fsck.vfat") is None:
        pytest.skip("apt-get install fusefat dosfstools")


def _drivers_of(target: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "fusefat"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f" {target}" in line]


def test_a_written_fat_volume_is_whole_the_moment_its_unmount_returns(tmp_path: Path) -> None:
    _fuse_vfat_only()
    image = make_fat32_image(tmp_path / "rec.img", {"DCIM/A.AVI": b"a" * 70_000})
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    mounter = Mounter(tmp_path / "mnt")
    try:
        root = mounter.mount(dev, "vfat", "slot1", writable=True)
        (root / "DCIM" / "A.AVI").unlink()
        (root / "TIMESET.TXT").write_bytes(b"2026-12-01 08:00:00\n")
        mounter.unmount(root)
        still_writing = _drivers_of(root)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)  # the officer pulls it at once

    assert still_writing == []
    check = subprocess.run(["fsck.vfat", "-n", str(image)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listing = subprocess.run(
        ["mdir", "-/", "-b", "-i", str(image), "::"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(name.removeprefix("::") for name in listing) == ["/DCIM/", "/TIMESET.TXT"]
