"""Many large-file streams into one real store at once: the chunks shrink, the copies don't.

Eight streams (four recorders at two each) are more than the store lets read the full
chunk, so the later ones read half chunks. Each source is a FIFO the test feeds only
once every stream is open and waiting, so all eight are in flight together."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from blake3 import blake3

from dockd.adapters.store import objects
from dockd.adapters.store.objects import ObjectStore
from dockd.core.model import SourceFile
from dockd.core.transfer import Staged

MIB = 1 << 20
STREAMS = 8
SIZE = 3 * MIB + 12345  # not a multiple of any chunk


class FifoSource:
    """A recording whose bytes arrive through a FIFO: its reads wait for the test."""

    def __init__(self, path: Path, size: int) -> None:
        self.size = size
        self._fd = os.open(path, os.O_RDONLY)

    def fileno(self) -> int:
        return self._fd

    def read(self, n: int) -> bytes:
        return os.read(self._fd, n)

    def as_copied(self) -> SourceFile | None:
        raise AssertionError("the store never asks")

    def close(self) -> None:
        os.close(self._fd)


def test_eight_streams_at_once_copy_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks: list[int] = []

    def recorded(configured: int, streams: int) -> int:
        chunks.append(chunk := real(configured, streams))
        return chunk

    real = objects.stream_chunk
    monkeypatch.setattr(objects, "stream_chunk", recorded)
    store = ObjectStore(tmp_path / "store", 1 * MIB)
    payloads = [os.urandom(SIZE) for _ in range(STREAMS)]
    staged: dict[int, Staged] = {}
    errors: list[BaseException] = []

    def copy(n: int, fifo: Path) -> None:
        source = FifoSource(fifo, SIZE)
        try:
            staged[n] = store.copy_in(source, SIZE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            source.close()

    fifos = []
    for n in range(STREAMS):
        fifo = tmp_path / f"rec{n}.fifo"
        os.mkfifo(fifo)
        fifos.append(fifo)
    threads = [threading.Thread(target=copy, args=(n, f)) for n, f in enumerate(fifos)]
    for thread in threads:
        thread.start()
    writers = [os.open(f, os.O_WRONLY) for f in fifos]  # each open waits for its reader
    deadline = time.monotonic() + 10
    while len(chunks) < STREAMS:  # every stream has its chunk and waits for bytes
        assert time.monotonic() < deadline, "the streams did not all start"
        time.sleep(0.01)
    feeders = [
        threading.Thread(target=_feed, args=(fd, data))
        for fd, data in zip(writers, payloads, strict=True)
    ]
    for feeder in feeders:
        feeder.start()
    for thread in feeders + threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(chunks) == [512 * 1024] * 4 + [1 * MIB] * 4
    for n, data in enumerate(payloads):
        assert staged[n].size == SIZE
        assert staged[n].digests.blake3 == blake3(data).hexdigest()
        assert staged[n].digests.sha256 == hashlib.sha256(data).hexdigest()
        assert staged[n].path.read_bytes() == data
    store.close()


def _feed(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
