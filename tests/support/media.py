"""Real removable-media filesystems for integration tests.

The recorders dockd talks to expose FAT32/exFAT volumes, and the evidence store
must cope with a full or immutable disk. Fakes would hide exactly the quirks we
need to see, so these helpers build genuine images with the same tools a
technician would. This machine's kernel has no vfat/exfat driver, so FAT is
mounted through ``fusefat`` and exFAT through ``exfat-fuse``.

Caveat: fusefat (Debian 12) reports every FAT timestamp one month late (it
feeds the 1-based FAT month into ``struct tm``); the bytes on disk are right.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest

# Debian package that ships each tool, so a skip tells the reader what to run.
_PACKAGES = {
    "mkfs.vfat": "dosfstools",
    "mmd": "mtools",
    "mcopy": "mtools",
    "fusefat": "fusefat",
    "fusermount": "fuse3",
    "mkfs.exfat": "exfatprogs",
    "mount.exfat-fuse": "exfat-fuse",
    "losetup": "mount",
    "mount": "mount",
    "umount": "mount",
    "mkfs.ext4": "e2fsprogs",
    "chattr": "e2fsprogs",
}
# sbin is often missing from PATH under IDEs and CI runners even as root.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_TIMEOUT = 120


def _tools(*names: str, root: bool = False) -> dict[str, str]:
    """Skip (not fail) on a machine that lacks the tools, naming the fix."""
    found = {n: shutil.which(n, path=_SEARCH_PATH) for n in names}
    missing = sorted({_PACKAGES[n] for n, p in found.items() if p is None})
    if missing:
        pytest.skip(f"apt-get install -y {' '.join(missing)}")
    if root and os.geteuid() != 0:
        pytest.skip("run as root")
    fuse = any(n in ("fusefat", "mount.exfat-fuse") for n in names)
    if root and fuse and not os.path.exists("/dev/fuse"):
        pytest.skip("modprobe fuse (or give the container --device /dev/fuse)")
    return {n: p for n, p in found.items() if p is not None}


def _run(*cmd: str | Path) -> str:
    """Surface the tool's own stderr in the failure; CalledProcessError hides it.

    stdin is closed so an interactive prompt (mtools name clashes) fails fast
    instead of hanging the test run.
    """
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}
    proc = subprocess.run(
        [str(c) for c in cmd],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}: "
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc.stdout


def _parts(name: str) -> PurePosixPath:
    """Reject names that would escape the volume root."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"file names must be relative POSIX paths: {name!r}")
    return p


def _fresh_image(path: Path, size_mib: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size_mib * 1024 * 1024)


def _wait_mounted(mnt: Path) -> None:
    """FUSE daemons return before the kernel always shows the mount."""
    deadline = time.monotonic() + 10
    while not os.path.ismount(mnt):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{mnt} did not become a mount point")
        time.sleep(0.05)


def _unmount(mnt: Path) -> None:
    """Never leave a mount behind, even with busy files: fall back to lazy."""
    if not os.path.ismount(mnt):
        return
    fusermount = shutil.which("fusermount", path=_SEARCH_PATH)
    try:
        _run(*([fusermount, "-u"] if fusermount else ["umount"]), mnt)
    except RuntimeError:
        _run("umount", "-l", mnt)


def _attach(img: Path, readonly: bool) -> str:
    dev = _run("losetup", *(["-r"] if readonly else []), "-f", "--show", img).strip()
    if not readonly:
        # a reused loop device keeps the read-only flag dockd's write-blocker (BLKROSET) set
        _run("blockdev", "--setrw", dev)
    return dev


def _detach(dev: str, *, strict: bool) -> None:
    """Detach and wait until the kernel really lets go of the device.

    A FUSE daemon may hold the device a moment after unmount (or until a file
    left open on a lazily unmounted FS is closed); ``losetup -d`` then only
    sets autoclear. Waiting guarantees the daemon flushed its writes into the
    image; ``strict`` callers need that, others just get a warning rather
    than an error that would mask the test's own failure.
    """
    backing = Path("/sys/block", Path(dev).name, "loop", "backing_file")
    try:
        _run("losetup", "-d", dev)
    except RuntimeError:
        if not backing.exists():
            return
        raise
    deadline = time.monotonic() + 10
    while backing.exists():
        if time.monotonic() > deadline:
            msg = f"{dev} still busy after losetup -d; autoclear frees it on last close"
            if strict:
                raise RuntimeError(msg)
            warnings.warn(msg, ResourceWarning, stacklevel=2)
            return
        time.sleep(0.05)


