"""`dockd ingest` end to end on real folders and real FAT32 images: what an admin sees."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from blake3 import blake3

from tests.conftest import Dockd
from tests.support.media import make_fat32_image, mounted_fat

NAME = "ABC123_007_20261122081500_{:04d}.MP4"


def _blob(seed: int, size: int) -> bytes:
    block = hashlib.sha256(seed.to_bytes(8, "big")).digest()
    return (block * (size // len(block) + 1))[:size]


def _hostile_recorder(root: Path) -> dict[bytes, bytes]:
    """A recorder with every kind of entry a broken or malicious device could present."""
    (root / "DCIM" / "100MEDIA").mkdir(parents=True)
    files = {
        NAME.format(1).encode(): _blob(1, 3 << 20),
        b"DCIM/100MEDIA/" + NAME.format(2).encode(): _blob(2, 70_000),
        b"empty.wav": b"",
        b"bad\xff\xfename.mp4": _blob(3, 1000),
        b"..\\..\\etc\\passwd.mp4": b"just a name with backslashes",
    }
    for rel, data in files.items():
        (Path(os.fsdecode(root)) / os.fsdecode(rel)).write_bytes(data)
    (root / "DEVCLOCK.TXT").write_text("2026-11-22 08:00:00\n")
    os.symlink("/etc/passwd", root / "passwd.mp4")
    os.symlink("/etc", root / "etc-link")
    os.mkfifo(root / "pipe.mp4")
    return files


def _session(dockd: Dockd, index: int = -1) -> dict:
    return dockd.json("sessions")[index]


def test_hostile_entries_are_reported_and_every_real_recording_is_copied(
    dockd: Dockd, tmp_path: Path
) -> None:
    src = tmp_path / "recorder"
    src.mkdir()
    files = _hostile_recorder(src)

    result = dockd.ingest(src, "ABC123")

    assert result.returncode == 1, "problems must make the exit code 1"
    session = _session(dockd)
    assert session["state"] == "completed_with_problems"
    assert session["recordings"] == len(files)
    codes = {(p["path"], p["code"]) for p in session["problems"]}
    assert ("passwd.mp4", "not-regular-symlink") in codes
    assert ("etc-link", "not-regular-symlink") in codes
    assert ("pipe.mp4", "not-regular-fifo") in codes
    assert ("bad\\xff\\xfename.mp4", "name-not-utf8") in codes
    recordings = {r["path"]: r for r in dockd.json("recordings")}
    assert "passwd.mp4" not in recordings and "DEVCLOCK.TXT" not in recordings
    for rel, data in files.items():
        rec = recordings[rel.decode("utf-8", "backslashreplace")]
        stored = (dockd.store / rec["object"]).read_bytes()
        assert stored == data
        assert rec["blake3"] == blake3(data).hexdigest()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest()
        assert rec["size"] == len(data)
        assert rec["verify_method"] in ("o_direct", "fadvise_dontneed")
    odd = recordings["bad\\xff\\xfename.mp4"]
    assert bytes.fromhex(odd["path_raw_hex"]) == b"bad\xff\xfename.mp4"


def test_names_and_times_from_the_file_name(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    (src / "ABC123_007_20261122081500_0042_IMP.MP4").write_bytes(b"x" * 100)
    dockd.run("ingest", str(src), "--serial", "ABC123")
    [rec] = dockd.json("recordings")
    assert rec["start"] == "2026-11-22T00:15:00+00:00"  # 08:15 in the profile's Asia/Shanghai
    assert rec["time_source"] == "name"
    assert (rec["badge"], rec["sequence"], rec["important"]) == ("007", 42, True)


def test_serial_in_names_disagreeing_with_the_dock_is_a_problem(
    dockd: Dockd, tmp_path: Path
) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    (src / "OTHER9_007_20261122081500_0001.MP4").write_bytes(b"x")
    assert dockd.ingest(src, "ABC123").returncode == 1
    assert [p["code"] for p in _session(dockd)["problems"]] == [
        "serial-mismatch",
        "container-truncated",
    ]
    assert len(dockd.json("recordings")) == 1


def test_rerun_adds_nothing_and_shared_content_is_stored_once(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    (src / NAME.format(1)).write_bytes(_blob(7, 200_000))
    (src / NAME.format(2)).write_bytes(_blob(7, 200_000))  # same bytes, another recording
    # random bytes named .MP4: each is a container problem (exit 1), and still copied
    assert dockd.ingest(src, "ABC123").returncode == 1
    objects_after_first = dockd.objects()
    recordings = dockd.json("recordings")
    assert len(recordings) == 2 and recordings[0]["object"] == recordings[1]["object"]

    dockd.ingest(src, "ABC123")

    assert dockd.json("recordings") == recordings
    second = _session(dockd)
    assert (second["recordings"], second["already_verified"]) == (0, 2)
    # only the second session's manifest is new in the store
    assert len(dockd.objects()) == len(objects_after_first) + 1
    assert dockd.run("audit", "verify").returncode == 0


def test_manifest_lets_a_person_check_the_store_with_b3sum_and_sha256sum(
    dockd: Dockd, tmp_path: Path
) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    for i in range(3):
        (src / NAME.format(i)).write_bytes(_blob(i, 10_000 * (i + 1)))
    dockd.ingest(src, "ABC123")
    session = _session(dockd)
    manifest_path = (
        dockd.store / "objects" / "blake3" / session["manifest"][:2] / session["manifest"]
    )
    manifest = json.loads(manifest_path.read_bytes())
    assert manifest["session"] == session["id"] and manifest["not_copied"] == []
    assert {r["path"] for r in manifest["recordings"]} == {NAME.format(i) for i in range(3)}

    b3_lines = "".join(f"{r['blake3']}  {r['object']}\n" for r in manifest["recordings"])
    sha_lines = "".join(f"{r['sha256']}  {r['object']}\n" for r in manifest["recordings"])
    for tool, lines in (("b3sum", b3_lines), ("sha256sum", sha_lines)):
        check = subprocess.run(
            [tool, "--check"], input=lines, text=True, cwd=dockd.store, capture_output=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run(["b3sum", str(manifest_path)], check=True, capture_output=True)
    assert blake3(manifest_path.read_bytes()).hexdigest() == session["manifest"]


def test_objects_are_read_only_and_immutable_when_root(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "rec"
    src.mkdir()
    (src / NAME.format(1)).write_bytes(b"evidence")
    dockd.ingest(src, "ABC123")
    [rec] = dockd.json("recordings")
    path = dockd.store / rec["object"]
    assert path.stat().st_mode & 0o777 == 0o444
    if os.geteuid() == 0:
        assert rec["protections"] == ["mode-0444", "immutable"]
        with pytest.raises(PermissionError):
            path.unlink()
        with pytest.raises(PermissionError):
            path.open("ab")


def test_a_folder_that_is_not_there(dockd: Dockd, tmp_path: Path) -> None:
    result = dockd.ingest(tmp_path / "missing")
    assert result.returncode == 1
    assert _session(dockd)["state"] == "failed"
    assert _session(dockd)["error_code"] == "SOURCE_UNREADABLE"


def test_unknown_profile_is_a_usage_error(dockd: Dockd, tmp_path: Path) -> None:
    result = dockd.ingest(tmp_path, "S", "--profile", "nosuch")
    assert result.returncode == 2
    assert "PROFILE_UNKNOWN" in result.stderr and "generic" in result.stderr


@pytest.mark.root
def test_fat32_image_through_a_read_only_mount(dockd: Dockd, tmp_path: Path) -> None:
    files = {f"DCIM/100MEDIA/2026112{i}_081500_0001.MP4": _blob(i, 50_000 + i) for i in range(4)}
    files["DEVCLOCK.TXT"] = b"2026-11-22 08:00:00\n"
    img = make_fat32_image(tmp_path / "rec.img", files)
    with mounted_fat(img, tmp_path / "mnt") as mnt:
        result = dockd.run("ingest", str(mnt), "--serial", "DCIM01", "--profile", "dcim")
    assert result.returncode == 1, result.stderr  # random bytes named .MP4: container problems
    recordings = {r["path"]: r for r in dockd.json("recordings")}
    assert set(recordings) == {p for p in files if p.endswith(".MP4")}
    for path, rec in recordings.items():
        assert rec["blake3"] == blake3(files[path]).hexdigest()
        assert rec["time_source"] == "name"


def test_ten_thousand_small_files(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "rec"
    for folder in range(10):
        (src / f"{folder:03d}").mkdir(parents=True)
    for i in range(10_000):
        (src / f"{i % 10:03d}" / NAME.format(i)).write_bytes(i.to_bytes(4, "big") * 256)
    result = dockd.ingest(src, "ABC123")
    session = _session(dockd)
    assert session["recordings"] == 10_000, result.stderr[-2000:]
    assert dockd.staging_files() == []
    assert len(dockd.objects()) == 10_001  # + the manifest
