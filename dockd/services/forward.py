"""Forwarding: every object this station holds reaches the agency's central WORM store,
stays locked there as long as its recordings must be kept, and only then may leave the dock.

A pass, in order: the bucket must have Object Lock (else nothing at all is sent); the first
pass of a process aborts the multipart uploads a killed dockd left; pending objects are
sent (create-only), an identical object already under the key is adopted, and each counts
only after a HEAD of the stored version shows what was sent; confirmed objects whose
retention grew or whose hold changed get their lock updated and re-HEADed (another
station's too, once its lock has lagged longer than `takeover_after`: a lost dock's
recordings still get their later holds and longer retentions); confirmed
copies past `local_retention_days` are freed locally, frees a crash left half-done among
them (`dockd.services.freeing`). Before all of it, the copies a crash left set aside
mid-free are settled.

Errors of the whole server (unreachable, a 5xx or SlowDown, credentials, full) stop the
pass: the objects left are tried again by the next one and nothing is recorded for each.
Errors of one object (a checksum refused, another object under its key, a HEAD that does
not confirm, its local copy unreadable, the ledger refusing its row) are recorded on its
row, and the pass goes on.

A pass told to stop (`stopping`: the daemon's SIGTERM, `dockd forward`'s SIGTERM or
SIGINT) looks before each object, each lock update, the frees, and (in the store) each
part: what is in flight finishes, nothing more starts, and an upload cut between its
parts stays recorded as begun, for the next process's first pass to abort. Lock upkeep
lives in `dockd.services.lock_upkeep`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from dockd.core.backlog import LockUpkeep, lock_upkeep
from dockd.core.forwarding import (
    CentralCopy,
    CentralHead,
    Expected,
    Outgoing,
    Step,
    adoptable,
    step,
)
from dockd.errors import (
    CentralConflictError,
    CentralKeyExistsError,
    CentralNotConfirmedError,
    DockdError,
    ForwardingStoppedError,
)
from dockd.ports import CentralRecords, CentralStore, ForwardingStore, Stopping, never_stopping
from dockd.services.central_checks import confirm as _confirm
from dockd.services.freeing import LocalFreeing
from dockd.services.lock_upkeep import ENDS_PASS, LockKeeper, bring_lock
from dockd.ui.i18n import Said

log = structlog.get_logger("dockd.services.forward")


@dataclass(slots=True)
class PassSummary:
    sent: int = 0
    adopted: int = 0
    lock_updated: int = 0
    taken_over: int = 0  # of lock_updated: another station's copy, its upkeep overdue
    freed: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # error code -> objects
    left: int = 0  # objects not confirmed after the pass
    left_bytes: int = 0
    bytes_sent: int = 0
    aborted_uploads: list[str] = field(default_factory=list)
    # what ended the pass early: a server-wide CentralError, or ForwardingStoppedError
    stopped: DockdError | None = None
    lock_upkeep: LockUpkeep = field(default_factory=lambda: LockUpkeep(0, None, None))

    @property
    def confirmed(self) -> int:
        return self.sent + self.adopted

    @property
    def complete(self) -> bool:
        return self.left == 0 and not self.failed and self.stopped is None


@dataclass(frozen=True, slots=True)
class _Outcome:
    item: Outgoing
    result: str  # sent | adopted | failed | skipped
    code: str | None = None


class Forwarder:
    """`wait_for_disk` is called before each object's upload: the daemon blocks it while a
    slot is copying (docking wins the disk); the CLI passes nothing. `lease` is held for
    the whole pass: one pass at a time per store, across processes, so the unfinished
    uploads a pass aborts are never another live pass's. `takeover_after`: how long
    another station's copy's lock may lag before this station updates it. `stopping` is
    asked before each object and each part: once it gives a reason, what is in flight
    finishes, nothing more is sent, updated or freed, and the pass returns with
    ForwardingStoppedError as `stopped`."""

    def __init__(
        self,
        central: CentralStore,
        records: CentralRecords,
        store: ForwardingStore,
        clock: Callable[[], datetime],
        local_retention_days: int,
        streams: int,
        wait_for_disk: Callable[[], None] = lambda: None,
        lease: Callable[[], AbstractContextManager[None]] = nullcontext,
        takeover_after: timedelta = timedelta(minutes=60),
        stopping: Stopping = never_stopping,
    ) -> None:
        self.central = central
        self.records = records
        self.store = store
        self.clock = clock
        self.local_retention_days = local_retention_days
        self.streams = streams
        self.wait_for_disk = wait_for_disk
        self.lease = lease
        self.stopping = stopping
        self.locks = LockKeeper(central, records, clock, takeover_after, self._record, stopping)
        self.freeing = LocalFreeing(central, records, store, clock, local_retention_days)
        self._aborted = False
        self._lock = threading.Lock()  # one pass at a time (daemon thread beside a trigger)
        self._lock_summary = threading.Lock()  # the pass's threads stopping it

    def run_pass(self) -> PassSummary:
        """One pass; CentralNoObjectLockError (and any error of the bucket check) is
        raised before anything is sent. The ledger's objects are read once: each step
        writes what it changed back into `held`, so later steps and the count of what is
        left see the rows as the ledger now has them without reading them again."""
        with self._lock, self.lease():
            self.freeing.settle_set_aside()
            self.central.check_bucket()
            summary = PassSummary()
            held = {i.blake3: i for i in self.records.outgoing()}
            if not self._aborted:
                # No upload of this station is live now (the lease): every one it recorded
                # is a killed pass's, aborted here or already gone from the server.
                mine = self.records.unfinished_uploads()
                summary.aborted_uploads = self.central.abort_unfinished(mine)
                self.records.upload_ended(mine)
                self._aborted = True
                for key in summary.aborted_uploads:
                    log.warning("central-upload-aborted", key=key)
            try:
                self._send_all(
                    [i for i in held.values() if i.local and step(i) is Step.SEND], held, summary
                )
                if summary.stopped is None:
                    self.locks.update(self.locks.due(held), held, summary)
                if summary.stopped is None:
                    if (reason := self.stopping()) is not None:
                        raise ForwardingStoppedError(
                            "stopped before freeing local copies ({reason})", reason=reason
                        )
                    summary.freed = self.freeing.free(held, summary.failed)
            except ENDS_PASS as exc:
                summary.stopped = exc
            for item in held.values():
                if step(item) is Step.SEND:
                    summary.left += 1
                    summary.left_bytes += item.size
            lags = [i.lag_since for i in held.values() if step(i) is Step.UPDATE_LOCK]
            summary.lock_upkeep = lock_upkeep([d for d in lags if d is not None], self.clock())
            if summary.stopped is not None:
                told = isinstance(summary.stopped, ForwardingStoppedError)
                if not told:
                    summary.failed[summary.stopped.code] += 1
                (log.info if told else log.warning)(
                    "central-pass-stopped",
                    code=summary.stopped.code,
                    error=str(summary.stopped),
                    left=summary.left,
                    left_bytes=summary.left_bytes,
                )
            return summary

    # sending ---------------------------------------------------------------

    def _send_all(
        self, items: list[Outgoing], held: dict[str, Outgoing], summary: PassSummary
    ) -> None:
        stop = threading.Event()

        def send(item: Outgoing) -> _Outcome:
            if stop.is_set():
                return _Outcome(item, "skipped")
            self.wait_for_disk()
            try:
                if (reason := self.stopping()) is not None:
                    raise ForwardingStoppedError(
                        "stopped before sending {key} ({reason})", key=item.key, reason=reason
                    )
                return self._send(item)
            except ENDS_PASS as exc:
                stop.set()
                with self._lock_summary:
                    summary.stopped = summary.stopped or exc
                return _Outcome(item, "skipped")
            except DockdError as exc:  # this object's: its local copy, the server, the ledger
                log.warning("central-failed", key=item.key, code=exc.code, error=str(exc))
                self._record(self.records.record_failed, item, exc)
                return _Outcome(item, "failed", exc.code)

        with ThreadPoolExecutor(self.streams, thread_name_prefix="dockd-forward") as pool:
            for outcome in pool.map(send, items):
                held[outcome.item.blake3] = outcome.item
                if outcome.result == "sent":
                    summary.sent += 1
                    summary.bytes_sent += outcome.item.size
                elif outcome.result == "adopted":
                    summary.adopted += 1
                elif outcome.result == "failed" and outcome.code is not None:
                    summary.failed[outcome.code] += 1

    def _record(
        self,
        record: Callable[[Outgoing, str, str, datetime], None],
        item: Outgoing,
        exc: DockdError,
    ) -> None:
        """On the object's row; a ledger that cannot take even that is the journal's."""
        try:
            record(item, exc.code, str(exc), self.clock())
        except DockdError as failed:
            log.error(
                "central-failure-not-recorded", key=item.key, code=failed.code, error=str(failed)
            )

    def _send(self, item: Outgoing) -> _Outcome:
        source = self.store.path_of(item.local_key)
        lock = item.lock
        try:
            begun: list[str] = []

            def started(key: str, upload_id: str) -> None:
                self.records.upload_started(key, upload_id, self.clock())
                begun.append(upload_id)

            upload = self.central.put(item.put(), source, started, self.stopping)
            # completed: nothing to abort. A failed one stays recorded: the store's own
            # abort is best effort, and the next start aborts what the server still has.
            self.records.upload_ended(begun)
            if upload.key != item.key:
                raise CentralNotConfirmedError(
                    "stored as {stored}, expected {key}", stored=upload.key, key=item.key
                )
            expected = Expected(
                upload.version_id, item.size, upload.checksum, lock.retain_until, lock.legal_hold
            )
            parts, result = upload.parts, "sent"
        except CentralKeyExistsError:
            existing = self.central.head(item.key)
            checksum = self.central.checksum_of(source, item.size)
            if existing is not None and self._same_upload_of_other_parts(item, existing, checksum):
                checksum = existing.checksum or checksum
            if existing is None or not adoptable(existing, item.size, checksum):
                raise CentralConflictError(
                    "{key} in the bucket holds other bytes ({found}) than this object "
                    "({size} bytes, {checksum})",
                    key=item.key,
                    found=_shown(existing),
                    size=item.size,
                    checksum=checksum,
                ) from None
            hold = lock.legal_hold or existing.legal_hold  # a hold found ON is not dockd's
            bring_lock(self.central, item.key, existing, lock.retain_until, hold)
            expected = Expected(existing.version_id, item.size, checksum, lock.retain_until, hold)
            parts, result = _parts(checksum), "adopted"
        head = _confirm(self.central, item.key, expected)
        at = self.clock()
        self.records.record_confirmed(item, head, parts, result == "adopted", at)
        log.info("central-confirmed", key=item.key, version=head.version_id, how=result)
        return _Outcome(_confirmed(item, head, at, result == "adopted"), result)

    def _same_upload_of_other_parts(
        self, item: Outgoing, existing: CentralHead, checksum: str
    ) -> bool:
        """A COMPOSITE checksum depends on the part size it was sent with: an object sent
        with another `part_mib` (this station's before a change, another station's) shows
        one this store does not compute. Only then are its bytes read back and compared
        with the ledger's SHA-256; a different size or a full-object checksum is decided
        without reading."""
        if existing.size != item.size or existing.checksum in (None, checksum):
            return False
        if not _parts(existing.checksum or ""):
            return False
        digest = hashlib.sha256()
        for chunk in self.central.read(item.key, existing.version_id):
            digest.update(chunk)
        return digest.hexdigest() == item.sha256


def _confirmed(item: Outgoing, head: CentralHead, at: datetime, adopted: bool) -> Outgoing:
    """The object as the ledger holds it once `record_confirmed` has written `head`."""
    known = item.copy
    copy = CentralCopy(
        blake3=item.blake3,
        key=item.key,
        state="confirmed",
        version_id=head.version_id,
        checksum=head.checksum,
        retain_until=head.retain_until,
        legal_hold=head.legal_hold,
        confirmed_at=at,
        attempts=(known.attempts if known else 0) + 1,
        error_code=None,
        foreign_hold=adopted and head.legal_hold and not item.lock.legal_hold,
    )
    return replace(item, copy=copy)


def _parts(checksum: str) -> int:
    """A COMPOSITE checksum ends in `-N`, N the number of parts; a single put has none."""
    _, dash, count = checksum.rpartition("-")
    return int(count) if dash and count.isdigit() else 0


def _shown(head: CentralHead | None) -> str:
    if head is None:
        return Said("no readable version")
    return Said("{size} bytes, {checksum}", size=head.size, checksum=head.checksum)
