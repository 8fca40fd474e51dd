"""Small recordings copied by the store's helper processes: the same bytes and digests as
a copy in the thread, a helper's death fails only the file in hand, and the store's
close ends them."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path

import pytest
from blake3 import blake3

from dockd.adapters.store.copier import Copier, _Helper
from dockd.adapters.store.objects import ObjectStore
from dockd.core.model import SourceFile
from dockd.errors import SourceFileError, StoreError

MIB = 1 << 20


class FileSource:
    """A recorder file held open, as the volume hands it to the store."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self._fd).st_size

    def fileno(self) -> int:
        return self._fd

    def read(self, n: int) -> bytes:
        return os.read(self._fd, n)

    def as_copied(self) -> SourceFile | None:
        raise AssertionError("the store never asks")

    def close(self) -> None:
        os.close(self._fd)


def _copy(store: ObjectStore, path: Path) -> tuple[bytes, str, str, int]:
    source = FileSource(path)
    try:
        staged = store.copy_in(source, source.size)
    finally:
        source.close()
    return staged.path.read_bytes(), staged.digests.blake3, staged.digests.sha256, staged.size


def _helpers(store: ObjectStore) -> list[_Helper]:
    assert store._copier is not None, "the store was made without helpers"
    return store._copier._all


def _staging(store: ObjectStore) -> list[Path]:
    return [p for p in (store.root / "tmp").rglob("*.part")]


def test_a_small_file_is_copied_by_a_helper_byte_for_byte(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB, helpers=True)
    data = os.urandom(100 * 1024)
    (tmp_path / "clip.mp4").write_bytes(data)
    try:
        copied, b3, sha, size = _copy(store, tmp_path / "clip.mp4")
        helpers = [helper.proc for helper in _helpers(store)]
    finally:
        store.close()
    assert (copied, b3, sha, size) == (
        data,
        blake3(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
    assert helpers, "the copy did not go through a helper"
    assert all(proc.returncode is not None for proc in helpers), "close left a helper running"


def test_a_helper_killed_fails_that_copy_only(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB, helpers=True)
    (tmp_path / "clip.mp4").write_bytes(os.urandom(4096))
    try:
        _copy(store, tmp_path / "clip.mp4")
        (helper,) = _helpers(store)  # copies one after another: one helper is enough
        helper.proc.kill()
        helper.proc.wait()
        staged = _staging(store)
        with pytest.raises(StoreError, match="copy helper is gone"):
            _copy(store, tmp_path / "clip.mp4")
        assert _staging(store) == staged, "the failed copy left its staged file"
        assert helper not in _helpers(store)
        assert _copy(store, tmp_path / "clip.mp4")[3] == 4096  # a new helper copies the next
    finally:
        store.close()


def test_a_read_error_in_the_helper_is_the_file_s_problem(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB, helpers=True)
    (tmp_path / "folder").mkdir()
    source = FileSource(tmp_path / "folder")  # read(2) of a folder fails: EISDIR
    source.size = 100
    try:
        with pytest.raises(SourceFileError, match=os.strerror(errno.EISDIR)):
            store.copy_in(source, source.size)
        assert _staging(store) == []
    finally:
        source.close()
        store.close()


def test_a_small_object_is_read_back_by_a_helper_from_the_disk(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB, helpers=True)
    data = os.urandom(100 * 1024 + 3)
    (tmp_path / "clip.mp4").write_bytes(data)
    source = FileSource(tmp_path / "clip.mp4")
    try:
        staged = store.copy_in(source, source.size)
        store.make_durable([staged])
        published = store.publish(staged)
        back = store.verify_published(published)
        (helper,) = _helpers(store)
        helper.proc.kill()  # the read-back is the helper's: without it, nothing is verified
        helper.proc.wait()
        with pytest.raises(StoreError, match=r"reading back .*copy helper is gone"):
            store.verify_published(published)
    finally:
        source.close()
        store.close()
    assert (back.blake3, back.size, back.whole) == (blake3(data).hexdigest(), len(data), data)
    assert back.method in ("o_direct", "fadvise_dontneed")


def test_a_missing_object_s_read_back_names_it(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB, helpers=True)
    try:
        with pytest.raises(StoreError, match="reading back objects/blake3/00/00"):
            store.read_back("objects/blake3/00/" + "0" * 64, 100)
    finally:
        store.close()


def test_a_copy_waiting_for_a_helper_gets_a_new_one_when_the_busy_one_dies(
    tmp_path: Path,
) -> None:
    """The copy threads outnumber the helpers: one that waits must not wait for a helper
    that died (it once waited forever, and the dock hung)."""
    copier = Copier(MIB, helpers=1)
    (tmp_path / "clip.mp4").write_bytes(b"x" * 1000)
    busy = copier._take()
    done: list[int] = []

    def copy() -> None:
        src = os.open(tmp_path / "clip.mp4", os.O_RDONLY)
        dst = os.open(tmp_path / "copy", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            done.append(copier.copy(src, dst, 1000).size)
        finally:
            os.close(src)
            os.close(dst)

    waiting = threading.Thread(target=copy)
    try:
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive(), "the copy did not wait for the one helper"
        busy.proc.kill()
        copier._drop(busy)  # what a copy on the dead helper does
        waiting.join(30)
        assert not waiting.is_alive(), "the waiting copy hangs"
        assert done == [1000]
    finally:
        copier.close()
        waiting.join(5)


def test_without_helpers_a_small_file_is_copied_in_the_thread(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "store", MIB)
    data = os.urandom(100 * 1024)
    (tmp_path / "clip.mp4").write_bytes(data)
    try:
        copied, b3, _, _ = _copy(store, tmp_path / "clip.mp4")
    finally:
        store.close()
    assert (copied, b3) == (data, blake3(data).hexdigest())
    assert store._copier is None
