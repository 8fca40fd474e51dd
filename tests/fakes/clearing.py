"""In-memory twins of the clearing ports: the ledger's candidates and holds, and the
recorder's files (shared with a `FakeVolume`, so a deletion is seen by its next scan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dockd.core.clearing import ClearCandidate
from dockd.core.detect import VolumeSample
from dockd.core.model import SourceFile
from dockd.core.transfer import ReadBack, VolumeEvidence
from dockd.errors import RecorderClearError, StoreError
from tests.fakes.dock import FakeVolume


@dataclass
class FakeClearingRecords:
    candidates: dict[str, list[ClearCandidate]] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: kinds appended as recorded: shared with a FakeRecorderFiles' log, it shows the order
    log: list[str] = field(default_factory=list)

    def verified(self, serial: str) -> list[ClearCandidate]:
        return list(self.candidates.get(serial, []))

    def holds_on(self, serial: str) -> int:
        return self.held.get(serial, 0)

    def announce_clearing(
        self, at: datetime, session_id: str, serial: str, blake3: str, details: dict[str, Any]
    ) -> int:
        held = self.holds_on(serial)
        if not held:
            self.record_event(at, "recorder-file-clearing", session_id, details)
        return held

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        self.events.append((kind, details))
        self.log.append(kind)


@dataclass
class FakeRecorderFiles:
    """`before_look(path)` runs just before a file is looked at: a test changes the file
    there, as an officer's recorder might between the scan and the deletion."""

    volume: FakeVolume
    refuse: set[bytes] = field(default_factory=set)
    before_look: Callable[[bytes], None] = lambda path: None
    log: list[str] = field(default_factory=list)

    def look(self, root: Path, path: bytes) -> SourceFile | None:
        self.before_look(path)
        file = self.volume.files.get(path)
        return None if file is None else SourceFile(path, len(file.data), file.mtime_ns)

    def remove(self, root: Path, path: bytes) -> None:
        if path in self.refuse:
            raise RecorderClearError(f"cannot delete {path.decode()}: Read-only file system")
        self.log.append(f"unlink {path.decode()}")
        del self.volume.files[path]


@dataclass
class FakeClearingStore:
    """Objects by key as (BLAKE3, size) on disk; `read_backs` lists the keys re-hashed."""

    objects: dict[str, tuple[str, int]] = field(default_factory=dict)
    read_backs: list[str] = field(default_factory=list)

    @classmethod
    def holding(cls, candidates: dict[str, list[ClearCandidate]]) -> FakeClearingStore:
        """A store holding every candidate's object as it was verified."""
        return cls(
            {c.object_key: (c.blake3, c.size) for found in candidates.values() for c in found}
        )

    def size_of(self, key: str) -> int | None:
        found = self.objects.get(key)
        return None if found is None else found[1]

    def read_back(self, key: str) -> ReadBack:
        self.read_backs.append(key)
        if key not in self.objects:
            raise StoreError(f"reading back {key}: No such file or directory")
        blake3, size = self.objects[key]
        return ReadBack(blake3, size, "O_DIRECT")


@dataclass
class FakeSampler:
    """`dockd.ports.VolumeSampler` over a FakeVolume: its top and its file names."""

    volume: FakeVolume

    def sample(self, root: Path) -> VolumeSample:
        paths = [p.decode() for p in self.volume.files]
        return VolumeSample(
            folders=frozenset(p.split("/")[0] for p in paths if "/" in p),
            files=frozenset(p for p in paths if "/" not in p),
            names=tuple(sorted(p.rsplit("/", 1)[-1] for p in paths)),
        )


@dataclass
class FakeMounter:
    """Mounts nothing: each mount and unmount is appended to `log` (shared for order)."""

    log: list[str] = field(default_factory=list)

    def mount(
        self,
        devnode: str,
        fs_type: str | None,
        slot: str,
        zone: str = "UTC",
        writable: bool = False,
    ) -> Path:
        self.log.append(f"mount {devnode} {'rw' if writable else 'ro'}")
        return Path("/mnt") / slot

    def unmount(self, target: Path) -> None:
        self.log.append(f"unmount {target}")


@dataclass
class FakeRawVolumes:
    """`dockd.ports.RawVolumes`: what examining the devnode finds now (a test swaps it)."""

    evidence: VolumeEvidence

    def examine(self, devnode: str) -> VolumeEvidence:
        return self.evidence
