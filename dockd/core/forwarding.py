"""Forwarding's pure decisions, and the central store's side of an object as plain values:
what a put asks for, what the server answered, and what a HEAD of the stored version shows.

- The lock an object's central copy needs (`needed_lock`): COMPLIANCE until the latest
  retain-until among its recordings. A session manifest takes the latest of its session's
  recordings and their holds (it is the proof of their custody, kept as long as they are);
  an object no dated recording covers (a manifest of a session with none) takes the pack's
  routine period from when it was stored. Never shorter than what the server was confirmed
  to hold; rounded up to the second, as S3 keeps it. Legal hold ON iff an open hold covers
  one of its recordings.
- What counts as forwarded (`confirmation_problems` empty): a HEAD of the stored version
  shows the size, checksum, COMPLIANCE, a retain-until at least the one asked for, and the
  legal hold asked for. An existing object is adopted only with the same size and checksum.
- When the dock may let its own copy go (`may_free_local`).
- Whose lock upkeep an object is (`upkeep_due`): the station that holds or sent it keeps
  its lock at once; any other station takes it over once the lock has lagged what the
  ledger wants for longer than `[central] upkeep_takeover_minutes` (`lag_since`), so a
  burnt or stolen dock's recordings still get their later holds and longer retentions.

Checksums are as S3 spells them: base64 of the SHA-256 for a single put, and for a
multipart upload base64 of the SHA-256 of the parts' digests followed by ``-N`` (COMPOSITE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

LOCK_MODE = "COMPLIANCE"


@dataclass(frozen=True, slots=True)
class CentralPut:
    """One object to send: `key` is the local store's key (the central store puts it under
    its `[central] prefix` and answers with the bucket key in `CentralUpload.key`; every
    other call names the bucket key), `sha256` the ledger's hex digest, which the server
    must find in the bytes it receives."""

    key: str
    size: int
    sha256: str
    retain_until: datetime
    legal_hold: bool


@dataclass(frozen=True, slots=True)
class CentralUpload:
    """The server's answer to a put: the version it stored and the checksum it was sent."""

    key: str
    version_id: str
    checksum: str
    parts: int  # 0 for a single put


@dataclass(frozen=True, slots=True)
class CentralHead:
    """A HEAD of a stored version with checksum mode enabled."""

    key: str
    version_id: str
    size: int
    checksum: str | None
    checksum_type: str | None  # FULL_OBJECT or COMPOSITE, when the server says
    lock_mode: str | None
    retain_until: datetime | None
    legal_hold: bool


class Step(Enum):
    """What a pass does with one object this station holds."""

    SEND = "send"  # never confirmed: put (create-only), adopt an identical existing one
    UPDATE_LOCK = "update-lock"  # confirmed, but retention grew or the hold state changed
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class ObjectLock:
    """What the central copy of an object must hold: COMPLIANCE until `retain_until`, and a
    legal hold while any hold covers one of its recordings."""

    retain_until: datetime
    legal_hold: bool


@dataclass(frozen=True, slots=True)
class CentralCopy:
    """The ledger's record of an object's central copy (`central_copies`)."""

    blake3: str
    key: str
    state: str  # pending | confirmed | failed
    version_id: str | None
    checksum: str | None
    retain_until: datetime | None
    legal_hold: bool
    confirmed_at: datetime | None
    attempts: int
    error_code: str | None
    foreign_hold: bool = False  # ON when adopted, not asked by dockd: it is never switched off


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An object this station's store holds, with the lock its central copy needs."""

    blake3: str
    sha256: str
    size: int
    local_key: str
    key: str  # in the bucket: prefix + local_key
    lock: ObjectLock
    copy: CentralCopy | None  # None: never sent
    local: bool  # this station's store still holds it (else only lock upkeep is left)
    # another station's central object (it sent it, this one holds no copy): its lock
    # upkeep is taken over only once overdue (`upkeep_due`); None: this station's own
    sender: str | None = None
    lag_since: datetime | None = None  # when the lock began to lag the ledger (`lag_since`)

    def recorded(self) -> Expected | None:
        """What the ledger says the server holds for a confirmed copy: what a HEAD must
        still show (`dockd verify --central`, and right before a local copy is freed)."""
        copy = self.copy
        if copy is None or copy.state != "confirmed":
            return None
        if copy.version_id is None or copy.checksum is None or copy.retain_until is None:
            return None
        return Expected(
            copy.version_id, self.size, copy.checksum, copy.retain_until, copy.legal_hold
        )

    def put(self) -> CentralPut:
        return CentralPut(
            self.local_key, self.size, self.sha256, self.lock.retain_until, self.lock.legal_hold
        )


@dataclass(frozen=True, slots=True)
class Expected:
    """What a HEAD of the stored version must show before the object counts as forwarded."""

    version_id: str
    size: int
    checksum: str
    retain_until: datetime
    legal_hold: bool


