"""The boot-region reader and the FAT survey against images made by the real tools
(mkfs.vfat -F 12/16/32, mkfs.exfat, mtools), read as the daemon reads a docked device."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dockd.adapters.bootregion import examine
from dockd.adapters.rules import load_profiles
from dockd.adapters.volume import scan_volume
from dockd.core.completeness import check_unaccounted_space
from tests.support.media import make_fat32_image, mounted_fat

REPO = Path(__file__).resolve().parents[2]


def _mkfs(*cmd: str) -> None:
    if shutil.which(cmd[0]) is None:
        pytest.skip("apt-get install -y dosfstools exfatprogs")
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.mark.parametrize(
    ("bits", "size_mib", "kind"), [("12", 2, "FAT12"), ("16", 16, "FAT16"), ("32", 64, "FAT32")]
)
def test_mkfs_vfat_boot_sectors_give_the_volume_size(
    tmp_path: Path, bits: str, size_mib: int, kind: str
) -> None:
    img = tmp_path / "v.img"
    img.write_bytes(b"")
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(img)], check=True)
    _mkfs("mkfs.vfat", "-F", bits, str(img))
    evidence = examine(str(img))
    assert evidence.boot is not None and evidence.boot.kind == kind
    assert evidence.boot.volume_bytes == size_mib << 20
    assert [c.status for c in evidence.checks] == ["ok", "ok"]


def test_mkfs_exfat_boot_region_gives_the_volume_size_and_a_cut_is_seen(tmp_path: Path) -> None:
    img = tmp_path / "x.img"
    subprocess.run(["truncate", "-s", "64M", str(img)], check=True)
    _mkfs("mkfs.exfat", str(img))
    evidence = examine(str(img))
    assert evidence.boot is not None and evidence.boot.kind == "exFAT"
    assert evidence.boot.volume_bytes == 64 << 20 and evidence.checks[0].status == "ok"
    with open(img, "r+b") as fh:
        fh.truncate(40 << 20)
    [size] = examine(str(img)).checks
    assert [p.code for p in size.problems] == ["volume-truncated"]


def test_a_healthy_card_has_no_unaccounted_space(tmp_path: Path) -> None:
    files = {f"DCIM/100REC/CLIP{i:04d}.AVI": bytes([i]) * (700_000 + i) for i in range(40)}
    files |= {f"DCIM/{n:03d}MISC/NOTE.TXT": b"x" for n in range(20)}
    img = make_fat32_image(tmp_path / "ok.img", files)
    evidence = examine(str(img))
    assert evidence.boot is not None and evidence.fat_used_bytes is not None
    assert [c.status for c in evidence.checks] == ["ok", "ok"]
    profile = load_profiles(REPO / "rules")["generic"]
    with mounted_fat(img, tmp_path / "mnt") as mnt:
        scan = scan_volume(mnt, profile)
    result = check_unaccounted_space(
        evidence.fat_used_bytes,
        evidence.boot.cluster_size,
        scan.file_sizes,
        scan.directories,
        "the FAT's own count",
    )
    assert result.status == "ok", result.figures
    assert len(scan.file_sizes) == 60 and scan.directories == 22
