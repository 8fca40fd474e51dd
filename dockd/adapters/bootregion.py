"""Reading a docked recorder's filesystem from its raw bytes, before it is mounted.

Opened read-only and only ever read (`os.pread`); the device is write-blocked
already. What the driver will show is not trusted: the boot region's size against
the device's, the FAT's own count of clusters in use, and the directory tree walked
through the FAT (cross-links, sizes the chains cannot hold) are read here, and the
decisions made in `dockd.core.completeness`.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct

from dockd.core.completeness import CheckResult, FatSurvey, check_volume_size, is_directory_loop
from dockd.core.fat import (
    BootRegion,
    FatError,
    FatTable,
    decode_fat,
    follow_chain,
    parse_boot_region,
    parse_directory,
)
from dockd.core.model import Problem
from dockd.core.transfer import VolumeEvidence
from dockd.errors import SourceError

BLKGETSIZE64 = 0x80081272
MAX_DEPTH = 32
MAX_DIRECTORIES = 100_000


def device_size(fd: int) -> int:
    """A block device's size from the kernel; an image file's from its length."""
    if stat.S_ISBLK(os.fstat(fd).st_mode):
        return int(struct.unpack("<Q", fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8))[0])
    return os.fstat(fd).st_size


class _Walk:
    """The FAT directory tree, read cluster by cluster."""

    def __init__(self, fd: int, boot: BootRegion, table: FatTable) -> None:
        self.fd, self.boot, self.table = fd, boot, table
        self.survey = FatSurvey(boot.cluster_size)
        self.directories = 0

    def _read(self, clusters: tuple[int, ...]) -> bytes:
        size = self.boot.cluster_size
        return b"".join(os.pread(self.fd, size, self.boot.cluster_offset(c)) for c in clusters)

    def run(self) -> CheckResult:
        if self.boot.kind == "FAT32":
            root = follow_chain(self.table, self.boot.root_cluster)
            listing = self._read(root.clusters)
        else:
            listing = os.pread(self.fd, self.boot.root_dir_bytes, self.boot.root_dir_offset)
        self._directory("", listing, [0, self.boot.root_cluster], 0)
        return self.survey.result()

    def _directory(self, path: str, listing: bytes, ancestors: list[int], depth: int) -> None:
        for entry in parse_directory(listing):
            here = f"{path}/{entry.name}" if path else entry.name
            if entry.is_directory and is_directory_loop(entry.first_cluster, ancestors):
                continue  # the mounted scan names the loop, on the path the officer sees
            if entry.first_cluster == 0:
                if entry.size > 0:  # an empty file owns no cluster; this one claims bytes
                    self.survey.claim(here, entry, follow_chain(self.table, 0))
                continue
            chain = follow_chain(self.table, entry.first_cluster)
            self.survey.claim(here, entry, chain)
            if entry.is_directory and depth < MAX_DEPTH and self.directories < MAX_DIRECTORIES:
                self.directories += 1
                below = [*ancestors, entry.first_cluster]
                self._directory(here, self._read(chain.clusters), below, depth + 1)


def examine(devnode: str) -> VolumeEvidence:
    """What the recorder's own filesystem says, read-only, before any driver mounts it."""
    try:
        fd = os.open(devnode, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(
            "cannot open {devnode}: {strerror}", devnode=devnode, strerror=exc.strerror
        ) from exc
    try:
        size = device_size(fd)
        try:
            boot = parse_boot_region(os.pread(fd, 512, 0))
        except FatError as exc:
            return VolumeEvidence(size, None, exc.said)
        checks = [check_volume_size(boot, size)]
        if boot.kind == "exFAT":
            return VolumeEvidence(size, boot, None, tuple(checks))
        try:
            table = decode_fat(boot, os.pread(fd, boot.fat_bytes, boot.fat_offset))
        except FatError as exc:
            checks.append(
                CheckResult(
                    "fat-consistency",
                    "problem",
                    "the FAT could not be read",
                    problems=(Problem("/", "fat-unreadable", exc.said),),
                )
            )
            return VolumeEvidence(size, boot, None, tuple(checks))
        checks.append(_Walk(fd, boot, table).run())
        return VolumeEvidence(size, boot, None, tuple(checks), table.used * boot.cluster_size)
    except OSError as exc:
        raise SourceError(
            "cannot read {devnode}: {strerror}", devnode=devnode, strerror=exc.strerror
        ) from exc
    finally:
        os.close(fd)


class RawVolumes:
    """The raw-volume port: the recorder's filesystem read from its block device."""

    def examine(self, devnode: str) -> VolumeEvidence:
        return examine(devnode)
