"""Ports for signing manifests and checkpoints: see `dockd.ports`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    pass


class Signer(Protocol):
    """The station key (`errors.StationKeyError` when it cannot be used)."""

    @property
    def fingerprint(self) -> str: ...
    def sign(self, data: bytes) -> bytes: ...
    def verify(self, data: bytes, signature: bytes) -> bool: ...
    def public_pem(self) -> str: ...


class SignatureStore(Protocol):
    """Signatures of stored objects, beside them in the store, written once."""

    def keep(self, blake3: str, signature: bytes) -> None: ...
    def read(self, blake3: str) -> bytes | None: ...
