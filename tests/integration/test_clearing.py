"""Clearing on a real FAT32 recorder (loop device, fusefat read-write mount) with a real
SQLite ledger: between the copy and the clear the recorder gains a file and one of its
files grows; both stay, the grown one named, and only the verified files go."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockd.adapters.mount import Mounter
from dockd.app import App, build, load_config
from tests.support.media import make_fat32_image

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")

REPO = Path(__file__).resolve().parents[2]
CLIPS = {f"DCIM/SNINT_007_2026112208{n:02d}00_{n:04d}.AVI": bytes([n]) * 70_000 for n in range(3)}


def _station(tmp_path: Path, store: str, station: str = "") -> App:
    """A station clearing recorders, with its own store, on the test's one SQLite ledger."""
    rules = tmp_path / "rules"
    if not rules.exists():
        shutil.copytree(REPO / "rules", rules)
        pack = rules / "policies" / "dalian-jinpu-ocean.toml"
        pack.write_text(pack.read_text() + '\n[clearing]\nallowed = true\narticles = ["000:30"]\n')
    named = (
        f'[station]\nid = "{station}"\nkey_file = "{tmp_path / station}.key"\n' if station else ""
    )
    config = tmp_path / f"{store}.toml"
    config.write_text(
        f'[store]\nroot = "{tmp_path / store}"\n'
        f'[ledger]\nurl = "sqlite:///{tmp_path / "ledger.sqlite3"}"\n'
        f'[rules]\ndir = "{rules}"\n'
        f'[daemon]\nmount_root = "{tmp_path / "mnt"}"\nclear_after_offload = true\n' + named
    )
    return build(load_config(config))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    if shutil.which("fusefat") is None:
        pytest.skip("apt-get install fusefat")
    built = _station(tmp_path, "store")
    yield built
    built.close()
    subprocess.run(["chattr", "-R", "-i", str(tmp_path)], capture_output=True)


def _attach(image: Path) -> str:
    return subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()


def _mcopy(image: Path, tmp: Path, rel: str, data: bytes) -> None:
    local = tmp / "put"
    local.write_bytes(data)
    subprocess.run(["mcopy", "-o", "-i", str(image), str(local), f"::/{rel}"], check=True)


def _files(image: Path) -> list[str]:
    out = subprocess.run(
        ["mdir", "-/", "-b", "-i", str(image), "::/"], capture_output=True, text=True, check=True
    ).stdout
    return sorted(line.removeprefix("::/") for line in out.split())


def test_files_changed_or_added_after_the_copy_stay(app: App, tmp_path: Path) -> None:
    image = make_fat32_image(tmp_path / "rec.img", CLIPS)
    mounter = Mounter(tmp_path / "mnt")
    dev = _attach(image)
    try:
        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai")
        try:
            outcome = app.dock_session.ingest(root, "SNINT", "generic")
        finally:
            mounter.unmount(root)
        assert outcome.state == "completed", outcome.problems
        grown, *gone = sorted(CLIPS)
        added = "DCIM/SNINT_007_20261122081000_0010.AVI"
        _mcopy(image, tmp_path, grown, CLIPS[grown] + b"more")
        _mcopy(image, tmp_path, added, b"after the copy")

        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai", writable=True)
        try:
            assert app.clearing.refusal("SNINT", outcome.state, outcome.fully_verified) is None
            result = app.clearing.clear(root, "generic", "SNINT", outcome.session_id)
        finally:
            mounter.unmount(root)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)

    assert result.deleted == 2
    kept = {k.path.decode(): k.reason for k in result.kept}
    assert kept == {
        grown: "changed since it was verified (size or time differ)",
        added: "no verified copy of this file",
    }
    assert grown in result.summary
    assert _files(image) == sorted(["DCIM/", grown, added])
    events = [e for e in app.ledger.custody_events() if e.kind.startswith("recorder-file-")]
    assert [(e.kind, e.details["path"]) for e in events] == [
        (kind, path)
        for path in sorted(gone)
        for kind in ("recorder-file-clearing", "recorder-file-cleared")
    ]


def test_a_later_dock_keeps_the_files_whose_store_copy_was_lost_or_damaged(
    app: App, tmp_path: Path
) -> None:
    """A recorder verified at one dock and cleared at a later one: the ledger still says its
    copies are in the store, but one object was deleted behind dockd's back and another's
    bytes were damaged since. Both recorder files stay, each named; the intact one goes."""
    image = make_fat32_image(tmp_path / "rec.img", CLIPS)
    mounter = Mounter(tmp_path / "mnt")
    dev = _attach(image)
    try:
        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai")
        try:
            first = app.dock_session.ingest(root, "SNINT", "generic")
        finally:
            mounter.unmount(root)
        assert first.state == "completed", first.problems
        lost, damaged, intact = sorted(CLIPS)
        keys = {c.path.decode(): c.object_key for c in app.clearing.records.verified("SNINT")}
        store = tmp_path / "store"
        subprocess.run(["chattr", "-R", "-i", str(store)], check=True)
        (store / keys[lost]).unlink()
        with open(store / keys[damaged], "r+b") as fh:
            fh.write(b"\xff")

        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai")
        try:
            later = app.dock_session.ingest(root, "SNINT", "generic")
        finally:
            mounter.unmount(root)
        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai", writable=True)
        try:
            result = app.clearing.clear(root, "generic", "SNINT", later.session_id)
        finally:
            mounter.unmount(root)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)

    kept = {k.path.decode(): k.reason for k in result.kept}
    assert kept == {
        lost: "its copy is missing from the store",
        damaged: "its copy in the store no longer reads back as verified",
    }
    assert result.deleted == 1
    assert _files(image) == sorted(["DCIM/", lost, damaged])
    assert intact not in _files(image)


def _dock(app: App, dev: str, mounter: Mounter) -> str:
    root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai")
    try:
        outcome = app.dock_session.ingest(root, "SNINT", "generic")
    finally:
        mounter.unmount(root)
    assert outcome.state == "completed", outcome.problems
    return outcome.session_id


def test_recordings_another_station_copied_stay_named_so(tmp_path: Path) -> None:
    """Two stations on one ledger: station B copied the recorder first; at station A, which
    holds no copy of those recordings, clearing keeps them and says why."""
    if shutil.which("fusefat") is None:
        pytest.skip("apt-get install fusefat")
    image = make_fat32_image(tmp_path / "rec.img", CLIPS)
    mounter = Mounter(tmp_path / "mnt")
    a, b = _station(tmp_path, "a-store", "dock-a"), _station(tmp_path, "b-store", "dock-b")
    dev = _attach(image)
    try:
        _dock(b, dev, mounter)
        session = _dock(a, dev, mounter)
        root = mounter.mount(dev, "vfat", "slot1", "Asia/Shanghai", writable=True)
        try:
            result = a.clearing.clear(root, "generic", "SNINT", session)
        finally:
            mounter.unmount(root)
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)
        a.close()
        b.close()
        subprocess.run(["chattr", "-R", "-i", str(tmp_path)], capture_output=True)
    reason = "copied by another station: this station's store holds no copy of it"
    assert {k.path.decode(): k.reason for k in result.kept} == dict.fromkeys(CLIPS, reason)
    assert result.deleted == 0
