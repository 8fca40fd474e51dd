"""Ports for proving the store and the custody chain: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.chains import RegisteredStation
    from dockd.core.custody import CustodyEvent
    from dockd.core.model import Digests


class CustodyLog(Protocol):
    """A use case's one event on this station's custody chain."""

    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
    ) -> None: ...


class IntegrityRecords(CustodyLog, Protocol):
    """What `dockd verify` reads from the ledger, and the one event a verify run leaves
    behind."""

    def objects(self) -> list[tuple[str, str, str, int]]: ...
    def legacy_unowned(self) -> int:
        """Copies labelled 'local' that no station counts as its own (none verifies them)."""


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
    def owns_legacy(self) -> bool:
        """The rows and chain labelled 'local' are this station's (`ledger.legacy`)."""
        ...

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