def make_fat32_image(
    path: Path,
    files: Mapping[str, bytes],
    size_mib: int = 64,
    mtimes: Mapping[str, datetime] | None = None,
) -> Path:
    """Build a recorder-like FAT32 volume without mounting (mtools needs no root).

    ``mtimes`` are applied with ``mcopy -m``; FAT stores local wall-clock time
    with 2 s resolution, so naive datetimes round-trip as written.
    """
    tools = _tools("mkfs.vfat", "mmd", "mcopy")
    mtimes = dict(mtimes or {})
    if unknown := set(mtimes) - set(files):
        raise ValueError(f"mtimes for files not in files: {sorted(unknown)}")
    _fresh_image(path, size_mib)
    _run(tools["mkfs.vfat"], "-F", "32", path)
    made: set[PurePosixPath] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, data) in enumerate(files.items()):
            target = _parts(name)
            for parent in reversed(target.parents[:-1]):
                if parent not in made:
                    _run(tools["mmd"], "-i", path, f"::/{parent}")
                    made.add(parent)
            src = Path(tmp, str(i))
            src.write_bytes(data)
            if name in mtimes:
                ts = mtimes[name].timestamp()
                os.utime(src, (ts, ts))
            _run(tools["mcopy"], "-m", "-D", "o", "-i", path, src, f"::/{target}")
    return path


@contextmanager
def mounted_fat(img: Path, mnt: Path) -> Iterator[Path]:
    """Read-only, like dockd's own mount: the evidence source must not change."""
    tools = _tools("fusefat", "fusermount", "umount", root=True)
    mnt.mkdir(parents=True, exist_ok=True)
    _run(tools["fusefat"], "-o", "ro", img, mnt)
    try:
        _wait_mounted(mnt)
        yield mnt
    finally:
        _unmount(mnt)


def _write_tree(root: Path, files: Mapping[str, bytes], mtimes: Mapping[str, datetime]) -> None:
    for name, data in files.items():
        dest = root.joinpath(*_parts(name).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    # After all writes: set atime and mtime together, exfat-fuse drops
    # UTIME_OMIT-style updates (``touch -m``).
    for name, when in mtimes.items():
        ts = when.timestamp()
        os.utime(root.joinpath(*_parts(name).parts), (ts, ts))


def make_exfat_image(
    path: Path,
    files: Mapping[str, bytes],
    size_mib: int = 64,
    mtimes: Mapping[str, datetime] | None = None,
) -> Path:
    """Build an exFAT volume (large recorders) through a real read-write mount.

    There is no mtools equivalent for exFAT, so the files go in via exfat-fuse.
    """
    tools = _tools("losetup", "mkfs.exfat", "mount.exfat-fuse", "fusermount", "umount", root=True)
    mtimes = dict(mtimes or {})
    if unknown := set(mtimes) - set(files):
        raise ValueError(f"mtimes for files not in files: {sorted(unknown)}")
    _fresh_image(path, size_mib)
    with ExitStack() as stack:
        dev = _attach(path, readonly=False)
        stack.callback(_detach, dev, strict=True)
        _run(tools["mkfs.exfat"], dev)
        mnt = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="exfat-")))
        _run(tools["mount.exfat-fuse"], dev, mnt)
        stack.callback(_unmount, mnt)
        _wait_mounted(mnt)
        _write_tree(mnt, files, mtimes)
        os.sync()
    return path


@contextmanager
def mounted_exfat(img: Path, mnt: Path, readonly: bool = True) -> Iterator[Path]:
    """Mount an exFAT image; read-only by default (block device and FS both)."""
    tools = _tools("losetup", "mount.exfat-fuse", "fusermount", "umount", root=True)
    mnt.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        dev = _attach(img, readonly=readonly)
        stack.callback(_detach, dev, strict=False)
        _run(tools["mount.exfat-fuse"], *(["-o", "ro"] if readonly else []), dev, mnt)
        stack.callback(_unmount, mnt)
        _wait_mounted(mnt)
        yield mnt


