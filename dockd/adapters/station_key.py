"""The station's Ed25519 key: made once, kept 0600, never replaced.

The key is loaded the first time something is signed or checked, so a read-only
command never touches it; a key file that cannot be trusted as it is (wrong mode,
not a key) stops dockd with `StationKeyError` rather than being replaced, because a
new key cannot vouch for what the old one signed.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dockd.core.signing import fingerprint
from dockd.errors import StationKeyError


def _create(path: Path) -> None:
    """Write a new key with O_EXCL: two dockds starting at once never make two keys."""
    try:
        _write_new(path)
    except OSError as exc:
        raise StationKeyError(
            "cannot create the station key {path}: {strerror}", path=path, strerror=exc.strerror
        ) from exc


def _write_new(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        raise StationKeyError(
            "cannot open the station key {path}: {strerror}", path=path, strerror=exc.strerror
        ) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StationKeyError("the station key {path} is not a regular file", path=path)
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise StationKeyError(
                "the station key {path} has mode {mode:04o}: others could read or replace it",
                hint="chmod 600 {path} (and check who may have copied it meanwhile)",
                path=path,
                mode=mode,
            )
        data = os.read(fd, 64 * 1024)
    finally:
        os.close(fd)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise StationKeyError(
            "{path} is not a PEM private key without a password", path=path
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise StationKeyError(
            "{path} holds a {name}, not an Ed25519 key", path=path, name=type(key).__name__
        )
    return key


class StationKey:
    """`ports.Signer` over the key file at `path`, created there at first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create or load the key now, so that a bad key file stops a command at its start."""
        self._private()

    def _private(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._key is None:
                if not self.path.exists():
                    _create(self.path)
                self._key = _load(self.path)
            return self._key

    def _public_raw(self) -> bytes:
        return (
            self._private()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, data: bytes) -> bytes:
        return self._private().sign(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._private().public_key().verify(signature, data)
        except InvalidSignature:
            return False
        return True

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._public_raw())

    def public_pem(self) -> str:
        return (
            self._private()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
