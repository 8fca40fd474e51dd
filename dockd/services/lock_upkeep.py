"""Lock upkeep: a confirmed central copy keeps the lock its recordings need.

Retention only lengthens and the legal hold follows the holds, so once an object is
confirmed its lock in the bucket must follow the ledger: a longer retention, a hold
placed or released. This station keeps its own copies' locks, and takes over another
station's once their lag is older than `takeover_after` (a lost dock's recordings still
get their later holds and longer retentions). Two stations at once are harmless: the
wanted lock is read again just before the change, and a refused change still counts when
the HEAD after it shows the lock the ledger wants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from dockd.core.forwarding import (
    CentralHead,
    Expected,
    Outgoing,
    Step,
    confirmation_problems,
    step,
    upkeep_due,
    wanted_hold,
)
from dockd.errors import CentralNotConfirmedError, DockdError, ForwardingStoppedError
from dockd.ports import CentralRecords, CentralStore, Stopping
from dockd.services.central_checks import SERVER_WIDE, confirm

if TYPE_CHECKING:
    from dockd.services.forward import PassSummary

log = structlog.get_logger("dockd.services.forward")

ENDS_PASS = (*SERVER_WIDE, ForwardingStoppedError)
"""What ends a pass: a server-wide error, or the pass told to stop."""

RecordFailure = Callable[
    [Callable[[Outgoing, str, str, datetime], None], Outgoing, DockdError], None
]


class LockKeeper:
    """`record_failure(record, item, exc)` writes a failure on the object's row (the
    forwarder's, which journals what the ledger cannot take)."""

    def __init__(
        self,
        central: CentralStore,
        records: CentralRecords,
        clock: Callable[[], datetime],
        takeover_after: timedelta,
        record_failure: RecordFailure,
        stopping: Stopping,
    ) -> None:
        self.central = central
        self.records = records
        self.clock = clock
        self.takeover_after = takeover_after
        self.record_failure = record_failure
        self.stopping = stopping

    def due(self, held: dict[str, Outgoing]) -> list[Outgoing]:
        now = self.clock()
        return [i for i in held.values() if upkeep_due(i, now, self.takeover_after)]

    def update(
        self, items: list[Outgoing], held: dict[str, Outgoing], summary: PassSummary
    ) -> None:
        """A failure leaves the row confirmed with the lock it had and the failure's code
        (the backlog counts it): the object is still forwarded, and the next pass tries
        the update again. A stop asked for is looked at before each object."""
        for item in items:
            copy = item.copy
            if copy is None or copy.version_id is None or copy.checksum is None:
                continue
            if (reason := self.stopping()) is not None:
                raise ForwardingStoppedError(
                    "stopped before updating the lock of {key} ({reason})",
                    key=item.key,
                    reason=reason,
                )
            try:
                item = replace(item, lock=self.records.wanted_lock(item))
                if step(item) is not Step.UPDATE_LOCK:
                    continue  # the facts changed back since the pass read them
                head = self._bring_and_confirm(item, copy.version_id, copy.checksum)
                self.records.record_lock(item, head, self.clock())
            except ENDS_PASS:
                raise
            except DockdError as exc:
                log.warning("central-lock-failed", key=item.key, code=exc.code, error=str(exc))
                summary.failed[exc.code] += 1
                self.record_failure(self.records.record_lock_failed, item, exc)
                continue
            held[item.blake3] = replace(
                item,
                copy=replace(
                    copy,
                    retain_until=head.retain_until,
                    legal_hold=head.legal_hold,
                    error_code=None,
                ),
            )
            summary.lock_updated += 1
            summary.taken_over += item.sender is not None
            log.info(
                "central-lock-updated",
                key=item.key,
                retain_until=item.lock.retain_until.isoformat(),
                legal_hold=item.lock.legal_hold,
                taken_over_from=item.sender,
            )

    def _bring_and_confirm(self, item: Outgoing, version: str, checksum: str) -> CentralHead:
        """Another station may be bringing the same lock at the same moment (its own
        upkeep, or a takeover): a change the server refuses (a retention it already holds
        later) still counts when the HEAD after it shows the lock the ledger wants."""
        current = self.central.head(item.key, version)
        if current is None:
            raise CentralNotConfirmedError(
                "{key}: version {version} gone", key=item.key, version=version
            )
        hold = wanted_hold(item)
        expected = Expected(version, item.size, checksum, item.lock.retain_until, hold)
        try:
            bring_lock(self.central, item.key, current, item.lock.retain_until, hold)
        except ENDS_PASS:
            raise
        except DockdError:
            if confirmation_problems(expected, self.central.head(item.key, version)):
                raise
        return confirm(self.central, item.key, expected)


def bring_lock(
    central: CentralStore, key: str, head: CentralHead, retain_until: datetime, legal_hold: bool
) -> None:
    """Retention only ever lengthened; the hold set only when it differs."""
    if head.retain_until is None or head.retain_until < retain_until:
        central.extend_retention(key, head.version_id, retain_until)
    if head.legal_hold != legal_hold:
        central.set_legal_hold(key, head.version_id, legal_hold)
