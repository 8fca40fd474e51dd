"""Reading a docked recorder's volume without trusting anything on it.

The scan never follows a symlink, copies regular files only, and reports every
other kind of entry as a problem rather than skipping it silently: an admin
must be able to see that a recorder held a FIFO or a link to /etc/passwd.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockd.core.completeness import directory_loop, is_directory_loop
from dockd.core.layout import is_recording, unsafe_component
from dockd.core.model import Problem, SourceFile, display_path, is_utf8
from dockd.core.profiles import RecorderProfile
from dockd.core.said import Said
from dockd.core.transfer import Scan
from dockd.errors import RecorderGoneError, SourceError, SourceFileError

MAX_DEPTH = 32
MAX_ENTRIES = 1_000_000
GONE_ERRNOS = frozenset({errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ESHUTDOWN})

_KINDS = (
    (stat.S_ISLNK, "symlink", Said("a symbolic link; dockd never follows links off a recorder")),
    (stat.S_ISFIFO, "fifo", Said("a FIFO; only regular files are copied")),
    (stat.S_ISCHR, "device", Said("a character device node; only regular files are copied")),
    (stat.S_ISBLK, "device", Said("a block device node; only regular files are copied")),
    (stat.S_ISSOCK, "socket", Said("a socket; only regular files are copied")),
)


def translate_source_error(exc: OSError, what: str) -> SourceError:
    """Tell a vanished recorder apart from a bad file: the first ends the session."""
    if exc.errno in GONE_ERRNOS:
        return RecorderGoneError("{what}: {strerror}", what=what, strerror=exc.strerror)
    problem = "symlink-swapped" if exc.errno == errno.ELOOP else "read-error"
    return SourceFileError("{what}: {value}", problem=problem, what=what, value=exc.strerror or exc)


def _not_regular(mode: int) -> tuple[str, Said] | None:
    for test, code, message in _KINDS:
        if test(mode):
            return f"not-regular-{code}", message
    return None


Listing = tuple[tuple[bytes, bool, int, int], ...]


@dataclass(frozen=True, slots=True)
class _Folder:
    """A folder on the way down: the identity and listing its descendants are held to."""

    rel: bytes
    identity: tuple[int, int]
    listing: Listing


def _listing(entries: list[os.DirEntry[bytes]]) -> Listing:
    """What a folder holds, as names, kinds, sizes and times: on FUSE, where the inode
    numbers are the driver's own, a folder that is its ancestor again lists the same."""
    shown = []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        shown.append((entry.name, stat.S_ISDIR(info.st_mode), info.st_size, info.st_mtime_ns))
    return tuple(sorted(shown))


