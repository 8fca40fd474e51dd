"""Looking at and deleting single files on a recorder's read-write mount, for clearing.

Every path is walked from the mount root one component at a time with O_NOFOLLOW, as the
copy reads them: a symlink swapped in after the scan leads nowhere. Only regular files are
ever unlinked (unlinkat without AT_REMOVEDIR cannot take a directory), and the directory
is fsynced so the deletion is on the medium before its custody event says so.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dockd.core.model import SourceFile
from dockd.errors import RecorderClearError


def _parent_fd(root: Path, path: bytes) -> tuple[int, bytes]:
    parts = path.split(b"/")
    fd = os.open(os.fsencode(root), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            child = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd, parts[-1]


class LocalRecorderFiles:
    """`dockd.ports.RecorderFiles` over a mounted recorder."""

    def look(self, root: Path, path: bytes) -> SourceFile | None:
        """The file's size and time now; None when it is gone or not a regular file."""
        try:
            fd, name = _parent_fd(root, path)
        except OSError:
            return None
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            return None
        finally:
            os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        return SourceFile(path, info.st_size, info.st_mtime_ns)

    def remove(self, root: Path, path: bytes) -> None:
        shown = path.decode(errors="backslashreplace")
        try:
            fd, name = _parent_fd(root, path)
        except OSError as exc:
            raise RecorderClearError(
                "cannot reach {shown}: {strerror}", shown=shown, strerror=exc.strerror
            ) from exc
        try:
            os.unlink(name, dir_fd=fd)
            os.fsync(fd)
        except OSError as exc:
            raise RecorderClearError(
                "cannot delete {shown}: {strerror}", shown=shown, strerror=exc.strerror
            ) from exc
        finally:
            os.close(fd)
