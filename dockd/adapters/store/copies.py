"""Copies out of the evidence store, each checked against the ledger as it is written.

A copy handed to a viewer or filed in the archive tree must be the footage the ledger
vouches for: both digests and the size are computed from the bytes written and compared
with the ledger's. A mismatch is an `ObjectMismatchError` and what was written is removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from blake3 import blake3

from dockd.adapters.store.setaside import open_stored
from dockd.core.archive import Footage
from dockd.errors import ConfigError, ObjectMismatchError, StoreError

_CHUNK = 4 << 20


class StoreCopies:
    def __init__(self, root: Path) -> None:
        self.root = root

    def copy_out(self, out: Path, files: Sequence[tuple[str, Footage]]) -> int:
        created = _empty_dir(out)
        written = 0
        try:
            for name, footage in files:
                written += self._copy(footage, out / name)
        except BaseException:
            _remove(out, [out / n for n, _ in files], created)
            raise
        out.chmod(0o555)
        return written

    def write_tree(
        self,
        out: Path,
        files: Sequence[tuple[str, Footage]],
        documents: dict[str, bytes],
        link: bool,
    ) -> None:
        created = _empty_dir(out)
        try:
            for rel, footage in files:
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if link:
                    target.symlink_to(self.root / footage.key)
                else:
                    self._copy(footage, target)
            for name, data in documents.items():
                (out / name).write_bytes(data)
        except BaseException as exc:
            if created:
                shutil.rmtree(out, ignore_errors=True)
            if isinstance(exc, OSError):
                raise StoreError(
                    "writing the archive tree under {out}: {reason}", out=out, reason=exc
                ) from exc
            raise

    def _copy(self, footage: Footage, dest: Path) -> int:
        """One object to `dest` (which must not exist), hashed as written; 0444. Read also
        while set aside mid-free."""
        b3, sha, size = blake3(max_threads=blake3.AUTO), hashlib.sha256(), 0
        try:
            with (
                os.fdopen(open_stored(self.root, footage.key), "rb") as src,
                dest.open("xb") as dst,
            ):
                while chunk := src.read(_CHUNK):
                    dst.write(chunk)
                    b3.update(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except FileNotFoundError as exc:
            raise ObjectMismatchError(
                "recording {recording}: its store object {key} is missing",
                recording=footage.recording,
                key=footage.key,
            ) from exc
        except OSError as exc:
            raise StoreError(
                "copying recording {recording} to {dest}: {reason}",
                recording=footage.recording,
                dest=dest,
                reason=exc,
            ) from exc
        if (b3.hexdigest(), sha.hexdigest(), size) != (
            footage.digests.blake3,
            footage.digests.sha256,
            footage.size,
        ):
            dest.unlink(missing_ok=True)
            raise ObjectMismatchError(
                "recording {recording}: the store object {key} does not match "
                "the ledger's digests; nothing of it was handed out",
                recording=footage.recording,
                key=footage.key,
            )
        dest.chmod(0o444)
        return size


def _empty_dir(out: Path) -> bool:
    """Make `out` (True) or accept it empty (False): a copy never mixes with other files."""
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise ConfigError(
                "{out} exists and is not an empty folder",
                hint="Give --out a new or empty folder.",
                out=out,
            )
        return False
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise ConfigError("cannot create {out}: {reason}", out=out, reason=exc.strerror) from exc
    return True


def _remove(out: Path, paths: list[Path], created: bool) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    if created:
        out.rmdir()