@contextmanager
def small_ext4(path: Path, mnt: Path, size_mib: int, *mkfs_args: str) -> Iterator[Path]:
    """A tiny real filesystem, so ENOSPC and ``chattr +i`` behave for real."""
    tools = _tools("mkfs.ext4", "mount", "umount", "chattr", root=True)
    _fresh_image(path, size_mib)
    _run(tools["mkfs.ext4"], "-q", "-F", *mkfs_args, path)
    mnt.mkdir(parents=True, exist_ok=True)
    # -o loop sets autoclear, so unmounting also frees the loop device.
    _run(tools["mount"], "-o", "loop", path, mnt)
    try:
        yield mnt
    finally:
        # Best effort: immutable/append-only objects block later cleanup.
        with suppress(RuntimeError):
            _run(tools["chattr"], "-R", "-ia", mnt)
        try:
            _run(tools["umount"], mnt)
        except RuntimeError:
            _run(tools["umount"], "-l", mnt)


def strip_exfat_utc_offsets(image: Path, name: str) -> int:
    """Clear the UTC-offset fields of `name`'s exFAT directory entry set and fix the set's
    checksum: what a camera that keeps local time writes. Returns the sets changed."""
    data = bytearray(image.read_bytes())
    wanted = name.encode("utf-16-le")
    changed = 0
    for start in range(0, len(data) - 96, 32):
        secondaries = data[start + 1]
        if data[start] != 0x85 or secondaries < 2 or data[start + 32] != 0xC0:
            continue  # not a file entry followed by its stream extension
        end = start + 32 * (secondaries + 1)
        length = data[start + 32 + 3]
        names = b"".join(bytes(data[e + 2 : e + 32]) for e in range(start + 64, end, 32))
        if names[: 2 * length] != wanted:
            continue
        data[start + 22 : start + 25] = bytes(3)  # create, modify, access offsets: invalid
        checksum = 0
        for i, byte in enumerate(data[start:end]):
            if i not in (2, 3):
                checksum = ((((checksum & 1) << 15) | (checksum >> 1)) + byte) & 0xFFFF
        data[start + 2 : start + 4] = checksum.to_bytes(2, "little")
        changed += 1
    image.write_bytes(bytes(data))
    return changed


# --- damage, as a pulled card or a bad reader leaves it ------------------------------------


def _short_name(name: str) -> bytes:
    base, _, ext = name.upper().partition(".")
    if len(base) > 8 or len(ext) > 3:
        raise ValueError(f"{name!r} is not an 8.3 name")
    return base.ljust(8).encode() + ext.ljust(3).encode()


def fat_entry_offset(image: Path, name: str) -> int:
    """Where the one live short directory entry called `name` lies in a FAT image."""
    data = image.read_bytes()
    wanted = _short_name(name)
    found = [
        at
        for at in range(0, len(data) - 32, 32)
        if data[at : at + 11] == wanted and data[at + 11] != 0x0F
    ]
    if len(found) != 1:
        raise ValueError(f"{len(found)} directory entries called {name} in {image}")
    return found[0]


def fat_first_cluster(image: Path, name: str) -> int:
    with open(image, "rb") as fh:
        fh.seek(fat_entry_offset(image, name) + 20)
        entry = fh.read(12)
    return int.from_bytes(entry[0:2], "little") << 16 | int.from_bytes(entry[6:8], "little")


def patch_fat_entry(
    image: Path, name: str, *, first_cluster: int | None = None, size: int | None = None
) -> None:
    """Point a directory entry at another cluster (a cross-link, a loop) or give it a size
    its clusters cannot hold: the damage a card pulled during a write leaves."""
    at = fat_entry_offset(image, name)
    with open(image, "r+b") as fh:
        if first_cluster is not None:
            fh.seek(at + 20)
            fh.write((first_cluster >> 16).to_bytes(2, "little"))
            fh.seek(at + 26)
            fh.write((first_cluster & 0xFFFF).to_bytes(2, "little"))
        if size is not None:
            fh.seek(at + 28)
            fh.write(size.to_bytes(4, "little"))


def cut_short(image: Path, keep_bytes: int) -> None:
    """The device ends before its filesystem does (a card cut short, a failing reader)."""
    with open(image, "r+b") as fh:
        fh.truncate(keep_bytes)
