"""What the use cases need from the world, as Protocols: the adapters implement them,
`dockd.app` hands them in, and `tests/fakes/` holds an in-memory twin of each."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.activities import Activity, Matching
    from dockd.core.archive import ArchiveItem, Footage
    from dockd.core.backlog import CentralCandidate, HeldGroup
    from dockd.core.chains import RegisteredStation
    from dockd.core.clearing import ClearCandidate
    from dockd.core.custody import CustodyEvent
    from dockd.core.detect import VolumeSample
    from dockd.core.devices import DeviceEvent, RecorderDevice
    from dockd.core.export_description import ExportIntent, FileDigests, PackageCheck
    from dockd.core.forwarding import (
        CentralHead,
        CentralPut,
        CentralUpload,
        ObjectLock,
        Outgoing,
    )
    from dockd.core.gaps import Clip, Gap
    from dockd.core.model import Digests, Problem, SourceFile, StoredDocument, VerifiedRecording
    from dockd.core.operators import Credential, Operator
    from dockd.core.policy import PolicyPack
    from dockd.core.profiles import RecorderProfile
    from dockd.core.registry import Custodian, CustodyStretch, DeviceEntry, HoldEntry
    from dockd.core.retention import Expirable, StoredCopy
    from dockd.core.signing import ManifestSignature
    from dockd.core.station_clock import StationClock
    from dockd.core.status import Assignment, LedgerFacts, SlotSnapshot, StoreSpace, VerifyRun
    from dockd.core.supervision import Draw, Member, RecordedDraw, Review, WorkRecord
    from dockd.core.transfer import Published, ReadBack, Scan, Staged, VolumeEvidence
    from dockd.core.trends import OffloadFact, UnitEvent
    from dockd.core.viewing import Viewing, ViewingRequest
    from dockd.core.views import (
        DeadlineReport,
        ExportView,
        RecorderClockView,
        RecordingView,
        SessionView,
        StationClockView,
    )

# --- retention, report, registry ---


class RetentionRecords(Protocol):
    """The ledger's side of expiry; both steps are custody events."""

    def candidates(self, now: datetime) -> list[StoredCopy]: ...
    def vouching(self, recordings: Iterable[int]) -> list[CustodyEvent]: ...
    def started(self) -> list[Expirable]: ...
    def record_intent(self, item: Expirable, at: datetime, by: str) -> None: ...
    def mark_expired(self, item: Expirable, at: datetime, by: str) -> None: ...


class ExpiringStore(Protocol):
    def remove_expired(self, key: str) -> bool: ...


class RegistryRecords(Protocol):
    def add_device(self, serial: str, model: str, at: datetime, by: str) -> None: ...
    def assign(self, serial: str, custodian: Custodian, at: datetime, by: str) -> None: ...
    def devices(self) -> list[DeviceEntry]: ...
    def custodians_at(self, serial: str) -> list[CustodyStretch]: ...
    def excuses(self) -> dict[str, list[datetime]]: ...
    def add_excuse(
        self, badge: str, returned_at: datetime, reason: str, at: datetime, by: str, hours: float
    ) -> int: ...
    def attest(
        self, session_id: str, operators: Sequence[str], at: datetime, needed: int
    ) -> list[str]: ...


class HoldRecords(Protocol):
    def add(self, recording: int, kind: str, reference: str, at: datetime, by: str) -> int: ...
    def release(self, hold_id: int, reason: str, at: datetime, by: str) -> None: ...
    def holds(self, active_only: bool = True) -> list[HoldEntry]: ...


class ReportRecords(Protocol):
    def last_report_until(self) -> datetime | None: ...
    def report_issued(
        self, report: DeadlineReport, delivery: str, recipients: str, at: datetime, by: str
    ) -> None: ...
    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime, agency: bool
    ) -> DeadlineReport:
        """`agency`: every station's; otherwise this station's sessions and offloads."""
        ...

    def chain_head(self) -> tuple[int, str]: ...


class TrendRecords(Protocol):
    """The month of facts behind the report's per-unit charts (adapters.ledger.trends)."""

    def trend_facts(
        self, since: datetime, until: datetime
    ) -> tuple[list[OffloadFact], list[UnitEvent], list[UnitEvent]]:
        """Offloads, drift findings and possibly missing recordings in [since, until)."""
        ...


