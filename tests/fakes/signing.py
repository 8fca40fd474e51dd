"""In-memory twins of the signing ports: a real Ed25519 key that never touches a disk."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dockd.core.signing import fingerprint


class FakeSigner:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.signed: list[bytes] = []

    @property
    def fingerprint(self) -> str:
        raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return fingerprint(raw)

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        return self._key.sign(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._key.public_key().verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def public_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )


class FakeSignatures:
    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def keep(self, blake3: str, signature: bytes) -> None:
        assert self.kept.setdefault(blake3, signature) == signature, "never replaced"

    def read(self, blake3: str) -> bytes | None:
        return self.kept.get(blake3)
