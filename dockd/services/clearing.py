"""Clearing a recorder after offload (数据清空), where the pack allows it and the config
turns it on: the recorder's verified files are deleted, nothing else.

Crash safety: each deletion is announced in the custody log (`recorder-file-clearing`)
before the unlink and its result follows (`recorder-file-cleared`, or
`recorder-file-not-cleared` with the error). An intent without a result means dockd
stopped in between: the file is gone or still there, and its verified copy is in the store
either way.

The store's copy is checked on disk first: present with the verified size, and re-hashed
(the store's read-back) when it was verified at an earlier dock, since a ledger row cannot
tell that a disk lost it since. The holds are asked after that, inside the deletion
intent's own transaction, under the row lock of the file's object that hold placement
takes.

With a central store, only files whose copy the central store has confirmed are deleted.
Confirmation comes minutes after the dock. A recorder still docked then is cleared of
the rest after the forwarding pass that confirmed them (`confirmed_since`, then `clear`
again with every check); one the officer has taken is cleared at its next dock, when it is
verified again by identity (it was, so it is not copied twice) and its confirmation has
arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import structlog

from dockd.core.clearing import (
    ClearCandidate,
    KeptFile,
    clearing_refusal,
    confirmed_since,
    plan_clearing,
    recheck,
    store_check,
)
from dockd.core.model import display_path
from dockd.core.profiles import RecorderProfile, pick_profile
from dockd.core.said import Said
from dockd.errors import RecorderClearError, StoreError
from dockd.ports import ClearingRecords, ClearingStore, Clock, RecorderFiles, Volume

log = structlog.get_logger("dockd.clearing")
KEPT_SHOWN = 5  # the board names this many of the files kept


@dataclass
class ClearResult:
    deleted: int = 0
    kept: list[KeptFile] = field(default_factory=list)
    error: RecorderClearError | None = None
    awaiting_central: frozenset[int] = frozenset()  # recordings kept for their confirmation

    @property
    def summary(self) -> Said:
        """One line for the status board, said again in its reader's language."""
        cleared = (
            Said("cleared 1 file from the recorder", count=1)
            if self.deleted == 1
            else Said("cleared {count} files from the recorder", count=self.deleted)
        )
        if not self.kept:
            return cleared
        shown = [
            Said("{path} ({reason})", path=display_path(k.path), reason=k.reason)
            for k in self.kept[:KEPT_SHOWN]
        ]
        more = len(self.kept) - KEPT_SHOWN
        if more > 0:
            shown.append(Said("and {count} more", count=more))
        return Said(
            "{cleared}; {count} kept: {files}",
            cleared=cleared,
            count=len(self.kept),
            files=_listed(shown),
        )


def _listed(items: list[Said]) -> Said:
    """Items one after another, with the reader's own separator between them."""
    first, *rest = items
    return Said("{first}; {rest}", first=first, rest=_listed(rest)) if rest else first


class RecorderClearing:
    """Deleting a fully verified recorder's copied files, on its read-write mount."""

    def __init__(
        self,
        volume: Volume,
        files: RecorderFiles,
        records: ClearingRecords,
        store: ClearingStore,
        clock: Clock,
        profiles: dict[str, RecorderProfile],
        *,
        pack_allows: bool,
        enabled: bool,
        central: bool,
    ) -> None:
        self.volume, self.files, self.records, self.clock = volume, files, records, clock
        self.store = store
        self.profiles, self.pack_allows, self.enabled = profiles, pack_allows, enabled
        self.central = central

    def refusal(self, serial: str, state: str, fully_verified: bool) -> str | None:
        """Why this recorder is not cleared after this session, or None to go ahead."""
        return clearing_refusal(
            pack_allows=self.pack_allows,
            enabled=self.enabled,
            session_state=state,
            fully_verified=fully_verified,
            holds=self.records.holds_on(serial) if self.enabled and self.pack_allows else 0,
        )

    def confirmed_since(self, serial: str, awaited: frozenset[int]) -> bool:
        """Whether the recordings a clearing kept back have been confirmed centrally since."""
        return confirmed_since(awaited, self.records.verified(serial))

    def clear(self, mountpoint: Path, profile_id: str, serial: str, session_id: str) -> ClearResult:
        """Delete the files whose exact identity has a verified copy; each re-checked just
        before its deletion, each deletion in the custody log before and after. The holds
        are asked again with each file's deletion intent: one placed while the clearing runs
        stops it."""
        scan = self.volume.scan(mountpoint, pick_profile(self.profiles, profile_id))
        plan = plan_clearing(scan.recordings, self.records.verified(serial), self.central)
        result = ClearResult(kept=list(plan.kept), awaiting_central=plan.awaiting_central)
        for index, candidate in enumerate(plan.delete):
            details: dict[str, object] = {
                "serial": serial,
                "path": display_path(candidate.path),
                "size": candidate.size,
                "mtime_ns": candidate.mtime_ns,
                "recording": candidate.recording,
                "blake3": candidate.blake3,
            }
            reason = self._store_refusal(candidate, session_id)
            if reason is None:
                reason = recheck(candidate, self.files.look(mountpoint, candidate.path))
            if reason is not None:
                result.kept.append(KeptFile(candidate.path, reason))
                continue
            # Asked in the intent's own transaction, after the checks above (a re-hash of a
            # large clip takes minutes): a hold placed at any moment before it stops the rest.
            held = self.records.announce_clearing(
                self.clock(), session_id, serial, candidate.blake3, details
            )
            if held:
                on_hold = Said(
                    "{held} of the recorder's recordings were put on hold meanwhile", held=held
                )
                result.kept.extend(KeptFile(c.path, on_hold) for c in plan.delete[index:])
                break
            try:
                self.files.remove(mountpoint, candidate.path)
            except RecorderClearError as exc:
                failed = {**details, "code": exc.code, "error": exc.message}
                self.records.record_event(
                    self.clock(), "recorder-file-not-cleared", session_id, failed
                )
                result.kept.append(KeptFile(candidate.path, exc.message))
                result.error = exc
                continue
            self.records.record_event(self.clock(), "recorder-file-cleared", session_id, details)
            result.deleted += 1
        log.info(
            "recorder-cleared",
            serial=serial,
            session=session_id,
            deleted=result.deleted,
            kept=[f"{display_path(k.path)}: {k.reason}" for k in result.kept],
        )
        return result

    def _store_refusal(self, candidate: ClearCandidate, session_id: str) -> str | None:
        """The store's copy, checked on disk: a copy verified at an earlier dock is re-hashed,
        since the ledger cannot know of a disk that lost or damaged it since."""
        try:
            size = self.store.size_of(candidate.object_key)
            earlier = size == candidate.size and candidate.session_id != session_id
            back = self.store.read_back(candidate.object_key) if earlier else None
        except StoreError as exc:
            return f"its copy in the store cannot be read back: {exc.message}"
        reason = store_check(candidate, size, back)
        if reason is not None:
            log.warning(
                "store-copy-not-as-verified",
                recording=candidate.recording,
                key=candidate.object_key,
                reason=reason,
            )
        return reason