class ReportMail(Protocol):
    """The relay and the outbox; every failure is a `MailError`."""

    @property
    def send_when_empty(self) -> bool: ...
    def compose(self, report: DeadlineReport, pack_name: str) -> EmailMessage: ...
    def send(self, message: EmailMessage) -> None: ...
    def keep(self, message: EmailMessage) -> str: ...
    def kept(self) -> list[str]: ...
    def resend(self, name: str) -> None: ...
    def mark_sent(self, name: str) -> None: ...


# --- signing ---


class Signer(Protocol):
    """The station key (`errors.StationKeyError` when it cannot be used)."""

    @property
    def fingerprint(self) -> str: ...
    def sign(self, data: bytes) -> bytes: ...
    def verify(self, data: bytes, signature: bytes) -> bool: ...
    def public_pem(self) -> str: ...


class SignatureStore(Protocol):
    """Signatures of stored objects, beside them in the store, written once."""

    def keep(self, blake3: str, signature: bytes) -> None: ...
    def read(self, blake3: str) -> bytes | None: ...


# --- integrity ---


class IntegrityRecords(Protocol):
    """What `dockd verify` reads from the ledger, and the one event a verify run leaves
    behind."""

    def objects(self) -> list[tuple[str, str, str, int]]: ...
    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
    ) -> None: ...
    def legacy_unowned(self) -> int:
        """Copies labelled 'local' that no station counts as its own (none verifies them)."""


class CustodyLog(Protocol):
    """A use case's one event on this station's custody chain."""

    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
    ) -> None: ...


class AuditRecords(Protocol):
    """What `dockd audit verify` reads: the chain, and every row of every evidence table,
    encoded as the chain encodes them (`dockd.core.audit.RowFact`)."""

    @property
    def evidence_tables(self) -> Sequence[str]: ...
    @property
    def station(self) -> str: ...
    def custody_events(self) -> list[CustodyEvent]: ...
    def evidence_rows(self) -> Mapping[tuple[str, str], Mapping[str, Any]]: ...
    def stations(self) -> list[RegisteredStation]: ...
    def verifiers(self) -> dict[str, Callable[[bytes, bytes], bool]]:
        """Each registered key's fingerprint and its signature check."""
        ...


class ObjectReader(Protocol):
    """Whole small objects (manifests) out of the store; `errors.StoreError` when unreadable."""

    def reader(self, key: str) -> AbstractContextManager[Callable[[int, int], bytes]]: ...


class RehashingStore(Protocol):
    @property
    def root(self) -> Path: ...
    def rehash(self, key: str) -> tuple[Digests, int] | None: ...
    def set_aside_keys(self) -> dict[str, str]:
        """Objects whose free is under way, by key: where their bytes lie meanwhile."""


# --- status page ---


class StatusLedger(Protocol):
    """The ledger's facts for the status document (adapters.ledger.status.StatusReads)."""

    def facts(
        self, since: datetime, week: datetime, slot_sessions: Collection[str]
    ) -> LedgerFacts: ...

    def verify_runs(self) -> list[VerifyRun]: ...

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime
    ) -> DeadlineReport: ...

    def assignments(self, serial: str) -> list[Assignment]: ...

    def session(self, session_id: str) -> SessionView | None: ...

    def recordings(self, session_id: str) -> list[RecordingView]: ...


class BacklogRecords(Protocol):
    """This station's objects against the central store (adapters.ledger.backlog): read
    by the status page, /metrics and the nightly report when `[central]` is set."""

    def held(self) -> list[HeldGroup]: ...

    def central_candidates(
        self, within: timedelta, since: datetime, until: datetime
    ) -> list[CentralCandidate]: ...

    def lock_lags(self) -> list[datetime]:
        """When the central lock of each object, any station's, began to lag what the
        ledger wants."""


class StationClockReading(Protocol):
    """One measurement of the station clock against true time (NTP convention)."""

    @property
    def synchronised(self) -> bool: ...
    @property
    def offset_s(self) -> float | None: ...
    @property
    def server(self) -> str | None: ...
    @property
    def stratum(self) -> int | None: ...
    @property
    def method(self) -> str: ...
    @property
    def measured_at(self) -> datetime: ...
    @property
    def detail(self) -> str: ...


class StationClockReader(Protocol):
    def __call__(self) -> StationClockReading: ...


class StoreSpaceReader(Protocol):
    """The evidence store's filesystem: size and space free to dockd; OSError when unreadable."""

    def __call__(self) -> StoreSpace: ...


