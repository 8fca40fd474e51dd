"""A recorder's FAT12/16/32 or exFAT volume described by its own bytes.

The driver that mounts a damaged card decides what it shows (the FUSE drivers go
silent, the kernel's return EIO), so dockd reads the filesystem's own account: the
boot region's size and geometry, the allocation table, the directory entries. Every
field is hostile input; anything that does not add up is a `FatError`, never an
IndexError. Field offsets: Microsoft's FAT specification (2005) and exFAT
specification (2019).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from dockd.core.said import Said

SECTOR_SIGNATURE = b"\x55\xaa"
FatKind = Literal["FAT12", "FAT16", "FAT32", "exFAT"]
ATTR_DIRECTORY = 0x10
ATTR_VOLUME_ID = 0x08
ATTR_LONG_NAME = 0x0F


class FatError(ValueError):
    """The bytes are not a FAT or exFAT boot region, or contradict themselves; `said` is
    why, for the reader's language."""

    def __init__(self, said: Said) -> None:
        super().__init__(said)
        self.said = said


@dataclass(frozen=True, slots=True)
class BootRegion:
    """What the boot sector says the volume is: its size, its clusters, where things are."""

    kind: FatKind
    bytes_per_sector: int
    cluster_size: int
    volume_bytes: int
    cluster_count: int
    fat_offset: int
    fat_bytes: int
    data_offset: int
    root_cluster: int
    root_dir_offset: int = 0
    root_dir_bytes: int = 0
    #: the serial number mkfs gave the volume (blkid's UUID), None when the sector has none
    volume_id: int | None = None

    def cluster_offset(self, cluster: int) -> int:
        return self.data_offset + (cluster - 2) * self.cluster_size


def parse_boot_region(sector: bytes) -> BootRegion:
    """The first sector of the volume, as FAT or exFAT."""
    if len(sector) < 512:
        raise FatError(Said("boot sector too short ({size} bytes)", size=len(sector)))
    if sector[510:512] != SECTOR_SIGNATURE:
        raise FatError(Said("no boot signature 55 AA at offset 510"))
    if sector[3:11] == b"EXFAT   ":
        return _exfat(sector)
    return _fat(sector)


def _fat(s: bytes) -> BootRegion:
    (per_sector, per_cluster, reserved, fats, root_entries, total16, _media, fat16) = (
        struct.unpack_from("<HBHBHHBH", s, 11)
    )
    (total32, fat32, root_cluster) = struct.unpack_from("<I", s, 32) + struct.unpack_from(
        "<I4xI", s, 36
    )
    if per_sector not in (512, 1024, 2048, 4096) or per_cluster not in (
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
    ):
        raise FatError(
            Said(
                "not a FAT boot sector (sector {sector}, cluster {cluster})",
                sector=per_sector,
                cluster=per_cluster,
            )
        )
    if reserved == 0 or fats == 0:
        raise FatError(Said("not a FAT boot sector (no reserved sectors or no FAT)"))
    fat_sectors = fat16 or fat32
    total = total16 or total32
    root_sectors = (root_entries * 32 + per_sector - 1) // per_sector
    data_start = reserved + fats * fat_sectors + root_sectors
    if fat_sectors == 0 or total <= data_start:
        raise FatError(
            Said(
                "FAT geometry does not add up ({total} sectors, data at {data_start})",
                total=total,
                data_start=data_start,
            )
        )
    clusters = (total - data_start) // per_cluster
    kind: FatKind = "FAT12" if clusters < 4085 else "FAT16" if clusters < 65525 else "FAT32"
    if kind == "FAT32" and (fat16 != 0 or root_entries != 0 or root_cluster < 2):
        raise FatError(Said("FAT32 boot sector with a FAT16 root directory"))
    return BootRegion(
        kind=kind,
        bytes_per_sector=per_sector,
        cluster_size=per_sector * per_cluster,
        volume_bytes=total * per_sector,
        cluster_count=clusters,
        fat_offset=reserved * per_sector,
        fat_bytes=fat_sectors * per_sector,
        data_offset=data_start * per_sector,
        root_cluster=root_cluster if kind == "FAT32" else 0,
        root_dir_offset=(reserved + fats * fat_sectors) * per_sector,
        root_dir_bytes=root_entries * 32,
        volume_id=_fat_volume_id(s, 64 if kind == "FAT32" else 36),
    )


def _fat_volume_id(s: bytes, drive: int) -> int | None:
    """The volume serial of a FAT extended boot record (signature 0x29 after the drive
    number); older formats have none."""
    if s[drive + 2] != 0x29:
        return None
    return int(struct.unpack_from("<I", s, drive + 3)[0])


