"""Ports for the central store and forwarding to it: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.forwarding import (
        CentralHead,
        CentralPut,
        CentralUpload,
        ObjectLock,
        Outgoing,
    )


Stopping = Callable[[], str | None]
"""Asked between objects and between the parts of a multipart upload: None to go on, or
why the pass must end now (``"SIGTERM"``, ``"dockd is stopping"``)."""


def never_stopping() -> str | None:
    return None


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
        stopping: Stopping = never_stopping,
    ) -> CentralUpload:
        """Create-only (If-None-Match: *) with the SHA-256 as the S3 checksum and the
        retention and legal hold set in the same request, multipart above the part size
        with a SHA-256 per part; `started(key, upload_id)` is called once a multipart
        upload exists, before any part is sent (an error from it aborts the upload).
        CentralKeyExistsError when the key is taken, CentralChecksumError when the server
        computed another digest (for multipart: when the file read does not hash to
        `item.sha256`, the upload is aborted). `stopping` is asked before each part is
        read: once it gives a reason, the parts in flight finish and
        ForwardingStoppedError is raised, the upload left unfinished on the server (as
        `started` recorded it) for the next start's `abort_unfinished`."""

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


class FreeingRecords(Protocol):
    """The ledger's side of freeing a local copy whose central copy is confirmed."""

    def record_freeing(self, item: Outgoing, at: datetime, *, resumed: bool = False) -> bool:
        """The intent, committed before the local copy is touched; False (nothing written)
        when the object's holds, retention or central copy are no longer what `item` says.
        `resumed`: the intent is already on the chain, only the check is made."""

    def freeing_started(self) -> set[str]:
        """The BLAKE3 of each object whose free's intent is on this station's chain, newer
        than its location here, and whose location is not marked removed."""

    def mark_freed(self, item: Outgoing, at: datetime) -> str | None:
        """The final step, under the object row's lock hold placement takes: the facts
        are checked again; unchanged, the locations are marked freed (None); else nothing
        is freed, `local-copy-free-abandoned` is recorded and its reason returned."""

    def freed_here(self, blake3s: Collection[str]) -> set[str]:
        """Those of `blake3s` whose location in this store the ledger marked removed and
        that this store does not hold again: a set-aside copy of one may be deleted."""


class CentralRecords(FreeingRecords, Protocol):
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
