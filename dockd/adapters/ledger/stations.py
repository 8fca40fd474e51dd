"""The stations registry: each station's public signing key, recorded once in the ledger.

A station registers at its first signed write, in that write's transaction and under
its chain's lock, with a custody event in its own chain carrying the row. A key that
changes under the same id is never written over the registered one: the station
records the mismatch in its chain, and `audit verify` and `dockd station key` name it.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import StationRow
from dockd.core.chains import RegisteredStation
from dockd.core.signing import Verify, fingerprint


def _public_key(pem: str) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def pem_fingerprint(pem: str) -> str | None:
    """The fingerprint of the key the PEM holds; None when it holds no Ed25519 key."""
    key = _public_key(pem)
    if key is None:
        return None
    return fingerprint(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def verifier(pem: str) -> Verify | None:
    """The signature check of the public key in `pem`, or None when it holds none."""
    key = _public_key(pem)
    if key is None:
        return None

    def verify(data: bytes, signature: bytes) -> bool:
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return verify


def registered(row: StationRow) -> RegisteredStation:
    at: datetime = row.registered_at
    return RegisteredStation(
        station=row.id,
        fingerprint=row.fingerprint,
        pem_fingerprint=pem_fingerprint(row.public_key),
        registered_at=at.isoformat(),
        host=row.host,
    )


def station_rows(session: Session) -> list[StationRow]:
    return list(session.scalars(select(StationRow).order_by(StationRow.id)))
