"""Ports for a dock session (the recorder, the store, the session's ledger, clearing): see
`dockd.ports`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dockd.ports.integrity import CustodyLog

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.clearing import ClearCandidate
    from dockd.core.detect import VolumeSample
    from dockd.core.devices import DeviceEvent, RecorderDevice
    from dockd.core.gaps import Clip, Gap
    from dockd.core.model import Problem, SourceFile, StoredDocument, VerifiedRecording
    from dockd.core.profiles import RecorderProfile
    from dockd.core.registry import CustodyStretch
    from dockd.core.signing import ManifestSignature
    from dockd.core.station_clock import StationClock
    from dockd.core.transfer import Published, ReadBack, Scan, Staged, VolumeEvidence
    from dockd.core.views import (
        RecorderClockView,
        RecordingView,
        StationClockView,
    )


Clock = Callable[[], datetime]
#: Called per chunk copied, with its size; raising from it abandons the copy.
ChunkHook = Callable[[int], None]
#: Reads `length` bytes at `offset` of a stored object.
ReadAt = Callable[[int, int], bytes]


class ProgressSink(Protocol):
    """Who watches a session's progress (the status board's slot)."""

    def planned(self, session: str, files: int, nbytes: int, drift_s: float | None) -> None: ...
    def copied(self, nbytes: int) -> None: ...
    def verified(self, files: int) -> None: ...


class SourceStream(Protocol):
    """One recording opened on the volume for one copy (no symlink followed).

    Raises `errors.SourceFileError` (or `RecorderGoneError`) for what the volume says."""

    size: int

    def fileno(self) -> int: ...
    def read(self, n: int) -> bytes: ...
    def as_copied(self) -> SourceFile | None:
        """The file as it was read, or None when its size or time changed meanwhile."""

    def close(self) -> None: ...


class Volume(Protocol):
    """A docked recorder's volume (or a drop folder), read without trusting anything on it."""

    def scan(self, root: Path, profile: RecorderProfile) -> Scan: ...
    def open(self, root: Path, file: SourceFile) -> SourceStream: ...
    def read_small_file(self, root: Path, rel: str) -> bytes | None: ...
    def write_small_file(self, root: Path, rel: str, data: bytes) -> None: ...
    def stores_local_times(self, root: Path) -> bool: ...
    def is_gone(self, root: Path) -> bool:
        """The volume is no longer there (unmounted, yanked, a dead FUSE mount)."""

    def space_in_use(self, root: Path) -> tuple[int, int] | None:
        """(bytes in use, cluster size) as the mounted filesystem counts them, if it does."""


class VolumeSampler(Protocol):
    """The top of a mounted volume and a sample of its names (dockd.core.detect)."""

    def sample(self, root: Path) -> VolumeSample: ...


class RawVolumes(Protocol):
    """A recorder's filesystem read from its block device before mounting, never written."""

    def examine(self, devnode: str) -> VolumeEvidence: ...


class EvidenceStore(Protocol):
    """The write-once, content-addressed store (`errors.StoreError` for its faults)."""

    chunk_size: int

    def copy_in(
        self, source: SourceStream, expected_size: int, progress: ChunkHook | None = None
    ) -> Staged: ...
    def make_durable(self, staged: Sequence[Staged]) -> None:
        """The staged bytes on the disk (one flush for a batch); before `publish`."""

    def discard(self, staged: Staged) -> None: ...
    def publish(self, staged: Staged) -> Published: ...
    def verify_published(self, published: Published) -> ReadBack: ...
    def sync(self) -> None: ...
    def reader(self, key: str) -> AbstractContextManager[ReadAt]: ...
    def put_bytes(self, data: bytes) -> tuple[Published, ReadBack]: ...