class LiveBoard(Protocol):
    """The daemon's live board of slots (daemon.board.StatusBoard)."""

    started: float  # Unix time the daemon started

    def snapshot(self) -> Sequence[SlotSnapshot]: ...

    def summary(self) -> str: ...


# --- dock session ---

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


class SessionLedger(Protocol):
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
    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
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


class ClearingRecords(Protocol):
    """What the ledger knows for clearing a recorder: its verified recordings with the
    identity each was copied under, its holds, and the custody log."""

    def verified(self, serial: str) -> list[ClearCandidate]: ...
    def holds_on(self, serial: str) -> int: ...
    def announce_clearing(
        self, at: datetime, session_id: str, serial: str, details: dict[str, Any]
    ) -> int:
        """The deletion intent (`recorder-file-clearing`), written only when none of the
        recorder's recordings is on hold, in a transaction hold placement waits for; the
        number of holds found (0: announced)."""
        ...

    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
    ) -> None: ...


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


# --- operators ---


class OperatorAuth(Protocol):
    """Proves that a registered, enabled operator is present: their passphrase checks out.

    A wrong passphrase, an unknown or disabled badge, or a locked operator is a DockdError
    naming which (and a wrong passphrase counts towards the lock-out); never a bare False.
    """

    def authenticate(self, badge: str, passphrase: str, at: datetime) -> Operator: ...


# --- viewing ---


class OperatorRecords(Protocol):
    """The ledger's operators; every change is a custody event naming who made it."""

    def add(self, credential: Credential, at: datetime, by: str) -> None: ...
    def operators(self) -> list[Operator]: ...
    def credential(self, badge: str) -> Credential | None: ...
    def disable(self, badge: str, at: datetime, by: str) -> None: ...
    def record_failure(
        self, badge: str, at: datetime, lock_after: int, lock_for: timedelta
    ) -> datetime | None:
        """Count a wrong passphrase; the end of the lock when this one locked them out."""

    def record_success(self, badge: str) -> None: ...


class ViewingRecords(Protocol):
    """Viewing requests, their approvals and viewings, and what they need of recordings."""

    def recording_units(self, recordings: Sequence[int]) -> list[str | None]:
        """The unit of each recording's custodian when it was made (LedgerError when one
        is unknown or its footage has expired)."""

    def add_request(self, request: ViewingRequest, at: datetime) -> int: ...
    def request(self, request_id: int) -> ViewingRequest | None: ...
    def requests(self) -> list[ViewingRequest]: ...
    def add_approval(
        self, request_id: int, approver: str, role: str, at: datetime, seen: int, complete: bool
    ) -> None:
        """Record an approval decided on `seen` earlier approvals (LedgerError when another
        came meanwhile)."""

    def refuse(self, request_id: int, by: str, reason: str, at: datetime) -> None: ...
    def footage(self, recordings: Sequence[int]) -> list[Footage]: ...
    def add_viewing(self, request_id: int, viewing: Viewing) -> None: ...


class CheckedCopies(Protocol):
    """Copies out of the store, each checked against the ledger's digests as it is written.

    A store object that does not match is an `ObjectMismatchError`, and nothing of the
    copy is left behind."""

    def copy_out(self, out: Path, files: Sequence[tuple[str, Footage]]) -> int:
        """Write each (name, footage) read-only under `out` (absent or empty); bytes written."""

    def write_tree(
        self,
        out: Path,
        files: Sequence[tuple[str, Footage]],
        documents: dict[str, bytes],
        link: bool,
    ) -> None:
        """The archive tree: each file linked to (or copied from) the store, the documents
        at the root."""


class ArchiveRecords(Protocol):
    """The archive labels of recordings (003/E:18); each change is a custody event."""

    def items(self) -> list[ArchiveItem]: ...
    def label(
        self,
        recording: int,
        level: str | None,
        subject: str | None,
        matter: str | None,
        at: datetime,
        by: str,
    ) -> None: ...
    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, object], by: str
    ) -> None: ...


# --- export ---


class PackageSigner(Protocol):
    """The station key as an export uses it (the station key of issue 11 is one)."""

    def sign(self, data: bytes) -> bytes: ...
    def public_pem(self) -> str: ...


