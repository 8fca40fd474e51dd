"""The read-back of a real store on a real filesystem, at the sizes where its reads change.

A small object is read in one read sized just past its expected end, and handed back
whole; a chunk or more is read on a chunk at a time; an object longer than it should be
is still read to its end, so a wrong size shows as a mismatch, never as a match.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from blake3 import blake3

from dockd.adapters.store.objects import ObjectStore
from dockd.core.layout import object_key

CHUNK = 64 * 1024


def direct_or_not(folder: Path) -> str:
    """The method the store must use there: O_DIRECT unless the filesystem refuses it."""
    probe = folder / "probe"
    probe.write_bytes(b"x")
    try:
        os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))
    except OSError:
        return "fadvise_dontneed"
    return "o_direct"


def stored(store: ObjectStore, data: bytes) -> str:
    published, _ = store.put_bytes(data)
    assert published.key == object_key(blake3(data).hexdigest())
    return published.key


@pytest.mark.parametrize(
    "size",
    [1, 4095, 4096, 4097, 25 * 4096, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 123],
)
def test_every_size_reads_back_as_written(tmp_path: Path, size: int) -> None:
    store = ObjectStore(tmp_path / "store", CHUNK)
    data = os.urandom(size)
    key = stored(store, data)
    back = store.read_back(key, size)
    assert (back.blake3, back.size) == (blake3(data).hexdigest(), size)
    assert back.method == direct_or_not(tmp_path)
    # whole only when the first read saw the end; then it is the very bytes
    assert back.whole == (data if size < CHUNK else None)


def test_an_object_longer_than_expected_is_read_to_its_end(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", CHUNK)
    data = os.urandom(CHUNK // 2)
    key = stored(store, data)
    back = store.read_back(key, 100)
    assert (back.blake3, back.size, back.whole) == (blake3(data).hexdigest(), len(data), None)


def test_without_an_expected_size_no_bytes_are_kept(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", CHUNK)
    data = os.urandom(1000)
    back = store.read_back(stored(store, data))
    assert (back.blake3, back.size, back.whole) == (blake3(data).hexdigest(), 1000, None)
