"""Getting the store's writes onto the disk: fsync one by one, or one syncfs(2) for many.

Each fsync on a journalling filesystem is a journal commit, which costs a small
recording more than its copy; one syncfs commits a whole batch. For one or two files
or folders an fsync each is cheaper: syncfs also waits for whatever else the
filesystem holds dirty.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Collection
from pathlib import Path

_FEW = 2
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syncfs.argtypes = (ctypes.c_int,)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _synced_whole(folder: Path) -> bool:
    """syncfs(2) of the filesystem holding `folder`; False where the kernel lacks it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if _libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            if err == errno.ENOSYS:
                return False
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)
    return True


def sync_files(files: Collection[Path], within: Path) -> None:
    """The contents of `files` (all under the folder `within`) on the disk."""
    if len(files) <= _FEW or not _synced_whole(within):
        for path in files:
            _fsync_file(path)


def sync_folders(folders: Collection[Path], within: Path) -> None:
    """The entries of `folders` (all under `within`) on the disk, deepest first."""
    if len(folders) <= _FEW or not _synced_whole(within):
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(folder)
