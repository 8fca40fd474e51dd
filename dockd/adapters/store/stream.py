"""Store objects read for streaming to a viewer's browser, checked against the ledger.

Each object's digests and size are read once, before its first byte is served (a mismatch
is an `ObjectMismatchError`, and nothing is served); every later read checks the size, and
the store is write-once, so what was checked stays what is served.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import BinaryIO

from blake3 import blake3

from dockd.adapters.store.setaside import open_stored
from dockd.core.archive import Footage
from dockd.errors import ObjectMismatchError

_CHUNK = 4 << 20


class StoreReader:
    def __init__(self, root: str) -> None:
        self.root = root
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def open(self, footage: Footage) -> BinaryIO:
        try:
            # the caller streams and closes it; found also while set aside mid-free
            handle = os.fdopen(open_stored(Path(self.root), footage.key), "rb")
        except FileNotFoundError as exc:
            raise ObjectMismatchError(
                "recording {recording}: its store object {key} is missing",
                recording=footage.recording,
                key=footage.key,
            ) from exc
        try:
            self._check(footage, handle)
        except BaseException:
            handle.close()
            raise
        return handle

    def _check(self, footage: Footage, handle: BinaryIO) -> None:
        size = os.fstat(handle.fileno()).st_size
        if size != footage.size:
            raise ObjectMismatchError(
                "recording {recording}: its store object is {size} bytes, the ledger "
                "says {expected}",
                recording=footage.recording,
                size=size,
                expected=footage.size,
            )
        with self._lock:
            if footage.key in self._checked:
                return
        b3, sha = blake3(max_threads=blake3.AUTO), hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            b3.update(chunk)
            sha.update(chunk)
        handle.seek(0)
        if sha.hexdigest() != footage.digests.sha256 or b3.hexdigest() != footage.digests.blake3:
            raise ObjectMismatchError(
                "recording {recording}: its store object {key} does not match the ledger's digests",
                recording=footage.recording,
                key=footage.key,
            )
        with self._lock:
            self._checked.add(footage.key)
