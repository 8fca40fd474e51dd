"""Prove the real-filesystem helpers work on this machine and leave no mounts
or loop devices behind, so media test failures elsewhere are about dockd."""

from __future__ import annotations

import errno
import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.media import (
    make_exfat_image,
    make_fat32_image,
    mounted_exfat,
    mounted_fat,
    small_ext4,
)

pytestmark = pytest.mark.root

FILES = {
    "DCIM/100MEDIA/A0001.MP4": os.urandom(300_000),
    "DCIM/100MEDIA/A0002.MP4": b"second clip",
    "DCIM/101MEDIA/Long Recording Name.mp4": b"vfat long name",
    "SYSTEM.CFG": b"root file",
}
WHEN = datetime(2024, 3, 15, 10, 20, 30)  # even seconds: FAT has 2 s resolution


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "System Volume Information" not in p.parts
    }


def _assert_released(img: Path, mnt: Path) -> None:
    assert not os.path.ismount(mnt)
    assert (
        str(img)
        not in subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=False).stdout
    )


def test_fat32_round_trip_through_fusefat(tmp_path: Path) -> None:
    img = make_fat32_image(tmp_path / "fat.img", FILES, mtimes={"SYSTEM.CFG": WHEN})
    # The bytes mtools wrote carry the requested mtime (minute precision in mdir).
    listing = subprocess.run(
        ["mdir", "-i", str(img), "::/SYSTEM.CFG"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    ).stdout
    assert re.search(r"2024-03-15\s+10:20", listing), listing

    mnt = tmp_path / "mnt"
    with mounted_fat(img, mnt) as root:
        assert _read_tree(root) == FILES
        with pytest.raises(OSError) as exc:
            (root / "new.txt").write_bytes(b"x")
        assert exc.value.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    _assert_released(img, mnt)


@pytest.mark.xfail(strict=True, reason="fusefat 1.0.x reports FAT dates one month late")
def test_fusefat_reports_fat_mtime(tmp_path: Path) -> None:
    img = make_fat32_image(tmp_path / "fat.img", {"A.MP4": b"a"}, mtimes={"A.MP4": WHEN})
    with mounted_fat(img, tmp_path / "mnt") as root:
        seen = datetime.fromtimestamp((root / "A.MP4").stat().st_mtime)
    assert seen == WHEN, f"fusefat shows {seen}"


def test_mounted_fat_unmounts_on_error(tmp_path: Path) -> None:
    img = make_fat32_image(tmp_path / "fat.img", {"A.MP4": b"a"})
    mnt = tmp_path / "mnt"
    with pytest.raises(RuntimeError, match="boom"), mounted_fat(img, mnt):
        raise RuntimeError("boom")
    _assert_released(img, mnt)


def test_exfat_round_trip_read_only(tmp_path: Path) -> None:
    img = make_exfat_image(tmp_path / "ex.img", FILES, mtimes={"SYSTEM.CFG": WHEN})
    mnt = tmp_path / "mnt"
    with mounted_exfat(img, mnt) as root:
        assert _read_tree(root) == FILES
        assert datetime.fromtimestamp((root / "SYSTEM.CFG").stat().st_mtime) == WHEN
        with pytest.raises(OSError) as exc:
            (root / "new.txt").write_bytes(b"x")
        assert exc.value.errno == errno.EROFS
    _assert_released(img, mnt)


def test_exfat_read_write_mount_persists(tmp_path: Path) -> None:
    img = make_exfat_image(tmp_path / "ex.img", {})
    mnt = tmp_path / "mnt"
    with mounted_exfat(img, mnt, readonly=False) as root:
        (root / "NEW.BIN").write_bytes(b"written later")
    with mounted_exfat(img, mnt) as root:
        assert (root / "NEW.BIN").read_bytes() == b"written later"
    _assert_released(img, mnt)


def test_small_ext4_fills_up_and_tolerates_immutable(tmp_path: Path) -> None:
    img, mnt = tmp_path / "store.img", tmp_path / "store"
    with small_ext4(img, mnt, size_mib=8) as root:
        sealed = root / "sealed"
        sealed.write_bytes(b"evidence")
        subprocess.run(["chattr", "+i", str(sealed)], check=True)
        with pytest.raises(OSError) as exc, open(root / "fill", "wb") as fh:
            for _ in range(64):
                fh.write(b"\0" * (1 << 20))
                fh.flush()
                os.fsync(fh.fileno())
        assert exc.value.errno == errno.ENOSPC
    _assert_released(img, mnt)
