"""In-memory fakes of the dock session's ports (`dockd.ports`, section "dock session").

Each keeps the contract its real adapter keeps, so a unit test of the dock session
over them means what it says: the store stages, reserves, publishes write-once and
reads back; the volume opens files, notices a change between open and end of read,
and raises the `dockd.errors` the real volume raises at its edge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from blake3 import blake3

from dockd.core.gaps import Clip, Gap
from dockd.core.layout import object_key
from dockd.core.model import Digests, Problem, SourceFile, StoredDocument, VerifiedRecording
from dockd.core.profiles import RecorderProfile
from dockd.core.registry import CustodyStretch
from dockd.core.signing import ManifestSignature
from dockd.core.station_clock import StationClock
from dockd.core.transfer import Published, ReadBack, Scan, Staged
from dockd.core.views import RecorderClockView, RecordingView, StationClockView
from dockd.errors import (
    ObjectMismatchError,
    RecorderGoneError,
    SourceFileError,
    StoreError,
    StoreFullError,
)
from dockd.ports import ChunkHook, ReadAt, SourceStream

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FixedClock:
    """The station's clock, one second further on each time it is read."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


# --- volume --------------------------------------------------------------------------


@dataclass
class FakeFile:
    data: bytes
    mtime_ns: int = 1_764_489_600 * 10**9
    #: the recorder is still writing it: each full read ends with the file changed
    changes_left: int = 0
    #: the medium vanishes once this many bytes of this file have been read
    vanish_at: int | None = None


class FakeStream:
    def __init__(self, volume: FakeVolume, path: bytes, file: FakeFile) -> None:
        self.volume, self.path, self.file = volume, path, file
        self.size = len(file.data)
        self._before = (self.size, file.mtime_ns)
        self._offset = 0
        self.closed = False

    def fileno(self) -> int:
        raise OSError("a fake stream has no descriptor; read() it")

    def read(self, n: int) -> bytes:
        file = self.file
        if self.volume.gone:
            raise RecorderGoneError("read failed: Transport endpoint is not connected")
        if file.vanish_at is not None and self._offset >= file.vanish_at:
            self.volume.gone = True
            raise RecorderGoneError("read failed: Transport endpoint is not connected")
        chunk = file.data[self._offset : self._offset + n]
        self._offset += len(chunk)
        if not chunk and file.changes_left:
            file.changes_left -= 1
            file.mtime_ns += 10**9
        return chunk

    def as_copied(self) -> SourceFile | None:
        if self.volume.gone:
            raise RecorderGoneError("read failed: Transport endpoint is not connected")
        now = (len(self.file.data), self.file.mtime_ns)
        return SourceFile(self.path, *now) if now == self._before else None

    def close(self) -> None:
        self.closed = True


class FakeVolume:
    """One recorder's files; everything it holds is a recording."""

    def __init__(self, files: Mapping[bytes, FakeFile]) -> None:
        self.files = dict(files)
        self.gone = False
        self.written: dict[str, bytes] = {}
        self.streams: list[FakeStream] = []

    def scan(self, root: Path, profile: RecorderProfile) -> Scan:
        return Scan(
            recordings=[
                SourceFile(p, len(f.data), f.mtime_ns) for p, f in sorted(self.files.items())
            ]
        )

    def open(self, root: Path, file: SourceFile) -> SourceStream:
        if self.gone:
            raise RecorderGoneError("cannot open: Transport endpoint is not connected")
        found = self.files.get(file.path)
        if found is None:
            raise SourceFileError("cannot open: No such file or directory")
        stream = FakeStream(self, file.path, found)
        self.streams.append(stream)
        return stream

    def read_small_file(self, root: Path, rel: str) -> bytes | None:
        return None

    def write_small_file(self, root: Path, rel: str, data: bytes) -> None:
        self.written[rel] = data

    def stores_local_times(self, root: Path) -> bool:
        return False

    def is_gone(self, root: Path) -> bool:
        return self.gone

    def space_in_use(self, root: Path) -> tuple[int, int] | None:
        return None


# --- store ---------------------------------------------------------------------------


def _digests(data: bytes) -> Digests:
    return Digests(blake3(data).hexdigest(), hashlib.sha256(data).hexdigest())


