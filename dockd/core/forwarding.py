"""The central store's side of an object, as plain values: what a put asks for, what the
server answered, and what a HEAD of the stored version shows.

Checksums are as S3 spells them: base64 of the SHA-256 for a single put, and for a
multipart upload base64 of the SHA-256 of the parts' digests followed by ``-N`` (COMPOSITE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

LOCK_MODE = "COMPLIANCE"


@dataclass(frozen=True, slots=True)
class CentralPut:
    """One object to send: `key` is the local store's key (the central store prepends its
    prefix), `sha256` the ledger's hex digest, which the server must find in the bytes."""

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
