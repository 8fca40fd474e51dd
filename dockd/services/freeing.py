"""Freeing a local copy once the central store has confirmed it, `local_retention_days`
after it was confirmed, and never while a hold is open unless the central legal hold is
confirmed. Nothing is deleted before the ledger says freed: the intent is checked and
recorded, the copy is set aside (out of the published objects, its bytes kept), the
ledger's final transaction checks the facts again under the row lock hold placement
takes, and only then is the set-aside copy deleted. A hold placed in between wins: the
copy is put back, and the chain says why. A crash at any step is settled by the next
pass (`settle_set_aside`), from the ledger's word alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import structlog

from dockd.core.forwarding import Expected, Outgoing, Step, may_free_local, step
from dockd.errors import DockdError, LocalCopyUnreadableError
from dockd.ports import CentralStore, ForwardingStore, FreeingRecords
from dockd.services.central_checks import SERVER_WIDE, confirm

log = structlog.get_logger("dockd.services.freeing")


class LocalFreeing:
    """One store's frees, run by the forwarding pass (under its lease: no other free of
    this store is under way)."""

    def __init__(
        self,
        central: CentralStore,
        records: FreeingRecords,
        store: ForwardingStore,
        clock: Callable[[], datetime],
        local_retention_days: int,
    ) -> None:
        self.central = central
        self.records = records
        self.store = store
        self.clock = clock
        self.local_retention_days = local_retention_days

    def _may_free(self, item: Outgoing, now: datetime) -> bool:
        holds = 1 if item.lock.legal_hold else 0
        return may_free_local(item.copy, now, self.local_retention_days, holds)

    def free(self, held: dict[str, Outgoing], failed: Counter[str]) -> int:
        """The copies freed, each written back into `held` as no longer local; a refusal
        counted in `failed` by its code. The central copy is HEADed once more right
        before: the local copy goes only while the server still shows the locked object
        the ledger recorded. A free a crash interrupted after its intent
        (`freeing_started`) is finished by the same checks, without a second intent."""
        now = self.clock()
        started = self.records.freeing_started()
        freed = 0
        for item in list(held.values()):
            recorded = item.recorded()
            if not item.local or step(item) is not Step.NOTHING or recorded is None:
                continue
            if not self._may_free(item, now):
                continue
            try:
                if not self._free_one(item, recorded, item.blake3 in started):
                    continue
            except SERVER_WIDE:
                raise
            except DockdError as exc:
                log.warning("central-free-refused", key=item.key, code=exc.code, error=str(exc))
                failed[exc.code] += 1
                continue
            held[item.blake3] = replace(item, local=False)
            freed += 1
            log.info("local-copy-freed", key=item.local_key, central=item.key)
        return freed

    def _free_one(self, item: Outgoing, recorded: Expected, started: bool) -> bool:
        """False when the facts changed (the local copy stays, and the next pass decides
        again)."""
        confirm(self.central, item.key, recorded)
        if not self.records.record_freeing(item, self.clock(), resumed=started):
            log.info("local-free-deferred", key=item.local_key, reason="facts changed")
            return False
        if not self.store.set_aside(item.local_key):
            # The ledger says this store holds it and it is not there: a copy lost, or one
            # counted as this station's that never was. Its location stays unremoved for
            # `dockd verify` to name; marking it freed would hide the loss.
            raise LocalCopyUnreadableError(
                "the local copy {key} was not in the store to be freed: its location is left "
                "as the ledger has it",
                key=item.local_key,
            )
        try:
            abandoned = self.records.mark_freed(replace(item, local=False), self.clock())
        except DockdError:
            # A commit may fail after it reached the disk: the ledger, not this error, says
            # whether the copy was freed; when it does not answer, the next pass asks.
            try:
                self._settle([item.local_key])
            except DockdError as exc:
                log.warning("set-aside-unsettled", key=item.local_key, code=exc.code)
            raise
        if abandoned is not None:
            self.store.put_back(item.local_key)
            log.warning("local-free-abandoned", key=item.local_key, reason=abandoned)
            return False
        self._delete_set_aside(item.local_key)
        return True

    def settle_set_aside(self) -> None:
        """Frees a crash cut short between setting a copy aside and deleting it: those the
        ledger recorded freed are deleted, every other one is put back (the next free of
        it starts again from the intent's check). Run before anything else of a pass."""
        aside = self.store.set_aside_keys()
        if aside:
            self._settle(list(aside))

    def _settle(self, keys: list[str]) -> None:
        freed = self.records.freed_here([Path(key).name for key in keys])
        for key in keys:
            if Path(key).name in freed:
                self._delete_set_aside(key)
            else:
                self.store.put_back(key)
                log.warning("local-free-put-back", key=key)

    def _delete_set_aside(self, key: str) -> None:
        """The ledger already says freed: a failed deletion is retried by the next pass."""
        try:
            self.store.delete_set_aside(key)
        except DockdError as exc:
            log.warning("set-aside-not-deleted", key=key, code=exc.code, error=str(exc))