class SessionLedger(CustodyLog, Protocol):
    """Dock sessions, verified recordings and custody events."""

    def start_session(
        self,
        *,
        session_id: str,
        serial: str,
        profile: str,
        slot: str | None,
        source: str,
        host: str,
        pid: int,
        boot_id: str,
        at: datetime,
    ) -> None: ...
    def prior_recordings(self, serial: str) -> dict[tuple[bytes, int, int], RecordingView]: ...
    def recording_ends(
        self, serial: str, badges: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str | None, datetime]]:
        """(name badge, corrected end) of the recordings ending in [since, until) that are
        this recorder's or name one of `badges`: where earlier working days ended."""

    def add_recordings(
        self, session_id: str, serial: str, recordings: Sequence[VerifiedRecording]
    ) -> list[int]: ...
    def finish_session(
        self,
        session_id: str,
        *,
        state: str,
        at: datetime,
        files_seen: int,
        already_verified: int,
        problems: list[Problem],
        error_code: str | None,
        manifest: StoredDocument | None,
        station_clock: StationClockView | None = None,
        recorder_clock: RecorderClockView | None = None,
        signature: ManifestSignature | None = None,
    ) -> None: ...
    def chain_head(self) -> tuple[int, str]: ...


class CustodianLookup(Protocol):
    """The registry lookups a dock session makes: who had the recorder when, and the
    officers' excuses that move an offload deadline."""

    def custodians_at(self, serial: str) -> list[CustodyStretch]: ...
    def excuses(self) -> dict[str, list[datetime]]: ...


class InterruptionRecords(Protocol):
    """The recorder's clips around a session, and the gaps found between them."""

    def clips_around(self, serial: str, session_id: str) -> list[Clip]: ...
    def record_interruptions(
        self, session_id: str, serial: str, gaps: list[Gap], at: datetime
    ) -> None: ...


class StationClockSource(Protocol):
    def measure(self) -> StationClock: ...


class DeviceSource(Protocol):
    """Recorders appearing and disappearing (udev), and those present now."""

    def running(self) -> bool: ...
    def start(self) -> list[RecorderDevice]: ...
    def present(self) -> list[RecorderDevice]: ...
    def poll(self, timeout: float) -> Iterator[DeviceEvent]: ...


class Mounter(Protocol):
    """Mounts a recorder (`errors.MountError`, `UnknownFilesystemError`)."""

    def mount(
        self,
        devnode: str,
        fs_type: str | None,
        slot: str,
        zone: str = "UTC",
        writable: bool = False,
    ) -> Path: ...
    def unmount(self, target: Path) -> None: ...


class ClearingRecords(CustodyLog, Protocol):
    """What the ledger knows for clearing a recorder: its verified recordings with the
    identity each was copied under, its holds, and the custody log."""

    def verified(self, serial: str) -> list[ClearCandidate]: ...
    def holds_on(self, serial: str) -> int: ...
    def announce_clearing(
        self, at: datetime, session_id: str, serial: str, blake3: str, details: dict[str, Any]
    ) -> int:
        """The deletion intent (`recorder-file-clearing`) of a file whose copy is the
        object `blake3`, written only when none of the recorder's recordings is on hold,
        under the object's row lock that hold placement takes; the number of holds found
        (0: announced)."""
        ...


class SafeguardRecords(Protocol):
    """The recorder's verified recordings as clearing sees them (where each is held), and
    a copy of one kept in this station's store: its location and custody event."""

    def verified(self, serial: str) -> list[ClearCandidate]: ...
    def add_copy(self, session_id: str, recording: int, blake3: str, at: datetime) -> None: ...


class ClearingStore(Protocol):
    """The store's copy of a file clearing would delete: its size on disk (None when it
    is missing) and its BLAKE3 read back from disk (`errors.StoreError`)."""

    def size_of(self, key: str) -> int | None: ...
    def read_back(self, key: str) -> ReadBack: ...


class RecorderFiles(Protocol):
    """A recorder on its read-write mount: a file's size and time right now, and its
    deletion (`errors.RecorderClearError`); never through a symlink, never a directory."""

    def look(self, root: Path, path: bytes) -> SourceFile | None: ...
    def remove(self, root: Path, path: bytes) -> None: ...


#: Write-blocks a block device (True) or lifts the block for the one sanctioned write.
WriteBlocker = Callable[[str, bool], None]


class DropFolders(Protocol):
    """Watched folders: which serial folders went quiet, and which of their files are done."""

    roots: list[Path]

    def start(self) -> None: ...
    def due(self) -> list[Path]: ...
    def touch(self, serial_dir: Path) -> None: ...
    def ready_filter(self, folder: Path) -> Callable[[SourceFile], bool]: ...
