"""Clearing a recorder after offload (数据清空): which files may go, decided from facts.

A full recorder stops recording, so stations free it once its footage is safe. dockd
deletes a file only when the ledger holds a verified copy of exactly that file (same path,
size and time as the copy plan's identity), the copy is still in the store, nothing of the
recorder is on hold, and, with a central store, the copy is confirmed there. Every other
entry on the recorder (unknown files, directories, a file changed since its copy) stays.
Just before each deletion the store's copy is checked on disk (`store_check`: there, of
the right size, and re-hashed when it was verified at an earlier dock, since the ledger's
word alone may be stale), and the file's size and time are re-read (`recheck`): what
changed in between stays and is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dockd.core.model import SourceFile
from dockd.core.said import Said
from dockd.core.transfer import ReadBack

# a dock session's state as a refusal says it: in English the ledger's name, as ever
SESSION_WORDS = {
    "running": Said("running"),
    "completed": Said("completed"),
    "completed_with_problems": Said("completed_with_problems"),
    "interrupted": Said("interrupted"),
    "failed": Said("failed"),
}


@dataclass(frozen=True)
class ClearCandidate:
    """A verified recording of this recorder, as the ledger holds it: `in_store` when this
    station's store holds its object, `elsewhere` when only another station's does (a
    recorder docked at another station of a shared ledger before), and the session that
    verified it (one before this dock's means the store copy is re-hashed first)."""

    recording: int
    path: bytes
    size: int
    mtime_ns: int
    blake3: str
    object_key: str
    session_id: str
    in_store: bool
    confirmed_centrally: bool
    elsewhere: bool = False


@dataclass(frozen=True)
class KeptFile:
    """A recorder file that was not deleted, and why (shown to the admin)."""

    path: bytes
    reason: str


@dataclass(frozen=True)
class ClearPlan:
    delete: list[ClearCandidate]
    kept: list[KeptFile]
    awaiting_central: frozenset[int] = frozenset()  # recordings kept only for confirmation


def clearing_refusal(
    *,
    pack_allows: bool,
    enabled: bool,
    session_state: str,
    fully_verified: bool,
    holds: int,
) -> str | None:
    """Why this recorder is not cleared at all, or None when clearing may go ahead."""
    if not pack_allows:
        return Said("the policy pack does not allow clearing recorders ([clearing] allowed)")
    if not enabled:
        return Said("clearing is off ([daemon] clear_after_offload)")
    if session_state != "completed" or not fully_verified:
        state = SESSION_WORDS.get(session_state, session_state)
        return Said("the dock session is {state}, not completed without problems", state=state)
    if holds:
        return Said("{holds} of the recorder's recordings are on hold", holds=holds)
    return None


def plan_clearing(
    on_device: Sequence[SourceFile], verified: Sequence[ClearCandidate], central: bool
) -> ClearPlan:
    """The files to delete: each recorder file whose exact identity has a verified copy."""
    by_identity = {(c.path, c.size, c.mtime_ns): c for c in verified}
    paths = {c.path for c in verified}
    delete: list[ClearCandidate] = []
    kept: list[KeptFile] = []
    awaiting: set[int] = set()
    for file in sorted(on_device, key=lambda f: f.path):
        found = by_identity.get(file.identity)
        if found is None:
            reason = (
                Said("changed since it was verified (size or time differ)")
                if file.path in paths
                else Said("no verified copy of this file")
            )
            kept.append(KeptFile(file.path, reason))
        elif not found.in_store:
            kept.append(KeptFile(file.path, _not_here(found)))
        elif central and not found.confirmed_centrally:
            kept.append(KeptFile(file.path, Said("not yet confirmed in the central store")))
            awaiting.add(found.recording)
        else:
            delete.append(found)
    return ClearPlan(delete, kept, frozenset(awaiting))


def _not_here(candidate: ClearCandidate) -> str:
    if candidate.elsewhere:
        return Said("copied by another station: this station's store holds no copy of it")
    return Said("its copy is no longer in the store")


def confirmed_since(awaited: frozenset[int], verified: Sequence[ClearCandidate]) -> bool:
    """Whether none of the recordings a clearing kept back for their central confirmation
    is still waiting for it: the plan made then decides again what goes."""
    waiting = {c.recording for c in verified if not c.confirmed_centrally}
    return not awaited & waiting


def store_check(candidate: ClearCandidate, size: int | None, back: ReadBack | None) -> str | None:
    """Why the store's copy does not free the file after all, or None. `size` is the
    object's size on disk now; `back` its read-back, made for copies verified at an
    earlier dock (this dock's own were read back minutes ago), else None."""
    if size is None:
        return Said("its copy is missing from the store")
    if size != candidate.size:
        return Said(
            "its copy in the store has {size} bytes, not {expected}",
            size=size,
            expected=candidate.size,
        )
    if back is not None and (back.blake3, back.size) != (candidate.blake3, candidate.size):
        return Said("its copy in the store no longer reads back as verified")
    return None


def recheck(candidate: ClearCandidate, now: SourceFile | None) -> str | None:
    """Just before the unlink: why this file must stay after all, or None to delete it."""
    if now is None:
        return Said("gone or no longer a regular file")
    if (now.size, now.mtime_ns) != (candidate.size, candidate.mtime_ns):
        return Said("changed since it was verified (size or time differ)")
    return None
