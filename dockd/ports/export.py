"""Ports for export packages: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dockd.ports.dock import ReadAt

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.custody import CustodyEvent
    from dockd.core.export_description import ExportIntent, FileDigests, PackageCheck
    from dockd.core.registry import CustodyStretch
    from dockd.core.views import (
        ExportView,
        RecordingView,
    )


class PackageSigner(Protocol):
    """The station key as an export uses it (the station key of issue 11 is one)."""

    def sign(self, data: bytes) -> bytes: ...
    def public_pem(self) -> str: ...


class ExportRecords(Protocol):
    """The ledger's side of exports; starting, finishing, failing and refusing one are
    custody events, the start written before anything else."""

    def recordings(self, ids: Sequence[int]) -> list[RecordingView]: ...
    def session_recordings(self, session_id: str) -> list[RecordingView]: ...
    def session_manifest(self, session_id: str) -> tuple[str, str, str, int] | None:
        """(blake3, sha256, object key, size) of the session's manifest object."""

    def custody_concerning(self, subjects: Collection[str]) -> list[CustodyEvent]:
        """Every station's events about `subjects`, by station and then its chain's seq."""

    def custodians_at(self, serial: str) -> list[CustodyStretch]: ...
    def begin(self, intent: ExportIntent) -> None: ...
    def complete(
        self, export_id: str, at: datetime, nbytes: int, tag_sha256: str, iso: str | None
    ) -> None: ...
    def fail(self, export_id: str, at: datetime, code: str, message: str) -> None: ...
    def refused(self, at: datetime, details: dict[str, Any]) -> None: ...
    def exports(self) -> list[ExportView]: ...


class ExportSource(Protocol):
    """The store, read for an export."""

    chunk_size: int

    def reader(self, key: str) -> AbstractContextManager[ReadAt]: ...


class PackageWriter(Protocol):
    """One package being written beside its final place; nothing is there until `finish`."""

    def add_file(self, path: str, chunks: Iterable[bytes]) -> FileDigests: ...
    def add_tag(self, path: str, data: bytes) -> None: ...
    def finish(self, bag_info: dict[str, str], signer: PackageSigner, iso: bool) -> tuple[int, str]:
        """Manifests, bag-info, tag manifests and signature, then into place: the package's
        bytes and the SHA-256 of the signed tag manifest."""

    def abandon(self) -> None: ...


class Packages(Protocol):
    """BagIt packages (and their ISO images) on disk."""

    def start(self, out: Path) -> PackageWriter: ...
    def verify(self, path: Path) -> PackageCheck: ...
