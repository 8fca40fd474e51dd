"""Clearing on a real recorder, FAT32 and exFAT (loop device, the read-write mount dockd
uses), with a real SQLite ledger: between the copy and the clear the recorder gains a file
and one of its files grows; both stay, the grown one named, and only the verified files
go. The volume checks clean (`fsck -n`) after every clearing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockd.adapters.mount import Mounter
from dockd.app import App, build, load_config
from dockd.services.clearing import ClearResult
from dockd.services.dock_session import SessionOutcome
from tests.support.media import make_exfat_image, make_fat32_image

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


Build = Callable[[Path, Mapping[str, bytes]], Path]
FILESYSTEMS: dict[str, tuple[Build, str]] = {
    "vfat": (make_fat32_image, "fsck.vfat"),
    "exfat": (make_exfat_image, "fsck.exfat"),
}


@dataclass
class Recorder:
    """A loop recorder, mounted as dockd mounts it for each step."""

    image: Path
    dev: str
    fs: str
    mounter: Mounter

    @contextmanager
    def mounted(self, writable: bool = False) -> Iterator[Path]:
        root = self.mounter.mount(self.dev, self.fs, "slot1", "Asia/Shanghai", writable=writable)
        try:
            yield root
        finally:
            self.mounter.unmount(root)

    def dock(self, app: App) -> SessionOutcome:
        with self.mounted() as root:
            outcome = app.dock_session.ingest(root, "SNINT", "generic")
        assert outcome.state == "completed", outcome.problems
        return outcome

    def clear(self, app: App, session_id: str) -> ClearResult:
        with self.mounted(writable=True) as root:
            return app.clearing.clear(root, "generic", "SNINT", session_id)

    def write(self, rel: str, data: bytes) -> None:
        """The officer's recorder changes a file after the copy: through mtools on FAT32
        (fusefat's read-write mount deletes, it does not create or grow files)."""
        if self.fs == "vfat":
            local = self.image.with_suffix(".put")
            local.write_bytes(data)
            subprocess.run(
                ["mcopy", "-o", "-i", str(self.image), str(local), f"::/{rel}"], check=True
            )
            return
        with self.mounted(writable=True) as root:
            (root / rel).write_bytes(data)

    def files(self) -> list[str]:
        with self.mounted() as root:
            return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def checks_clean(self) -> None:
        fsck = subprocess.run(
            [FILESYSTEMS[self.fs][1], "-n", self.dev], capture_output=True, text=True, check=False
        )
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr


@pytest.fixture(params=sorted(FILESYSTEMS))
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Recorder]:
    if shutil.which("fusefat") is None:
        pytest.skip("apt-get install fusefat")
    build_image, _ = FILESYSTEMS[request.param]
    image = build_image(tmp_path / "rec.img", CLIPS)
    dev = subprocess.run(
        ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield Recorder(image, dev, request.param, Mounter(tmp_path / "mnt"))
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = _station(tmp_path, "store")
    yield built
    built.close()
    subprocess.run(["chattr", "-R", "-i", str(tmp_path)], capture_output=True)


def test_files_changed_or_added_after_the_copy_stay(app: App, recorder: Recorder) -> None:
    outcome = recorder.dock(app)
    grown, *gone = sorted(CLIPS)
    added = "DCIM/SNINT_007_20261122081000_0010.AVI"
    recorder.write(grown, CLIPS[grown] + b"more")
    recorder.write(added, b"after the copy")

    assert app.clearing.refusal("SNINT", outcome.state, outcome.fully_verified) is None
    result = recorder.clear(app, outcome.session_id)

    assert result.deleted == 2
    kept = {k.path.decode(): k.reason for k in result.kept}
    assert kept == {
        grown: "changed since it was verified (size or time differ)",
        added: "no verified copy of this file",
    }
    assert grown in result.summary
    assert recorder.files() == sorted([grown, added])
    recorder.checks_clean()
    events = [e for e in app.ledger.custody_events() if e.kind.startswith("recorder-file-")]
    assert [(e.kind, e.details["path"]) for e in events] == [
        (kind, path)
        for path in sorted(gone)
        for kind in ("recorder-file-clearing", "recorder-file-cleared")
    ]


def test_a_later_dock_keeps_the_files_whose_store_copy_was_lost_or_damaged(
    app: App, recorder: Recorder, tmp_path: Path
) -> None:
    """A recorder verified at one dock and cleared at a later one: the ledger still says its
    copies are in the store, but one object was deleted behind dockd's back and another's
    bytes were damaged since. Both recorder files stay, each named; the intact one goes."""
    recorder.dock(app)
    lost, damaged, _ = sorted(CLIPS)
    keys = {c.path.decode(): c.object_key for c in app.clearing.records.verified("SNINT")}
    store = tmp_path / "store"
    subprocess.run(["chattr", "-R", "-i", str(store)], check=True)
    (store / keys[lost]).unlink()
    with open(store / keys[damaged], "r+b") as fh:
        fh.write(b"\xff")

    later = recorder.dock(app)
    result = recorder.clear(app, later.session_id)

    kept = {k.path.decode(): k.reason for k in result.kept}
    assert kept == {
        lost: "its copy is missing from the store",
        damaged: "its copy in the store no longer reads back as verified",
    }
    assert result.deleted == 1
    assert recorder.files() == sorted([lost, damaged])
    recorder.checks_clean()


def test_a_recorder_another_station_offloaded_gets_a_copy_kept_here(
    recorder: Recorder, tmp_path: Path
) -> None:
    """Two stations on one ledger: station B verified the recorder first and its store is
    the only copy (no central store confirmed it). Docked at A, the recordings stay the
    ones B verified (no second row), A keeps copies of its own, each on A's chain, and
    A's clearing may then free the recorder: two stores hold every recording."""
    a, b = _station(tmp_path, "a-store", "dock-a"), _station(tmp_path, "b-store", "dock-b")
    try:
        first = recorder.dock(b)
        at_a = recorder.dock(a)
        again = recorder.dock(a)
        result = recorder.clear(a, again.session_id)
        recordings = a.ledger.recordings()
        kept = [e for e in a.ledger.custody_events("dock-a") if e.kind == "recording-copy-kept"]
    finally:
        a.close()
        b.close()
        subprocess.run(["chattr", "-R", "-i", str(tmp_path)], capture_output=True)
    assert len(first.copied) == 3 and at_a.copied == [] and at_a.already_verified == 3
    assert at_a.kept_here == 3 and again.kept_here == 0  # the second time A holds them
    assert len(recordings) == 3
    assert sorted(e.subject for e in kept) == sorted(str(r.id) for r in recordings)
    assert {tuple(e.details["held_by"]) for e in kept} == {("dock-b",)}
    assert {e.details["session"] for e in kept} == {at_a.session_id}
    for r in recordings:
        stored = tmp_path / "a-store" / "objects" / "blake3" / r.blake3[:2] / r.blake3
        assert stored.read_bytes() == CLIPS[r.path]
    assert result.deleted == 3 and result.kept == []
    assert recorder.files() == []
    recorder.checks_clean()
