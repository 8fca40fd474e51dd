"""The one-read path of a small file: whatever the size it was opened at, the copy holds
exactly the bytes the source holds, hashed right (the caller compares the sizes)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from blake3 import blake3

from dockd.adapters.store.hashpipe import copy_and_hash

CHUNK = 1 << 20


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (100 * 1024, 100 * 1024),  # as scanned: one read
        (100 * 1024 + 1, 100 * 1024),  # grew by a byte after the scan
        (300 * 1024, 100 * 1024),  # grew well past the sized read
        (50 * 1024, 100 * 1024),  # shrank
        (0, 100 * 1024),  # emptied
        (3 * CHUNK + 7, 100 * 1024),  # grew past a chunk: the streaming path
    ],
)
def test_a_small_file_is_copied_whole_whatever_it_became(
    tmp_path: Path, actual: int, expected: int
) -> None:
    data = os.urandom(actual)
    (tmp_path / "src").write_bytes(data)
    src = os.open(tmp_path / "src", os.O_RDONLY)
    dst = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        copied = copy_and_hash(src, dst, CHUNK, expected=expected)
    finally:
        os.close(src)
        os.close(dst)
    assert copied.size == actual
    assert (tmp_path / "dst").read_bytes() == data
    assert copied.digests.blake3 == blake3(data).hexdigest()
    assert copied.digests.sha256 == hashlib.sha256(data).hexdigest()
