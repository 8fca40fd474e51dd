"""Opening a recorder file beneath its mount on a real filesystem: no symlink is followed.

The scan saw plain folders and files; a symlink swapped in afterwards, on the way or as
the file itself, must make the open fail: the file itself with ELOOP (a `symlink-swapped`
problem), a folder with ENOTDIR (folders are opened with O_DIRECTORY, so that a FIFO
there cannot block the copy, and the kernel checks that before O_NOFOLLOW).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dockd.adapters.volume import LocalVolume, open_beneath
from dockd.core.model import SourceFile
from dockd.errors import SourceFileError

REL = b"DCIM/100MEDIA/CLIP0001.MP4"


@pytest.fixture
def mount(tmp_path: Path) -> Path:
    root = tmp_path / "mount"
    (root / "DCIM" / "100MEDIA").mkdir(parents=True)
    (root / "DCIM" / "100MEDIA" / "CLIP0001.MP4").write_bytes(b"the recording")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "CLIP0001.MP4").write_bytes(b"not the recording")
    return root


def read(root: Path, rel: bytes) -> bytes:
    fd = open_beneath(os.fsencode(root), rel)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


def test_a_plain_path_opens(mount: Path) -> None:
    assert read(mount, REL) == b"the recording"


def test_a_mount_point_reached_through_a_symlink_is_trusted(mount: Path) -> None:
    link = mount.parent / "bay1"
    link.symlink_to(mount)
    assert read(link, REL) == b"the recording"


def test_a_folder_swapped_for_a_symlink_is_refused(mount: Path) -> None:
    folder = mount / "DCIM" / "100MEDIA"
    folder.rename(mount / "DCIM" / "moved")
    folder.symlink_to(mount.parent / "elsewhere")
    with pytest.raises(OSError) as caught:
        read(mount, REL)
    assert caught.value.errno == errno.ENOTDIR


def test_a_file_swapped_for_a_symlink_is_refused(mount: Path) -> None:
    clip = mount / "DCIM" / "100MEDIA" / "CLIP0001.MP4"
    clip.unlink()
    clip.symlink_to(mount.parent / "elsewhere" / "CLIP0001.MP4")
    with pytest.raises(SourceFileError) as caught:
        LocalVolume().open(mount, SourceFile(REL, 13, 0))
    assert caught.value.problem == "symlink-swapped"