class ExportRecords(Protocol):
    """The ledger's side of exports; starting, finishing, failing and refusing one are
    custody events, the start written before anything else."""

    def recordings(self, ids: Sequence[int]) -> list[RecordingView]: ...
    def session_recordings(self, session_id: str) -> list[RecordingView]: ...
    def session_manifest(self, session_id: str) -> tuple[str, str, str, int] | None:
        """(blake3, sha256, object key, size) of the session's manifest object."""

    def custody_concerning(self, subjects: Collection[str]) -> list[CustodyEvent]:
        """Every station's events about `subjects`, by station and then its chain's seq."""

    def custodians_at(self, serial: str) -> list[CustodyStretch]: ...
    def begin(self, intent: ExportIntent) -> None: ...
    def complete(
        self, export_id: str, at: datetime, nbytes: int, tag_sha256: str, iso: str | None
    ) -> None: ...
    def fail(self, export_id: str, at: datetime, code: str, message: str) -> None: ...
    def refused(self, at: datetime, details: dict[str, Any]) -> None: ...
    def exports(self) -> list[ExportView]: ...


class ExportSource(Protocol):
    """The store, read for an export."""

    chunk_size: int

    def reader(self, key: str) -> AbstractContextManager[ReadAt]: ...


class PackageWriter(Protocol):
    """One package being written beside its final place; nothing is there until `finish`."""

    def add_file(self, path: str, chunks: Iterable[bytes]) -> FileDigests: ...
    def add_tag(self, path: str, data: bytes) -> None: ...
    def finish(self, bag_info: dict[str, str], signer: PackageSigner, iso: bool) -> tuple[int, str]:
        """Manifests, bag-info, tag manifests and signature, then into place: the package's
        bytes and the SHA-256 of the signed tag manifest."""

    def abandon(self) -> None: ...


class Packages(Protocol):
    """BagIt packages (and their ISO images) on disk."""

    def start(self, out: Path) -> PackageWriter: ...
    def verify(self, path: Path) -> PackageCheck: ...


# --- supervision ---


class SupervisionRecords(Protocol):
    """Spot checks, interruption reviews, work records, device changes and unplugs: each
    a custody event carrying its rows."""

    def chain_head(self) -> tuple[int, str]: ...
    def population(self, since: datetime, until: datetime) -> list[Member]: ...
    def record_draw(self, draw: Draw, at: datetime, by: str) -> int:
        """Raises ChainMovedError when the chain's head is no longer `draw.seed`."""
        ...

    def draw(self, draw_id: int) -> RecordedDraw | None: ...
    def review_item(self, item_id: int, review: Review, at: datetime) -> None: ...
    def explain(self, interruption_id: int, text: str, by: str, at: datetime) -> None: ...
    def review_interruption(self, interruption_id: int, by: str, at: datetime) -> None: ...
    def add_work_record(self, record: WorkRecord, at: datetime, by: str) -> int: ...
    def change_device(self, serial: str, kind: str, reason: str, at: datetime, by: str) -> None: ...

    def record_unplug(self, serial: str, session_id: str | None, at: datetime) -> None: ...


# --- activities ---


