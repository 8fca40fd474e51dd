"""A copy set aside mid-free (in `.freeing/`, its free not yet recorded) is still the
store's: each read path of a real store (an export's reader, a viewing's stream, an
archive's copy out) finds it there, and again once it is put back. Only a recorded free
(the set-aside file deleted) makes it "not found"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dockd.adapters.store.copies import StoreCopies
from dockd.adapters.store.objects import ObjectStore
from dockd.adapters.store.stream import StoreReader
from dockd.core.archive import Footage
from dockd.errors import ObjectMismatchError, StoreError
from tests.conftest import unfreeze

DATA = b"evidence being freed " * 1000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    built = ObjectStore(tmp_path / "store", 1 << 20)
    try:
        yield built
    finally:
        built.close()
        unfreeze(tmp_path / "store")


def stored(store: ObjectStore) -> Footage:
    published, _ = store.put_bytes(DATA)
    return Footage(1, "DCIM/1.MP4", published.key, published.digests, published.size)


def exported(store: ObjectStore, key: str) -> bytes:
    with store.reader(key) as read_at:
        return read_at(0, len(DATA) + 1)


def viewed(store: ObjectStore, footage: Footage) -> bytes:
    with StoreReader(str(store.root)).open(footage) as handle:
        return handle.read()


def archived(store: ObjectStore, footage: Footage, out: Path) -> bytes:
    StoreCopies(store.root).copy_out(out, [("1.MP4", footage)])
    data = (out / "1.MP4").read_bytes()
    unfreeze(out)
    return data


def test_every_read_finds_a_copy_set_aside_and_put_back(store: ObjectStore, tmp_path: Path) -> None:
    footage = stored(store)
    assert store.set_aside(footage.key)
    assert not store.path_of(footage.key).exists()  # out of the published objects
    assert exported(store, footage.key) == DATA
    assert viewed(store, footage) == DATA
    assert archived(store, footage, tmp_path / "out-aside") == DATA
    store.put_back(footage.key)
    assert exported(store, footage.key) == DATA
    assert viewed(store, footage) == DATA
    assert archived(store, footage, tmp_path / "out-back") == DATA


def test_a_recorded_free_leaves_nothing_to_read(store: ObjectStore, tmp_path: Path) -> None:
    footage = stored(store)
    assert store.set_aside(footage.key)
    assert store.delete_set_aside(footage.key)
    with pytest.raises(StoreError, match="reading"):
        exported(store, footage.key)
    with pytest.raises(ObjectMismatchError, match="missing"):
        viewed(store, footage)
    with pytest.raises(ObjectMismatchError, match="missing"):
        archived(store, footage, tmp_path / "out")