class FakeStore:
    """Write-once objects by BLAKE3 name, within `capacity` bytes (staging included)."""

    chunk_size = 64 * 1024

    def __init__(self, capacity: int = 1 << 40, durable_fails: StoreError | None = None) -> None:
        self.capacity = capacity
        #: what making a batch durable raises (the disk failing under the flush)
        self.durable_fails = durable_fails
        self.objects: dict[str, bytes] = {}
        self.staging: dict[Path, bytes] = {}
        self.reserved: dict[Path, int] = {}
        self.syncs = 0
        self.durable_rounds = 0
        #: staged files whose bytes are on the (fake) disk: only those may be published
        self.durable: set[Path] = set()
        self._count = 0

    def used(self) -> int:
        """Copy threads stage and publish meanwhile: each dict is read from a snapshot
        (iterating one while another thread adds to it raised, now and then)."""
        staging, objects = list(self.staging.items()), list(self.objects.values())
        staged = sum(max(len(d), self.reserved.get(p, 0)) for p, d in staging)
        return sum(len(d) for d in objects) + staged

    def _reserve(self, nbytes: int, what: str) -> Path:
        if self.used() + nbytes > self.capacity:
            raise StoreFullError(f"{what}: No space left on device")
        self._count += 1
        path = Path(f"tmp/{self._count}.part")
        self.staging[path] = b""
        self.reserved[path] = nbytes
        return path

    def copy_in(
        self, source: SourceStream, expected_size: int, progress: ChunkHook | None = None
    ) -> Staged:
        path = self._reserve(expected_size, f"reserving {expected_size} bytes for a recording")
        parts = []
        try:
            while chunk := source.read(self.chunk_size):
                parts.append(chunk)
                if progress is not None:
                    progress(len(chunk))
        except BaseException:
            self._drop(path)
            raise
        data = b"".join(parts)
        self.staging[path] = data
        return Staged(path, _digests(data), len(data))

    def make_durable(self, staged: Sequence[Staged]) -> None:
        self.durable_rounds += 1
        if self.durable_fails is not None:
            raise self.durable_fails
        self.durable.update(s.path for s in staged if s.path in self.staging)

    def _drop(self, path: Path) -> None:
        self.staging.pop(path, None)
        self.reserved.pop(path, None)
        self.durable.discard(path)

    def discard(self, staged: Staged) -> None:
        self._drop(staged.path)

    def publish(self, staged: Staged) -> Published:
        if staged.path not in self.durable:
            raise AssertionError(f"{staged.path} published before it was made durable")
        data = self.staging[staged.path]
        self._drop(staged.path)
        key = object_key(staged.digests.blake3)
        duplicate = key in self.objects
        if not duplicate:
            self.objects[key] = data
        return Published(key, staged.digests, staged.size, ("mode-0444",), duplicate)

    def verify_published(self, published: Published) -> ReadBack:
        data = self.objects[published.key]
        back = ReadBack(blake3(data).hexdigest(), len(data), "fake")
        if back.blake3 != published.digests.blake3 or back.size != published.size:
            raise ObjectMismatchError(f"{published.key} reads back as {back.blake3}")
        return back

    def sync(self) -> None:
        self.syncs += 1

    @contextmanager
    def reader(self, key: str) -> Iterator[ReadAt]:
        data = self.objects[key]
        yield lambda offset, length: data[offset : offset + length]

    def put_bytes(self, data: bytes) -> tuple[Published, ReadBack]:
        path = self._reserve(len(data), "writing to the store")
        self.staging[path] = data
        self.durable.add(path)
        published = self.publish(Staged(path, _digests(data), len(data)))
        return published, self.verify_published(published)


# --- ledger, registry, station clock -------------------------------------------------


@dataclass
class FakeSession:
    serial: str
    slot: str | None
    started_at: datetime
    state: str = "running"
    finished: dict[str, Any] = field(default_factory=dict)


class FakeLedger:
    def __init__(self, prior: Mapping[tuple[bytes, int, int], RecordingView] | None = None) -> None:
        self.prior = dict(prior or {})
        self.sessions: dict[str, FakeSession] = {}
        self.recordings: list[tuple[str, VerifiedRecording]] = []
        #: the size of each add_recordings call: one ledger transaction each
        self.batches: list[int] = []
        self.events: list[tuple[datetime, str, str, dict[str, Any]]] = []

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
    ) -> None:
        assert session_id not in self.sessions
        self.sessions[session_id] = FakeSession(serial, slot, at)

    def prior_recordings(self, serial: str) -> dict[tuple[bytes, int, int], RecordingView]:
        return dict(self.prior)

    def recording_ends(
        self, serial: str, badges: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str | None, datetime]]:
        ends = [
            (r.badge, r.corrected_end or r.times.end)
            for session_id, r in self.recordings
            if r.badge in badges or self.sessions[session_id].serial == serial
        ]
        return [(b, e) for b, e in ends if since <= e < until]

    def add_recordings(
        self, session_id: str, serial: str, recordings: Sequence[VerifiedRecording]
    ) -> list[int]:
        assert self.sessions[session_id].state == "running"
        self.batches.append(len(recordings))
        first = len(self.recordings) + 1
        self.recordings.extend((session_id, r) for r in recordings)
        return list(range(first, first + len(recordings)))

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
    ) -> None:
        session = self.sessions[session_id]
        assert session.state == "running", "a session is finished once"
        session.state = state
        session.finished = {
            "files_seen": files_seen,
            "problems": list(problems),
            "error_code": error_code,
            "manifest": manifest,
            "signature": signature,
        }

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        self.events.append((at, kind, subject, details))

    def chain_head(self) -> tuple[int, str]:
        return len(self.events), f"{len(self.events):064x}"


class FakeCustodians:
    def __init__(self) -> None:
        self.custody: dict[str, list[CustodyStretch]] = {}
        self.excused: dict[str, list[datetime]] = {}

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        return list(self.custody.get(serial, []))

    def excuses(self) -> dict[str, list[datetime]]:
        return dict(self.excused)


class FakeInterruptions:
    def __init__(self) -> None:
        self.interruptions: list[Gap] = []

    def clips_around(self, serial: str, session_id: str) -> list[Clip]:
        return []

    def record_interruptions(
        self, session_id: str, serial: str, gaps: list[Gap], at: datetime
    ) -> None:
        self.interruptions.extend(gaps)


class FakeStationClock:
    def __init__(self, synchronised: bool = True, offset_s: float = 0.0) -> None:
        self.synchronised, self.offset_s = synchronised, offset_s

    def measure(self) -> StationClock:
        return StationClock(
            offset_s=self.offset_s if self.synchronised else None,
            server="127.0.0.1:123" if self.synchronised else None,
            stratum=2 if self.synchronised else None,
            delay_s=0.001 if self.synchronised else None,
            synchronised=self.synchronised,
            measured_at=NOW,
            method="ntp",
            detail="1 server" if self.synchronised else "no server answered",
        )