class ActivityRecords(Protocol):
    """The agency's activity list and the recordings matched to it; each write is a custody
    event carrying its rows."""

    def existing(self, ids: Collection[str]) -> dict[str, Activity]: ...
    def add(
        self, activities: Sequence[Activity], pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        """Add these activities (none already there) and match them, in one transaction."""
        ...

    def rematch(self, since: datetime, pack: PolicyPack, at: datetime, by: str) -> Matching:
        """Match again the activities that started since: footage docked after the import."""
        ...

    def match_window(
        self, since: datetime, until: datetime, pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        """Match the activities whose window overlaps [since, until]: a dock session's
        recordings, so the cost is that session's span, not the list's."""
        ...


# --- central store ---


class CentralStore(Protocol):
    """The agency's S3 bucket with Object Lock (COMPLIANCE). Every method raises a
    `CentralError` subclass naming the cause; none deletes or overwrites anything.

    Keys: `put` takes the LOCAL store key in `CentralPut.key` (``objects/blake3/ab/…``) and
    the store prepends ``[central] prefix``; the `CentralUpload.key` and `CentralHead.key` it
    returns, and the keys `head`, `extend_retention`, `set_legal_hold` and `read` take, are
    the full bucket keys (prefix included). Safe to call from several threads at once."""

    def check_bucket(self) -> None:
        """CentralNoObjectLockError unless the bucket has Object Lock enabled."""

    def put(
        self,
        item: CentralPut,
        source: Path,
        started: Callable[[str, str], None] = lambda key, upload_id: None,
    ) -> CentralUpload:
        """Create-only (If-None-Match: *) with the SHA-256 as the S3 checksum and the
        retention and legal hold set in the same request, multipart above the part size
        with a SHA-256 per part; `started(key, upload_id)` is called once a multipart
        upload exists, before any part is sent (an error from it aborts the upload).
        CentralKeyExistsError when the key is taken, CentralChecksumError when the server
        computed another digest (for multipart: when the file read does not hash to
        `item.sha256`, the upload is aborted)."""

    def head(self, key: str, version_id: str | None = None) -> CentralHead | None:
        """The stored version (the newest without `version_id`); None when there is none."""

    def checksum_of(self, source: Path, size: int) -> str:
        """The checksum a put of this file carries (full, or COMPOSITE with this store's
        part size): what an existing object must show to be adopted."""

    def extend_retention(self, key: str, version_id: str, retain_until: datetime) -> None: ...

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None: ...

    def read(self, key: str, version_id: str) -> Iterator[bytes]:
        """The stored version's bytes, streamed (for `dockd verify --central`)."""

    def abort_unfinished(self, upload_ids: Collection[str]) -> list[str]:
        """Abort those of these multipart uploads (a dock killed mid-upload) the server
        still has: the keys whose uploads were aborted. Only ids this station recorded
        starting: stations sharing a bucket may send the same key, and must never abort
        each other's live uploads."""


# --- forwarding ---


class CentralRecords(Protocol):
    """The ledger's side of forwarding (`central_copies`); every state change that is
    evidence is a custody event in the same transaction."""

    def outgoing(self) -> list[Outgoing]:
        """Objects this station holds, and those it sent whose local copy it freed, oldest
        first, each with the lock its central copy needs and the ledger's record of it;
        and other stations' confirmed copies whose lock lags, each with its `sender` and
        `lag_since`, for the pass to take their upkeep over once overdue."""

    def wanted_lock(self, item: Outgoing) -> ObjectLock:
        """The lock the object needs by the ledger's facts now (read again before a lock
        is changed)."""

    def record_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None: ...

    def record_confirmed(
        self, item: Outgoing, head: CentralHead, parts: int, adopted: bool, at: datetime
    ) -> None: ...

    def record_lock(self, item: Outgoing, head: CentralHead, at: datetime) -> None:
        """The lock the server now holds; for another station's copy (`item.sender`) the
        takeover is an event of this station's chain."""

    def record_lock_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None:
        """A lock update that failed, on the confirmed row (which stays confirmed)."""

    def record_freeing(self, item: Outgoing, at: datetime, *, resumed: bool = False) -> bool:
        """The intent, committed before the local copy is touched; False (nothing written)
        when the object's holds, retention or central copy are no longer what `item` says.
        `resumed`: the intent is already on the chain, only the check is made."""

    def freeing_started(self) -> set[str]:
        """The BLAKE3 of each object whose free's intent is on this station's chain, newer
        than its location here, and whose location is not marked removed."""

    def mark_freed(self, item: Outgoing, at: datetime) -> str | None:
        """The final step, in a transaction that serialises with hold placement: the facts
        are checked again; unchanged, the locations are marked freed (None); else nothing
        is freed, `local-copy-free-abandoned` is recorded and its reason returned."""

    def freed_here(self, blake3s: Collection[str]) -> set[str]:
        """Those of `blake3s` whose location in this store the ledger marked removed and
        that this store does not hold again: a set-aside copy of one may be deleted."""

    def upload_started(self, key: str, upload_id: str, at: datetime) -> None:
        """A multipart upload this station began; recorded before any part is sent."""

    def upload_ended(self, upload_ids: Collection[str]) -> None:
        """These uploads completed or are gone from the server: nothing left to abort."""

    def unfinished_uploads(self) -> list[str]:
        """The upload ids this station began and did not see end."""


class ForwardingStore(Protocol):
    """The local store as forwarding sees it: where an object's bytes are, and freeing a
    copy the central store confirmed."""

    def path_of(self, key: str) -> Path: ...

    def set_aside(self, key: str) -> bool:
        """Take the local copy out of the published objects, its bytes kept, durably;
        False when it is not in the store."""

    def put_back(self, key: str) -> None:
        """A set-aside copy back among the published objects, protected as before."""

    def delete_set_aside(self, key: str) -> bool:
        """Delete a set-aside copy whose free the ledger recorded; False when gone."""

    def set_aside_keys(self) -> dict[str, str]:
        """Every set-aside copy: its object key, and where it lies from the store's root."""
