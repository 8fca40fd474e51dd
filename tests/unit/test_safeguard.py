"""Copies kept here of recordings only another station's store holds: the rule, and the
use case over fakes (what is copied, what a mismatch or a full store does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from blake3 import blake3

from dockd.core.clearing import ClearCandidate
from dockd.core.model import Problem, SourceFile
from dockd.core.safeguard import held_only_elsewhere
from dockd.core.said import Said
from dockd.services.safeguard import SafeguardCopies
from tests.fakes.dock import FakeFile, FakeStore, FakeVolume, FixedClock

T = 1_764_489_600 * 10**9


def _verified(
    path: bytes, data: bytes, *, here: bool = False, central: bool = False, elsewhere: bool = True
) -> ClearCandidate:
    digest = blake3(data).hexdigest()
    return ClearCandidate(
        len(path), path, len(data), T, digest, f"b3/{digest}", "S0", here, central, elsewhere
    )


@dataclass
class FakeSafeguardRecords:
    candidates: list[ClearCandidate]
    added: list[tuple[str, int, str]] = field(default_factory=list)

    def verified(self, serial: str) -> list[ClearCandidate]:
        return list(self.candidates)

    def add_copy(self, session_id: str, recording: int, blake3: str, at: datetime) -> None:
        self.added.append((session_id, recording, blake3))


def test_only_recordings_held_by_other_stations_alone_are_copied_here() -> None:
    only_there = _verified(b"A.MP4", b"a")
    held_here = _verified(b"B.MP4", b"b", here=True)
    confirmed = _verified(b"C.MP4", b"c", central=True)
    expired_or_ours = _verified(b"D.MP4", b"d", elsewhere=False)  # expired: no live copy
    assert held_only_elsewhere([only_there, held_here, confirmed, expired_or_ours]) == [only_there]


def _rig(
    files: dict[bytes, bytes], candidates: list[ClearCandidate], store: FakeStore | None = None
) -> tuple[SafeguardCopies, FakeVolume, FakeStore, FakeSafeguardRecords]:
    volume = FakeVolume({p: FakeFile(d, T) for p, d in files.items()})
    store = store or FakeStore()
    records = FakeSafeguardRecords(candidates)
    return SafeguardCopies(volume, store, records, FixedClock()), volume, store, records


def test_the_copy_is_stored_verified_and_recorded_against_the_same_recording() -> None:
    wanted = _verified(b"A.MP4", b"aaa")
    safeguard, volume, store, records = _rig({b"A.MP4": b"aaa"}, [wanted])
    on_recorder = [SourceFile(p, len(f.data), f.mtime_ns) for p, f in volume.files.items()]
    assert safeguard.keep(Path("/mnt"), on_recorder, "SN1", "S2") == (1, [])
    assert list(store.objects.values()) == [b"aaa"]
    assert records.added == [("S2", wanted.recording, wanted.blake3)]


def test_a_file_whose_bytes_differ_from_the_verified_recording_is_a_problem() -> None:
    """Same path, size and time, other bytes: nothing is kept and the session says so."""
    wanted = _verified(b"A.MP4", b"aaa")
    safeguard, volume, store, records = _rig({b"A.MP4": b"aab"}, [wanted])
    on_recorder = [SourceFile(p, len(f.data), f.mtime_ns) for p, f in volume.files.items()]
    kept, problems = safeguard.keep(Path("/mnt"), on_recorder, "SN1", "S2")
    assert kept == 0 and store.objects == {} and store.staging == {} and records.added == []
    assert [(p.path, p.code) for p in problems] == [("A.MP4", "copy-kept-mismatch")]


def test_a_full_store_is_a_problem_of_the_session_and_the_others_are_still_tried() -> None:
    big, small = _verified(b"A.MP4", b"a" * 100), _verified(b"B.MP4", b"b")
    files = {b"A.MP4": b"a" * 100, b"B.MP4": b"b"}
    safeguard, volume, _, records = _rig(files, [big, small], FakeStore(capacity=10))
    on_recorder = [SourceFile(p, len(f.data), f.mtime_ns) for p, f in volume.files.items()]
    kept, problems = safeguard.keep(Path("/mnt"), on_recorder, "SN1", "S2")
    assert kept == 1 and records.added == [("S2", small.recording, small.blake3)]
    assert problems == [
        Problem(
            "A.MP4",
            "STORE_FULL",
            Said("reserving 100 bytes for a recording: No space left on device"),
        )
    ]
