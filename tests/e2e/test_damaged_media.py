"""Damaged recorders docked through real udevd as loop devices: each damage is named on the
session (and in its manifest), and every readable recording is still copied exactly."""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Daemon,
    Dock,
    blob,
    exfat_recorder,
    fat32_recorder,
    wait_for,
)
from tests.support.media import cut_short, fat_first_cluster, patch_fat_entry

pytestmark = pytest.mark.root
MiB = 1 << 20


def _clip(serial: str, n: int, day: int = 22) -> str:
    return f"{serial}_007_202611{day:02d}{8 + n // 60:02d}{n % 60:02d}00_{n:04d}.AVI"


@pytest.fixture
def daemon(daemon: Daemon) -> Daemon:
    """Started: these recorders are docked while it runs."""
    daemon.start()
    return daemon


def _session(daemon: Daemon, serial: str, count: int = 1) -> dict[str, Any]:
    done = wait_for(partial(daemon.finished, serial, count), 120, f"{serial} to finish")
    return sorted(done, key=lambda s: s["started_at"])[-1]


def _codes(session: dict[str, Any]) -> set[str]:
    return {p["code"] for p in session["problems"]}


def _copied(daemon: Daemon, serial: str) -> dict[str, str]:
    return {r["path"]: r["sha256"] for r in daemon.recordings() if r["serial"] == serial}


def _sha(files: dict[str, bytes], *names: str) -> dict[str, str]:
    return {n: hashlib.sha256(files[n]).hexdigest() for n in names}