def _list(root: bytes, rel: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(os.path.join(root, rel) if rel else root) as listing:
        return sorted(listing, key=lambda e: e.name)


def _same_below(root: bytes, a: bytes, b: bytes, listing: Listing) -> bool:
    """Two folders with the same listing whose subfolders list the same too: one is the
    other seen again (an empty X/X/X only looks like a loop one level deep)."""
    for name, is_dir, _, _ in listing:
        if not is_dir:
            continue
        try:
            mine = _listing(_list(root, a + b"/" + name if a else name))
            theirs = _listing(_list(root, b + b"/" + name if b else name))
        except OSError:
            return False
        if mine != theirs:
            return False
    return True


def _loop_of(root: bytes, here: _Folder, ancestors: list[_Folder]) -> _Folder | None:
    for folder in ancestors:
        if is_directory_loop(here.identity, [folder.identity]):
            return folder
        if here.listing == folder.listing and _same_below(root, here.rel, folder.rel, here.listing):
            return folder
    return None


def _entries(
    root: bytes, rel: bytes, ancestors: list[_Folder], scan: Scan
) -> Iterator[tuple[bytes, os.stat_result]]:
    try:
        entries = _list(root, rel)
        identity = os.stat(os.path.join(root, rel) if rel else root, follow_symlinks=False)
        here = _Folder(rel, (identity.st_dev, identity.st_ino), _listing(entries))
    except OSError as exc:
        if exc.errno in GONE_ERRNOS:
            raise translate_source_error(exc, f"listing {display_path(rel) or '/'}") from exc
        scan.problems.append(
            Problem(
                display_path(rel) or "/",
                "unreadable-directory",
                Said("cannot list this folder: {error}", error=exc.strerror),
            )
        )
        return
    again = _loop_of(root, here, ancestors)
    if again is not None:
        scan.problems.append(directory_loop(display_path(rel), display_path(again.rel) or "/"))
        return
    scan.directories += 1 if rel else 0
    below = [*ancestors, here]
    for entry in entries:
        name = entry.name
        path = rel + b"/" + name if rel else name
        reason = unsafe_component(name)
        if reason is not None:
            scan.problems.append(Problem(display_path(path), "unsafe-name", reason))
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as exc:
            if exc.errno in GONE_ERRNOS:
                raise translate_source_error(exc, f"reading {display_path(path)}") from exc
            scan.problems.append(
                Problem(
                    display_path(path),
                    "unreadable-entry",
                    Said("cannot read this entry: {error}", error=exc.strerror),
                )
            )
            continue
        if stat.S_ISDIR(info.st_mode):
            if len(ancestors) >= MAX_DEPTH:
                scan.problems.append(
                    Problem(
                        display_path(path),
                        "too-deep",
                        Said("folders nested deeper than {depth} are not read", depth=MAX_DEPTH),
                    )
                )
                continue
            yield from _entries(root, path, below, scan)
        else:
            yield path, info


def scan_volume(root: Path, profile: RecorderProfile) -> Scan:
    """Every recording on the volume under the profile, plus a problem per hostile entry."""
    scan = Scan()
    try:
        top = os.stat(root, follow_symlinks=True)
    except OSError as exc:
        raise translate_source_error(exc, f"cannot open {root}") from exc
    if not stat.S_ISDIR(top.st_mode):
        raise SourceError(
            "{root} is not a folder or a mounted recorder",
            hint="Give the mount point of the recorder, or a folder of recordings.",
            root=root,
        )
    seen = 0
    for path, info in _entries(os.fsencode(root), b"", [], scan):
        seen += 1
        if seen > MAX_ENTRIES:
            scan.problems.append(
                Problem(
                    "/",
                    "too-many-entries",
                    Said("more than {count} entries; the rest is not read", count=MAX_ENTRIES),
                )
            )
            break
        odd = _not_regular(info.st_mode)
        if odd is not None:
            scan.problems.append(Problem(display_path(path), *odd))
            continue
        scan.file_sizes.append(info.st_size)
        if not is_recording(profile, path):
            scan.other_files += 1
            continue
        if not is_utf8(path):
            scan.problems.append(
                Problem(
                    display_path(path),
                    "name-not-utf8",
                    Said("the name is not UTF-8; it is copied and kept byte-exact"),
                )
            )
        scan.recordings.append(SourceFile(path, info.st_size, info.st_mtime_ns))
    return scan


def open_beneath(root: bytes, rel: bytes) -> int:
    """Open rel under root without following any symlink on the way, even one swapped in
    after the scan: every component is opened relative to its parent with O_NOFOLLOW."""
    parts = rel.split(b"/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            child = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = child
        return os.open(
            parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd
        )
    finally:
        os.close(fd)


def read_small_file(root: bytes, rel: bytes, limit: int = 4096) -> bytes | None:
    """A small text file on the volume (a recorder's clock file), or None when absent.

    Read like any recorder file: no symlink followed, regular files only, and never
    more than `limit` bytes whatever the file claims to be."""
    try:
        fd = open_beneath(root, rel)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def stores_local_times(path: Path) -> bool:
    """Whether the filesystem under path keeps local wall-clock times (FAT) rather than
    instants: its file times must then be read in the recorder's time zone."""
    best, fstype = "", ""
    target = os.path.realpath(path)
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mountpoint = fields[1].replace("\\040", " ")
        inside = target == mountpoint or target.startswith(mountpoint.rstrip("/") + "/")
        if inside and len(mountpoint) > len(best):
            best, fstype = mountpoint, fields[2]
    return fstype in ("vfat", "msdos", "fuse.fusefat")


class _OpenedRecording:
    """One recording held open for one copy; its size and time before and after tell
    whether it changed while it was read."""

    def __init__(self, path: bytes, fd: int) -> None:
        self.path, self._fd = path, fd
        try:
            self._before = os.fstat(fd)
            if not stat.S_ISREG(self._before.st_mode):
                raise SourceFileError(
                    "the entry is no longer a regular file", problem="not-regular-file"
                )
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except OSError as exc:
            self.close()
            raise translate_source_error(exc, "read failed") from exc
        except SourceFileError:
            self.close()
            raise
        self.size = self._before.st_size

    def fileno(self) -> int:
        return self._fd

    def read(self, n: int) -> bytes:
        try:
            return os.read(self._fd, n)
        except OSError as exc:
            raise translate_source_error(exc, "read failed") from exc

    def as_copied(self) -> SourceFile | None:
        try:
            after = os.fstat(self._fd)
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError as exc:
            raise translate_source_error(exc, "read failed") from exc
        before = self._before
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            return None
        return SourceFile(self.path, after.st_size, after.st_mtime_ns)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)  # a dead FUSE mount fails even this


class LocalVolume:
    """The volume port over a mounted recorder or a folder."""

    def scan(self, root: Path, profile: RecorderProfile) -> Scan:
        return scan_volume(root, profile)

    def open(self, root: Path, file: SourceFile) -> _OpenedRecording:
        try:
            fd = open_beneath(os.fsencode(root), file.path)
        except OSError as exc:
            raise translate_source_error(exc, "cannot open") from exc
        return _OpenedRecording(file.path, fd)

    def read_small_file(self, root: Path, rel: str) -> bytes | None:
        return read_small_file(os.fsencode(root), rel.encode())

    def write_small_file(self, root: Path, rel: str, data: bytes) -> None:
        """The one write dockd makes to a recorder (its clock-set file), never via a link."""
        try:
            fd = os.open(root / rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SourceError(
                "cannot write {rel}: {strerror}", rel=rel, strerror=exc.strerror
            ) from exc

    def stores_local_times(self, root: Path) -> bool:
        return stores_local_times(root)

    def is_gone(self, root: Path) -> bool:
        return not os.path.isdir(root)

    def space_in_use(self, root: Path) -> tuple[int, int] | None:
        """Bytes in use and the allocation unit, as the mounted filesystem counts them; None
        when its driver does not count (fusefat reports no blocks at all)."""
        try:
            fs = os.statvfs(root)
        except OSError:
            return None
        if fs.f_blocks == 0:
            return None
        return (fs.f_blocks - fs.f_bfree) * fs.f_frsize, fs.f_bsize
