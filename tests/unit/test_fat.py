"""The FAT parsers on bytes laid out as the specifications say (real mkfs images are
read in tests/integration/test_completeness.py)."""

from __future__ import annotations

import struct

import pytest

from dockd.core.fat import FatError, decode_fat, follow_chain, parse_boot_region, parse_directory


def fat16_sector(total: int = 32768) -> bytes:
    s = bytearray(512)
    s[0:3] = b"\xeb\x3c\x90"
    struct.pack_into("<HBHBHHBH", s, 11, 512, 4, 4, 2, 512, total, 0xF8, 32)
    s[510:512] = b"\x55\xaa"
    return bytes(s)


def test_a_fat16_boot_sector_gives_size_and_geometry() -> None:
    boot = parse_boot_region(fat16_sector())
    assert (boot.kind, boot.volume_bytes, boot.cluster_size) == ("FAT16", 32768 * 512, 2048)
    assert boot.fat_offset == 4 * 512 and boot.root_dir_offset == (4 + 64) * 512
    assert boot.data_offset == (4 + 64 + 32) * 512


def test_the_volume_id_is_read_where_the_extended_boot_record_has_one() -> None:
    assert parse_boot_region(fat16_sector()).volume_id is None  # no signature 0x29
    sector = bytearray(fat16_sector())
    sector[38] = 0x29
    struct.pack_into("<I", sector, 39, 0x1234ABCD)
    assert parse_boot_region(bytes(sector)).volume_id == 0x1234ABCD


@pytest.mark.parametrize(
    ("patch", "says"),
    [
        (lambda s: s.__setitem__(slice(510, 512), b"\0\0"), "55 AA"),
        (lambda s: struct.pack_into("<H", s, 11, 700), "sector 700"),
        (lambda s: struct.pack_into("<H", s, 19, 50), "does not add up"),
    ],
)
def test_bytes_that_are_not_a_fat_boot_sector_say_why(patch: object, says: str) -> None:
    sector = bytearray(fat16_sector())
    patch(sector)  # type: ignore[operator]
    with pytest.raises(FatError, match=says):
        parse_boot_region(bytes(sector))


def test_an_exfat_boot_sector_gives_its_volume_length() -> None:
    s = bytearray(512)
    s[3:11] = b"EXFAT   "
    struct.pack_into("<QIIIII", s, 72, 131072, 2048, 128, 4096, 15872, 5)
    s[108], s[109], s[110] = 9, 3, 1
    s[510:512] = b"\x55\xaa"
    struct.pack_into("<I", s, 100, 0xCAFE0001)
    boot = parse_boot_region(bytes(s))
    assert (boot.kind, boot.volume_bytes, boot.cluster_size) == ("exFAT", 64 << 20, 4096)
    assert boot.volume_id == 0xCAFE0001
    s[20] = 1
    with pytest.raises(FatError, match="must-be-zero"):
        parse_boot_region(bytes(s))


def test_chains_stop_at_loops_free_clusters_and_the_volume_edge() -> None:
    boot = parse_boot_region(fat16_sector())
    entries = [0] * (boot.cluster_count + 2)
    entries[2:6] = [3, 0xFFFF, 5, 4]  # 2->3 end; 4->5->4 loops
    entries[6] = 0  # free
    entries[7] = 6
    raw = struct.pack(f"<{len(entries)}H", *entries) + b"\0" * 64
    table = decode_fat(boot, raw)
    assert follow_chain(table, 2).clusters == (2, 3) and follow_chain(table, 2).fault is None
    assert "its own cluster 4" in str(follow_chain(table, 4).fault)
    assert "a free cluster" in str(follow_chain(table, 7).fault)
    assert "outside the volume" in str(follow_chain(table, 10**6).fault)
    assert table.used == 5


def test_directory_entries_skip_long_names_deleted_and_dot_entries() -> None:
    def entry(name: bytes, attr: int, cluster: int, size: int) -> bytes:
        e = bytearray(32)
        e[0:11] = name
        e[11] = attr
        struct.pack_into("<H4xHI", e, 20, cluster >> 16, cluster & 0xFFFF, size)
        return bytes(e)

    raw = b"".join(
        [
            entry(b".          ", 0x10, 5, 0),
            entry(b"A" * 11, 0x0F, 0, 0),
            entry(b"\xe5OLD    AVI", 0x20, 9, 10),
            entry(b"DCIM       ", 0x10, 0x10005, 0),
            entry(b"CLIP0001AVI", 0x20, 7, 1234),
            bytes(32),
            entry(b"AFTEREND   ", 0x20, 8, 1),
        ]
    )
    found = parse_directory(raw)
    assert [(e.name, e.is_directory, e.first_cluster, e.size) for e in found] == [
        ("DCIM", True, 0x10005, 0),
        ("CLIP0001.AVI", False, 7, 1234),
    ]
