"""Ports for operators and viewing: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.archive import ArchiveItem, Footage
    from dockd.core.operators import Credential, Operator
    from dockd.core.viewing import Viewing, ViewingRequest


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
