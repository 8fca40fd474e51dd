"""File times through dockd's mounts: what the recorder wrote, whatever the dock's own
time zone. FAT keeps wall-clock fields (read later in the recorder's zone); exFAT keeps
an offset per entry when the camera wrote one, else local time of the recorder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockd.adapters.mount import Mounter
from tests.support.media import make_exfat_image, make_fat32_image, strip_exfat_utc_offsets

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")

RECORDER_ZONE = "Asia/Shanghai"
WRITTEN = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@contextmanager
def mounted(image: Path, fs_type: str, mount_root: Path) -> Iterator[Path]:
    dev = subprocess.run(
        ["losetup", "-f", "--show", "-r", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    mounter = Mounter(mount_root)
    try:
        target = mounter.mount(dev, fs_type, "slot1", RECORDER_ZONE)
        try:
            yield target
        finally:
            mounter.unmount(target)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def dock_runs_in_another_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on the dock's own TZ is not the recorder's (the images were written in
    UTC); every tool dockd starts inherits it unless dockd says otherwise."""
    monkeypatch.setenv("TZ", "America/New_York")


def test_fat_wall_clock_fields_are_presented_unconverted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")  # mcopy stores the wall-clock fields 10:00
    image = make_fat32_image(
        tmp_path / "fat.img", {"DCIM/A.MP4": b"clip"}, mtimes={"DCIM/A.MP4": WRITTEN}
    )
    dock_runs_in_another_zone(monkeypatch)
    with mounted(image, "vfat", tmp_path / "mnt") as root:
        seen = mtime(root / "DCIM/A.MP4")
    # the fields exactly, as if UTC (fusefat reports the month one late: day and time)
    assert (seen.day, seen.hour, seen.minute) == (15, 10, 0)


def test_exfat_entries_without_an_offset_are_the_recorders_local_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")  # exfat-fuse stores the fields 10:00, offset +00:00
    image = make_exfat_image(
        tmp_path / "exfat.img",
        {"DCIM/B.MP4": b"clip", "DCIM/C.MP4": b"clip"},
        mtimes={"DCIM/B.MP4": WRITTEN, "DCIM/C.MP4": WRITTEN},
    )
    assert strip_exfat_utc_offsets(image, "B.MP4") == 1  # a camera that keeps local time
    dock_runs_in_another_zone(monkeypatch)
    with mounted(image, "exfat", tmp_path / "mnt") as root:
        local = mtime(root / "DCIM/B.MP4")
        with_offset = mtime(root / "DCIM/C.MP4")
    # the fields read 10:00 UTC as written by exfat-fuse; without an offset they are
    # 10:00 in Shanghai, which is 02:00 UTC
    assert local == datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    assert with_offset == WRITTEN, "an entry that carries its offset is an instant"