def central_key(prefix: str, local_key: str) -> str:
    """The bucket key: the local store's key under `[central] prefix`, so one bucket can
    hold several agencies' or test runs' objects apart."""
    return f"{prefix}{local_key}"


def needed_lock(
    dates: Iterable[datetime | None],
    holds_open: int,
    fallback: datetime,
    confirmed: datetime | None,
) -> ObjectLock:
    """The latest retain-until among the object's recordings (`dates`; for a manifest, its
    session's recordings), never shorter than what the server was confirmed to hold (S3
    refuses shortening anyway, and asking would only fail). A recording without a date, or
    an object with no recording at all, counts as `fallback`: the pack's routine period from
    when the object was stored, the longest a routine recording is kept."""
    candidates = [d if d is not None else fallback for d in dates] or [fallback]
    if confirmed is not None:
        candidates.append(confirmed)
    return ObjectLock(_whole_second(max(candidates)), holds_open > 0)


def step(item: Outgoing) -> Step:
    copy = item.copy
    if copy is None or copy.state != "confirmed":
        return Step.SEND
    if copy.retain_until is None or item.lock.retain_until > copy.retain_until:
        return Step.UPDATE_LOCK
    if wanted_hold(item) != copy.legal_hold:
        return Step.UPDATE_LOCK
    return Step.NOTHING


def wanted_hold(item: Outgoing) -> bool:
    """ON while a hold covers one of its recordings, and always for a hold dockd found
    when it adopted the object (someone else's, which dockd never switches off)."""
    return item.lock.legal_hold or (item.copy is not None and item.copy.foreign_hold)


def lag_since(recorded_at: datetime, changes: Iterable[datetime]) -> datetime:
    """When the lock the ledger wants began to differ from the one last recorded at
    `recorded_at`: the first change since (a hold placed or released, a recording added or
    its retention grown). None after it: the pass that recorded the lock read its facts a
    moment before writing, so the change came in between, and the record's time is the
    latest the lag can have begun."""
    return min((c for c in changes if c > recorded_at), default=recorded_at)


def upkeep_due(item: Outgoing, now: datetime, takeover_after: timedelta) -> bool:
    """Whether this station updates the object's central lock in this pass: its own (it
    holds or sent the object) as soon as the lock lags; another station's only once the
    lag is older than `takeover_after`, the sender having had its chance. Two stations
    doing it at once is harmless: retention is only extended, the hold set to one value,
    and each confirms by HEAD."""
    if step(item) is not Step.UPDATE_LOCK:
        return False
    if item.sender is None:
        return True
    return item.lag_since is not None and now - item.lag_since >= takeover_after


def adoptable(head: CentralHead | None, size: int, checksum: str) -> bool:
    """An object already under the key is this object only when size and checksum match;
    anything else is someone else's bytes and is never overwritten."""
    return head is not None and head.size == size and head.checksum == checksum


def confirmation_problems(expected: Expected, head: CentralHead | None) -> list[str]:
    """Why the stored version does not count as forwarded; empty when it does."""
    if head is None:
        return [f"no stored version {expected.version_id}"]
    problems = []
    if head.version_id != expected.version_id:
        problems.append(f"version {head.version_id}, expected {expected.version_id}")
    if head.size != expected.size:
        problems.append(f"size {head.size}, expected {expected.size}")
    if head.checksum != expected.checksum:
        problems.append(f"checksum {head.checksum}, expected {expected.checksum}")
    if head.lock_mode != LOCK_MODE:
        problems.append(f"lock mode {head.lock_mode}, expected {LOCK_MODE}")
    if head.retain_until is None or head.retain_until < expected.retain_until:
        shown = head.retain_until.isoformat() if head.retain_until else "none"
        problems.append(f"retain-until {shown}, expected {expected.retain_until.isoformat()}")
    if head.legal_hold != expected.legal_hold:
        problems.append(f"legal hold {_on(head.legal_hold)}, expected {_on(expected.legal_hold)}")
    return problems


def may_free_local(
    copy: CentralCopy | None, now: datetime, local_retention_days: int, holds_open: int
) -> bool:
    """Only a confirmed copy, `local_retention_days` after its confirmation, and never while
    a hold is open unless the central legal hold is confirmed ON (`copy.legal_hold`, what
    the server was last confirmed to hold): the agency's copy of record must keep the held
    evidence before the dock lets its own go."""
    if copy is None or copy.state != "confirmed" or copy.confirmed_at is None:
        return False
    if now < copy.confirmed_at + timedelta(days=local_retention_days):
        return False
    return holds_open == 0 or copy.legal_hold


def _whole_second(moment: datetime) -> datetime:
    """Rounded up: S3 keeps retain-until to the second, and a HEAD showing a date a
    fraction earlier than the one asked for would never confirm."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _on(flag: bool) -> str:
    return "ON" if flag else "OFF"
