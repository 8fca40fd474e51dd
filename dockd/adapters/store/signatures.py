"""Signature files beside the store's objects: written once, 0444, never replaced.

Ed25519 is deterministic, so signing the same manifest again gives the same bytes: an
existing file that equals the new signature is kept; one that differs is an error.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from dockd.adapters.store.objects import translate_store_error
from dockd.core.signing import signature_key
from dockd.errors import ObjectMismatchError
from dockd.ui.i18n import Said


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SignatureFiles:
    """`ports.SignatureStore` under the store root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, blake3: str) -> Path:
        return self.root / signature_key(blake3)

    def keep(self, blake3: str, signature: bytes) -> None:
        final = self.path_of(blake3)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = final.parent / f".{uuid.uuid4().hex}.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
            try:
                os.write(fd, signature)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temp, final)
            except FileExistsError:
                if final.read_bytes() != signature:
                    raise ObjectMismatchError(
                        "{path} already holds a different signature; it is never replaced",
                        path=final,
                    ) from None
            finally:
                temp.unlink()
            _fsync_dir(final.parent)
        except OSError as exc:
            raise translate_store_error(
                exc, Said("writing the signature {path}", path=final)
            ) from exc

    def read(self, blake3: str) -> bytes | None:
        try:
            return self.path_of(blake3).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise translate_store_error(
                exc, Said("reading {path}", path=self.path_of(blake3))
            ) from exc
