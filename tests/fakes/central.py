"""In-memory twins of the forwarding ports: a bucket that behaves like S3 Object Lock in
COMPLIANCE mode (create-only, retention never shortened, nothing deleted), the ledger's
`central_copies` records, and a local store of object files."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from dockd.core.forwarding import (
    LOCK_MODE,
    CentralCopy,
    CentralHead,
    CentralPut,
    CentralUpload,
    ObjectLock,
    Outgoing,
)
from dockd.errors import (
    CentralChecksumError,
    CentralError,
    CentralKeyExistsError,
    CentralNoObjectLockError,
    ForwardingStoppedError,
    LocalCopyUnreadableError,
    StoreError,
)
from dockd.ports import Stopping, never_stopping


def s3_checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass
class StoredVersion:
    data: bytes
    version_id: str
    retain_until: datetime
    legal_hold: bool
    lock_mode: str = LOCK_MODE
    checksum: str | None = None  # what a HEAD shows, when not the full SHA-256 (multipart)


@dataclass
class FakeBucket:
    """`fail_next` raises each given error from the next put, in order; `unfinished` are
    multipart uploads a killed dock (or another station, live) left, by upload id. An
    object larger than `part_size` (when set) goes up in parts, `stopping` asked before
    each: told to stop, the upload is left in `unfinished`, as S3 keeps it. Like
    the S3 adapter, `put` takes the local key and stores it under `prefix`; every other
    call names the bucket key."""

    prefix: str = "agency/"
    object_lock: bool = True
    objects: dict[str, StoredVersion] = field(default_factory=dict)
    fail_next: list[CentralError] = field(default_factory=list)
    unfinished: dict[str, str] = field(default_factory=dict)  # upload id -> key
    puts: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    corrupt_on_the_way: bool = False
    part_size: int = 0
    parts_sent: int = 0

    def check_bucket(self) -> None:
        if not self.object_lock:
            raise CentralNoObjectLockError("bucket has no Object Lock")

    def put(
        self,
        item: CentralPut,
        source: Path,
        started: Callable[[str, str], None] = lambda key, upload_id: None,
        stopping: Stopping = never_stopping,
    ) -> CentralUpload:
        if self.fail_next:
            raise self.fail_next.pop(0)
        try:
            data = source.read_bytes()
        except OSError as exc:  # as the S3 adapter names it
            raise LocalCopyUnreadableError(f"cannot read the local copy {source}: {exc}") from exc
        if self.corrupt_on_the_way:
            data = data[:-1] + bytes([data[-1] ^ 1])
        key = self.prefix + item.key
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise CentralChecksumError(f"BadDigest for {key}")
        if key in self.objects:
            raise CentralKeyExistsError(f"{key} exists")
        if self.part_size and len(data) > self.part_size:
            self._send_parts(key, len(data), started, stopping)
        self.puts.append(key)
        version = f"v{len(self.puts)}"
        self.objects[key] = StoredVersion(data, version, item.retain_until, item.legal_hold)
        return CentralUpload(key, version, s3_checksum(data), 0)

    def _send_parts(
        self, key: str, size: int, started: Callable[[str, str], None], stopping: Stopping
    ) -> None:
        upload_id = f"upload-{len(self.unfinished) + len(self.puts) + 1}"
        self.unfinished[upload_id] = key
        started(key, upload_id)
        for _ in range(0, size, self.part_size):
            if (reason := stopping()) is not None:
                raise ForwardingStoppedError(f"stopped sending {key} ({reason})")
            self.parts_sent += 1
        del self.unfinished[upload_id]

    def head(self, key: str, version_id: str | None = None) -> CentralHead | None:
        stored = self.objects.get(key)
        if stored is None or (version_id is not None and stored.version_id != version_id):
            return None
        return CentralHead(
            key,
            stored.version_id,
            len(stored.data),
            stored.checksum or s3_checksum(stored.data),
            "COMPOSITE" if stored.checksum else "FULL_OBJECT",
            stored.lock_mode,
            stored.retain_until,
            stored.legal_hold,
        )

    def checksum_of(self, source: Path, size: int) -> str:
        return s3_checksum(source.read_bytes())

    def extend_retention(self, key: str, version_id: str, retain_until: datetime) -> None:
        stored = self.objects[key]
        if retain_until < stored.retain_until:
            raise CentralError(f"AccessDenied: {key} retention cannot be shortened")
        stored.retain_until = retain_until

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        self.objects[key].legal_hold = on

    def read(self, key: str, version_id: str) -> Iterator[bytes]:
        self.reads.append(key)
        yield self.objects[key].data

    def abort_unfinished(self, upload_ids: Collection[str]) -> list[str]:
        aborted = [key for upload, key in self.unfinished.items() if upload in upload_ids]
        self.unfinished = {u: k for u, k in self.unfinished.items() if u not in upload_ids}
        return aborted


@dataclass
class FakeObject:
    blake3: str
    data: bytes
    dates: list[datetime | None]
    holds: int = 0
    # another station sent it and this one never held it: only its lock upkeep is left,
    # taken over once `lag_since` is older than the pass's takeover_after
    sender: str | None = None
    lag_since: datetime | None = None

    @property
    def key(self) -> str:
        return f"objects/blake3/{self.blake3[:2]}/{self.blake3}"


@dataclass
class FakeCentralRecords:
    """`central_copies` and the locations of one station, and the custody events written."""

    objects: list[FakeObject]
    fallback: datetime
    prefix: str = "agency/"
    copies: dict[str, CentralCopy] = field(default_factory=dict)
    freed: set[str] = field(default_factory=set)
    events: list[tuple[str, str]] = field(default_factory=list)  # kind, blake3
    uploads: dict[str, str] = field(default_factory=dict)  # upload id -> key, this station's
    lock_reads: int = 0  # wanted_lock calls

    def outgoing(self) -> list[Outgoing]:
        return self._current()

    def _current(self) -> list[Outgoing]:
        """The objects as the ledger has them now (what `record_freeing` checks again)."""
        from dockd.core.forwarding import Step, central_key, needed_lock, step

        out = []
        for obj in self.objects:
            copy = self.copies.get(obj.blake3)
            local = obj.sender is None and obj.blake3 not in self.freed
            if not local and (copy is None or copy.state != "confirmed"):
                continue
            confirmed = copy.retain_until if copy and copy.state == "confirmed" else None
            item = Outgoing(
                obj.blake3,
                hashlib.sha256(obj.data).hexdigest(),
                len(obj.data),
                obj.key,
                central_key(self.prefix, obj.key),
                needed_lock(obj.dates, obj.holds, self.fallback, confirmed),
                copy,
                local,
                obj.sender,
            )
            lagging = step(item) is Step.UPDATE_LOCK
            out.append(replace(item, lag_since=obj.lag_since if lagging else None))
        return out

    def wanted_lock(self, item: Outgoing) -> ObjectLock:
        self.lock_reads += 1
        [now] = [o for o in self._current() if o.blake3 == item.blake3]
        return now.lock

    def _copy(self, item: Outgoing) -> CentralCopy:
        return self.copies.get(item.blake3) or CentralCopy(
            item.blake3, item.key, "pending", None, None, None, False, None, 0, None
        )

    def record_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None:
        known = self._copy(item)
        if known.state == "confirmed" or (known.state == "failed" and known.error_code == code):
            return
        self.copies[item.blake3] = replace(
            known, state="failed", error_code=code, attempts=known.attempts + 1
        )
        self.events.append(("central-failed", item.blake3))

    def record_confirmed(
        self, item: Outgoing, head: CentralHead, parts: int, adopted: bool, at: datetime
    ) -> None:
        known = self._copy(item)
        self.copies[item.blake3] = replace(
            known,
            state="confirmed",
            version_id=head.version_id,
            checksum=head.checksum,
            retain_until=head.retain_until,
            legal_hold=head.legal_hold,
            confirmed_at=at,
            attempts=known.attempts + 1,
            error_code=None,
            foreign_hold=adopted and head.legal_hold and not item.lock.legal_hold,
        )
        self.events.append(("central-confirmed", item.blake3))

    def record_lock_failed(self, item: Outgoing, code: str, message: str, at: datetime) -> None:
        known = self.copies[item.blake3]
        if known.state == "confirmed" and known.error_code != code:
            self.copies[item.blake3] = replace(known, error_code=code)
            self.events.append(("central-lock-failed", item.blake3))

    def record_lock(self, item: Outgoing, head: CentralHead, at: datetime) -> None:
        if item.sender is not None:
            self.events.append(("central-lock-upkeep-taken-over", item.blake3))
        self.copies[item.blake3] = replace(
            self.copies[item.blake3],
            retain_until=head.retain_until,
            legal_hold=head.legal_hold,
            error_code=None,
        )
        self.events.append(("central-lock-updated", item.blake3))

    def record_freeing(self, item: Outgoing, at: datetime, *, resumed: bool = False) -> bool:
        [now] = [o for o in self._current() if o.blake3 == item.blake3]
        if (now.lock, now.copy) != (item.lock, item.copy):
            return False
        if resumed:
            return True
        self.events.append(("local-copy-freeing", item.blake3))
        return True

    def freeing_started(self) -> set[str]:
        started = {b for kind, b in self.events if kind == "local-copy-freeing"}
        return started - self.freed

    def mark_freed(self, item: Outgoing, at: datetime) -> str | None:
        [now] = [o for o in self._current() if o.blake3 == item.blake3]
        if (now.lock, now.copy) != (item.lock, item.copy):
            self.events.append(("local-copy-free-abandoned", item.blake3))
            return "hold-placed" if now.lock.legal_hold else "facts-changed"
        self.freed.add(item.blake3)
        self.events.append(("local-copy-freed", item.blake3))
        return None

    def freed_here(self, blake3s: Collection[str]) -> set[str]:
        return self.freed & set(blake3s)

    def upload_started(self, key: str, upload_id: str, at: datetime) -> None:
        self.uploads[upload_id] = key

    def upload_ended(self, upload_ids: Collection[str]) -> None:
        for upload_id in upload_ids:
            self.uploads.pop(upload_id, None)

    def unfinished_uploads(self) -> list[str]:
        return list(self.uploads)


class StoreCrashed(Exception):
    pass


@dataclass
class FakeLocalStore:
    """Object files under `root`, a free's set-aside copies under `root/.freeing`.
    `crash_on_free` raises before a copy is set aside (a power cut), `crash_after_set_aside`
    right after, `crash_on_delete` before a set-aside copy is deleted; `refuse_free` names
    keys whose setting aside fails as a failing disk's does; `on_set_aside` runs just
    before a copy is set aside (a hold placed at that instant)."""

    root: Path
    crash_on_free: bool = False
    crash_after_set_aside: bool = False
    crash_on_delete: bool = False
    refuse_free: set[str] = field(default_factory=set)  # keys whose deletion fails (EIO)
    on_set_aside: Callable[[str], None] = lambda key: None

    def path_of(self, key: str) -> Path:
        return self.root / key

    def aside_path(self, key: str) -> Path:
        return self.root / ".freeing" / Path(key).name

    def add(self, obj: FakeObject) -> None:
        path = self.path_of(obj.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obj.data)

    def set_aside(self, key: str) -> bool:
        if self.crash_on_free:
            raise StoreCrashed(key)
        if key in self.refuse_free:
            raise StoreError(f"cannot delete {self.path_of(key)}: Input/output error")
        self.on_set_aside(key)
        path, aside = self.path_of(key), self.aside_path(key)
        if not path.exists():
            return aside.exists()
        aside.parent.mkdir(exist_ok=True)
        path.rename(aside)
        if self.crash_after_set_aside:
            raise StoreCrashed(key)
        return True

    def put_back(self, key: str) -> None:
        aside = self.aside_path(key)
        if aside.exists():
            aside.rename(self.path_of(key))

    def delete_set_aside(self, key: str) -> bool:
        if self.crash_on_delete:
            raise StoreCrashed(key)
        aside = self.aside_path(key)
        if not aside.exists():
            return False
        aside.unlink()
        return True

    def set_aside_keys(self) -> dict[str, str]:
        folder = self.root / ".freeing"
        found = sorted(folder.iterdir()) if folder.is_dir() else []
        return {f"objects/blake3/{p.name[:2]}/{p.name}": f".freeing/{p.name}" for p in found}