def _exfat(s: bytes) -> BootRegion:
    if any(s[11:64]):
        raise FatError(Said("exFAT boot sector with data in its must-be-zero field"))
    (length, fat_offset, fat_length, heap, clusters, root) = struct.unpack_from("<QIIIII", s, 72)
    sector_shift, cluster_shift = s[108], s[109]
    if not 9 <= sector_shift <= 12 or sector_shift + cluster_shift > 25:
        raise FatError(
            Said(
                "exFAT sector/cluster shifts out of range ({sector_shift}, {cluster_shift})",
                sector_shift=sector_shift,
                cluster_shift=cluster_shift,
            )
        )
    per_sector = 1 << sector_shift
    if heap == 0 or clusters == 0 or root < 2:
        raise FatError(Said("exFAT boot sector without a cluster heap or root directory"))
    return BootRegion(
        kind="exFAT",
        bytes_per_sector=per_sector,
        cluster_size=per_sector << cluster_shift,
        volume_bytes=length * per_sector,
        cluster_count=clusters,
        fat_offset=fat_offset * per_sector,
        fat_bytes=fat_length * per_sector,
        data_offset=heap * per_sector,
        root_cluster=root,
        volume_id=int(struct.unpack_from("<I", s, 100)[0]),
    )


@dataclass(frozen=True, slots=True)
class FatTable:
    """One copy of a FAT12/16/32 allocation table, decoded."""

    entries: tuple[int, ...]
    end_of_chain: int
    bad: int

    @property
    def used(self) -> int:
        """Clusters the table says hold something (neither free nor marked bad)."""
        return sum(1 for e in self.entries[2:] if e != 0 and e != self.bad)


def decode_fat(boot: BootRegion, raw: bytes) -> FatTable:
    count = boot.cluster_count + 2
    if boot.kind == "FAT12":
        if len(raw) < (count * 3 + 1) // 2:
            raise FatError(Said("FAT12 table shorter than its clusters"))
        entries = []
        for n in range(count):
            pair = int.from_bytes(raw[n * 3 // 2 : n * 3 // 2 + 2], "little")
            entries.append(pair >> 4 if n & 1 else pair & 0xFFF)
        return FatTable(tuple(entries), 0xFF8, 0xFF7)
    width, mask, eoc = (2, 0xFFFF, 0xFFF8) if boot.kind == "FAT16" else (4, 0x0FFFFFFF, 0x0FFFFFF8)
    if boot.kind == "exFAT" or len(raw) < count * width:
        raise FatError(Said("{kind} table shorter than its clusters", kind=boot.kind))
    fmt = "<" + ("H" if width == 2 else "I") * count
    return FatTable(tuple(e & mask for e in struct.unpack_from(fmt, raw)), eoc, eoc - 1)


@dataclass(frozen=True, slots=True)
class Chain:
    """A cluster chain as the table links it; `fault` says why it stopped early."""

    clusters: tuple[int, ...]
    fault: Said | None


def follow_chain(table: FatTable, first: int) -> Chain:
    """The clusters from `first` to the end-of-chain mark, stopping at a loop, a free or
    bad cluster, or a link outside the volume."""
    seen: list[int] = []
    members: set[int] = set()
    here = first
    while True:
        if not 2 <= here < len(table.entries):
            return Chain(
                tuple(seen), Said("links to cluster {cluster}, outside the volume", cluster=here)
            )
        if here in members:
            return Chain(tuple(seen), Said("links back to its own cluster {cluster}", cluster=here))
        seen.append(here)
        members.add(here)
        following = table.entries[here]
        if following >= table.end_of_chain:
            return Chain(tuple(seen), None)
        if following == 0 or following == table.bad:
            fault = (
                Said("links to a free cluster after cluster {cluster}", cluster=here)
                if following == 0
                else Said("links to a bad cluster after cluster {cluster}", cluster=here)
            )
            return Chain(tuple(seen), fault)
        here = following


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One short-name directory entry (long names are the mounted view's business)."""

    name: str
    is_directory: bool
    first_cluster: int
    size: int


def parse_directory(raw: bytes) -> list[DirEntry]:
    """The live short entries of a FAT directory, without '.' and '..'."""
    found = []
    for at in range(0, len(raw) - 31, 32):
        entry = raw[at : at + 32]
        if entry[0] == 0:
            break
        attr = entry[11]
        if entry[0] == 0xE5 or attr == ATTR_LONG_NAME or attr & ATTR_VOLUME_ID:
            continue
        if entry[0:1] == b".":
            continue
        high, low, size = struct.unpack_from("<H4xHI", entry, 20)
        base = entry[0:8].decode("latin-1").rstrip()
        ext = entry[8:11].decode("latin-1").rstrip()
        found.append(
            DirEntry(
                name=f"{base}.{ext}" if ext else base,
                is_directory=bool(attr & ATTR_DIRECTORY),
                first_cluster=high << 16 | low,
                size=size,
            )
        )
    return found