def _manifest_checks(daemon: Daemon, session: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = session["manifest"]
    path = daemon.home / "store" / "objects" / "blake3" / key[:2] / key
    return {c["name"]: c for c in json.loads(path.read_bytes())["checks"]}


def test_a_card_cut_short_is_truncated_and_its_space_unaccounted(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {f"DCIM/{_clip('SNCUT', i)}": blob(f"cut{i}", 4 * MiB) for i in range(1, 11)}
    img = fat32_recorder(tmp_path / "SNCUT.dockrec", "SNCUT", files)
    cut_short(img, 20 * MiB)
    dock.plug(img)

    session = _session(daemon, "SNCUT")
    assert session["state"] == "completed_with_problems"
    assert {"volume-truncated", "unaccounted-space"} <= _codes(session), session["problems"]
    [truncated] = [p for p in session["problems"] if p["code"] == "volume-truncated"]
    assert "67108864" in truncated["message"] and "20971520" in truncated["message"]
    copied = _copied(daemon, "SNCUT")
    whole = [f"DCIM/{_clip('SNCUT', i)}" for i in (1, 2, 3)]  # wholly inside the first 20 MiB
    assert set(whole) <= set(copied)
    assert copied == _sha(files, *copied)
    checks = _manifest_checks(daemon, session)
    assert checks["volume-size"]["figures"]["device_bytes"] == 20 * MiB
    assert checks["unaccounted-space"]["figures"]["unaccounted_mib"] >= 4  # a clip or more


def test_folders_pointing_at_the_root_and_at_their_parent_are_loops_not_followed(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {f"DCIM/100REC/{_clip('SNLOOP', i)}": blob(f"loop{i}", 300_000) for i in (1, 2, 3)}
    img = fat32_recorder(tmp_path / "SNLOOP.dockrec", "SNLOOP", files)
    subprocess.run(
        ["mmd", "-i", str(img), "::/DCIM/LOOP", "::/DCIM/100REC/BACK"],
        check=True,
        env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"},
    )
    patch_fat_entry(img, "LOOP", first_cluster=2)  # the FAT32 root directory's cluster
    patch_fat_entry(img, "BACK", first_cluster=fat_first_cluster(img, "100REC"))
    dock.plug(img)

    session = _session(daemon, "SNLOOP")
    loops = {p["path"] for p in session["problems"] if p["code"] == "directory-loop"}
    assert loops == {"DCIM/LOOP", "DCIM/100REC/BACK"}, session["problems"]
    assert session["state"] == "completed_with_problems"
    assert _copied(daemon, "SNLOOP") == _sha(files, *files)  # each once, at its real path
    assert _manifest_checks(daemon, session)["directory-loops"]["figures"]["loops"] == 2
    status = daemon.cli("status", "--json")
    [card] = [c for c in json.loads(status.stdout)["slots"] if c["serial"] == "SNLOOP"]
    assert card["safe_to_unplug"] and card["hand_to_admin"], card
    assert "directory-loop" in card["message"]


def test_cross_linked_and_overrunning_entries_are_named(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {f"DCIM/CLIP000{i}.AVI": blob(f"x{i}", 200_000) for i in (1, 2, 3, 4)}
    img = fat32_recorder(tmp_path / "SNXLINK.dockrec", "SNXLINK", files)
    patch_fat_entry(img, "CLIP0002.AVI", first_cluster=fat_first_cluster(img, "CLIP0001.AVI"))
    patch_fat_entry(img, "CLIP0004.AVI", size=2_000_000)
    dock.plug(img)

    session = _session(daemon, "SNXLINK")
    named = {(p["path"], p["code"]) for p in session["problems"]}
    assert {("DCIM/CLIP0002.AVI", "cross-linked"), ("DCIM/CLIP0004.AVI", "size-overrun")} <= named
    copied = _copied(daemon, "SNXLINK")
    assert {k: copied[k] for k in ("DCIM/CLIP0001.AVI", "DCIM/CLIP0003.AVI")} == _sha(
        files, "DCIM/CLIP0001.AVI", "DCIM/CLIP0003.AVI"
    )
    assert _manifest_checks(daemon, session)["fat-consistency"]["status"] == "problem"


def test_an_exfat_volume_cut_short_is_truncated(dock: Dock, daemon: Daemon, tmp_path: Path) -> None:
    files = {_clip("SNEXCUT", i): blob(f"ex{i}", 1 * MiB) for i in (1, 2, 3)}
    img = exfat_recorder(tmp_path / "SNEXCUT.dockrec", "SNEXCUT", files)
    cut_short(img, 48 * MiB)
    dock.plug(img)

    session = _session(daemon, "SNEXCUT")
    # exfat-fuse refuses a volume larger than its device; the session still says why
    assert session["state"] == "failed"
    assert _codes(session) == {"volume-truncated", "MOUNT_FAILED"}, session["problems"]
    assert _copied(daemon, "SNEXCUT") == {}


def test_clip_numbers_that_jump_within_and_between_sessions_and_a_format(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    def dock_once(folder: str, numbers: list[int], day: int, count: int) -> dict[str, Any]:
        (tmp_path / folder).mkdir()
        files = {f"DCIM/{_clip('SNSEQ', n, day)}": blob(f"{day}-{n}", 100_000) for n in numbers}
        img = fat32_recorder(tmp_path / folder / "SNSEQ.dockrec", "SNSEQ", files)
        dev = dock.plug(img)
        session = _session(daemon, "SNSEQ", count)
        dock.unplug(dev)
        assert {k: v for k, v in _copied(daemon, "SNSEQ").items() if k in files} == _sha(
            files, *files
        )
        return session

    first = dock_once("a", [1, 8, 9], 20, 1)
    [hole] = [p for p in first["problems"] if p["code"] == "recordings-missing"]
    assert "numbered 2-7 " in hole["message"]

    second = dock_once("b", [12, 13], 21, 2)  # 1-9 deleted after the offload; 10-11 never seen
    [skipped] = [p for p in second["problems"] if p["code"] == "recordings-missing"]
    assert "numbered 10-11 " in skipped["message"]

    third = dock_once("c", [1, 2], 22, 3)  # formatted: back to 1
    assert _codes(third) == {"sequence-reset"}, third["problems"]

    report = daemon.cli("report", "deadlines", "--json")
    found = {(i["session"], i["code"]) for i in json.loads(report.stdout)["incomplete_offloads"]}
    assert {
        (first["id"], "recordings-missing"),
        (second["id"], "recordings-missing"),
        (third["id"], "sequence-reset"),
    } <= found
