"""The dock's own disks are never recorders, even under a stacked or pooled filesystem.

The shipped rule tags every USB disk, so a store on a USB disk is tagged too; the daemon
leaves alone the disks holding / and the store (`system_disks`). A store on LVM, LUKS or
md is on a dm/md device, and one on btrfs has files whose st_dev is no block device at
all: the USB disk beneath must still be found. Real loop devices, mkfs and mounts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pyudev

from dockd.adapters.udev import system_disks
from dockd.core.devices import DeviceScope, recorder_from_properties

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")


@contextmanager
def _loop(tmp_path: Path, name: str, size_mib: int = 128) -> Iterator[str]:
    image = tmp_path / f"{name}.img"
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(image)], check=True)
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


@contextmanager
def _mounted(dev: str, target: Path) -> Iterator[Path]:
    target.mkdir()
    subprocess.run(["mount", dev, str(target)], check=True)
    try:
        (target / "store").mkdir()
        yield target / "store"
    finally:
        subprocess.run(["umount", str(target)], check=False)


def _refused_as_a_recorder(disk: str, store: Path) -> bool:
    """What the daemon decides for a tagged USB disk, given the disks its store is on."""
    scope = DeviceScope(("*",), system_disks(pyudev.Context(), [store]))
    props = {"DOCKD_RECORDER": "1", "DEVTYPE": "disk", "ID_BUS": "usb", "ID_FS_TYPE": "ext4"}
    return recorder_from_properties(disk, props, False, scope, disk) is None


def _device_mapper() -> bool:
    return shutil.which("dmsetup") is not None and Path("/sys/module/dm_mod").exists()


@pytest.mark.skipif(not _device_mapper(), reason="the kernel has no device-mapper (dm_mod)")
def test_the_disk_under_a_dm_store_is_never_a_recorder(tmp_path: Path) -> None:
    """LVM and LUKS are both dm: a linear target is the simplest stack of the kind."""
    name = f"dockd-test-{os.getpid()}"
    with _loop(tmp_path, "usb") as disk:
        sectors = int(Path(f"/sys/class/block/{Path(disk).name}/size").read_text())
        subprocess.run(
            ["dmsetup", "create", name, "--table", f"0 {sectors} linear {disk} 0"], check=True
        )
        try:
            mapped = subprocess.run(
                ["dmsetup", "info", "-c", "--noheadings", "-o", "blkdevname", name],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            subprocess.run(["mkfs.ext4", "-q", f"/dev/{mapped}"], check=True)
            with _mounted(f"/dev/{mapped}", tmp_path / "mnt") as store:
                assert disk in system_disks(pyudev.Context(), [store])
                assert _refused_as_a_recorder(disk, store)
        finally:
            subprocess.run(["dmsetup", "remove", name], check=False)


@pytest.mark.skipif(shutil.which("mkfs.btrfs") is None, reason="apt-get install btrfs-progs")
def test_the_disks_of_a_btrfs_store_are_never_recorders(tmp_path: Path) -> None:
    """btrfs over two USB disks: the mount names one, the files' st_dev neither."""
    with _loop(tmp_path, "usb1") as first, _loop(tmp_path, "usb2") as second:
        subprocess.run(
            ["mkfs.btrfs", "-q", "-f", "-d", "raid1", "-m", "raid1", first, second], check=True
        )
        subprocess.run(["btrfs", "device", "scan", first, second], check=True)
        with _mounted(first, tmp_path / "mnt") as store:
            assert os.major(os.stat(store).st_dev) == 0, "btrfs gave the store a real st_dev"
            assert {first, second} <= system_disks(pyudev.Context(), [store])
            assert _refused_as_a_recorder(first, store)
            assert _refused_as_a_recorder(second, store)


def test_the_disk_under_an_ext4_store_is_never_a_recorder_and_others_are(
    tmp_path: Path,
) -> None:
    with _loop(tmp_path, "usb") as disk, _loop(tmp_path, "other", 8) as other:
        subprocess.run(["mkfs.ext4", "-q", disk], check=True)
        with _mounted(disk, tmp_path / "mnt") as store:
            assert _refused_as_a_recorder(disk, store)
            assert not _refused_as_a_recorder(other, store)
