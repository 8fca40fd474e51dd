"""The streaming hash pipeline: one read pass of the source feeds BLAKE3, SHA-256 and the write.

Reading, SHA-256 and BLAKE3+write run in three threads joined by small bounded
queues; both hashers and the syscalls release the GIL on large buffers, so the
three overlap and memory stays at a few chunks whatever the file size.
Read-back bypasses the page cache (O_DIRECT, else fadvise DONTNEED) so that a
verified copy is a copy the disk really holds.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from blake3 import blake3

from dockd.core.model import Digests

_DONE = object()
_QUEUE_DEPTH = 2
_PAGE = 4096  # O_DIRECT wants reads in whole blocks; a page is a whole number of them
Progress = Callable[[int], None]


class SourceReadError(Exception):
    """Reading the source failed; carries the OSError so the caller can tell gone from bad."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class DestinationWriteError(Exception):
    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Copied:
    digests: Digests
    size: int


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _put(q: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def copy_and_hash(
    src_fd: int,
    dst_fd: int,
    chunk: int,
    progress: Progress | None = None,
    *,
    expected: int | None = None,
) -> Copied:
    """Copy src to dst while hashing; raises SourceReadError or DestinationWriteError.

    A short first read of exactly the `expected` size (the file's size when opened) is
    taken as the whole file without a read to see the end: a file that grew after it
    was read shows in its size after the copy, which the caller compares. That first
    read asks for one byte past `expected`, not a whole chunk: a chunk-sized buffer is
    mapped, faulted in and unmapped again for every small file (mmap, page faults and a
    TLB flush of every copy thread), where a buffer the file's size comes from the heap."""
    b3 = blake3()
    sha = hashlib.sha256()
    try:
        first = os.read(src_fd, chunk if expected is None else min(chunk, expected + 1))
    except OSError as exc:
        raise SourceReadError(exc) from exc
    if len(first) < chunk:
        try:
            whole = not first or len(first) == expected
            tail = b"" if whole else os.read(src_fd, chunk)
        except OSError as exc:
            raise SourceReadError(exc) from exc
        if not tail:
            b3.update(first)
            sha.update(first)
            try:
                write_all(dst_fd, first)
            except OSError as exc:
                raise DestinationWriteError(exc) from exc
            if progress:
                progress(len(first))
            return Copied(Digests(b3.hexdigest(), sha.hexdigest()), len(first))
        first += tail
    return _pipeline(src_fd, dst_fd, chunk, first, b3, sha, progress)


def _get(q: queue.Queue[object], stop: threading.Event) -> object:
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return _DONE


def _pipeline(
    src_fd: int,
    dst_fd: int,
    chunk: int,
    first: bytes,
    b3: blake3,
    sha: hashlib._Hash,
    progress: Progress | None,
) -> Copied:
    stop = threading.Event()
    to_sha: queue.Queue[object] = queue.Queue(_QUEUE_DEPTH)
    to_write: queue.Queue[object] = queue.Queue(_QUEUE_DEPTH)
    failure: list[SourceReadError] = []

    def read() -> None:
        data = first
        try:
            while data:
                if not (_put(to_sha, data, stop) and _put(to_write, data, stop)):
                    return
                data = os.read(src_fd, chunk)
        except OSError as exc:
            failure.append(SourceReadError(exc))
        finally:
            _put(to_sha, _DONE, stop)
            _put(to_write, _DONE, stop)

    def hash_sha() -> None:
        while (item := _get(to_sha, stop)) is not _DONE:
            sha.update(item)  # type: ignore[arg-type]

    reader = threading.Thread(target=read, name="dockd-read", daemon=True)
    hasher = threading.Thread(target=hash_sha, name="dockd-sha256", daemon=True)
    reader.start()
    hasher.start()
    size = 0
    finished = False
    try:
        while (item := _get(to_write, stop)) is not _DONE:
            data: bytes = item  # type: ignore[assignment]
            b3.update(data)
            try:
                write_all(dst_fd, data)
                if size >= chunk:  # start writeback of what is behind us: fsync has less to do
                    os.posix_fadvise(dst_fd, size - chunk, chunk, os.POSIX_FADV_DONTNEED)
            except OSError as exc:
                raise DestinationWriteError(exc) from exc
            size += len(data)
            if progress:
                progress(len(data))
        finished = True
    finally:
        if not finished:
            stop.set()
        reader.join()
        hasher.join()
    if failure:
        raise failure[0]
    return Copied(Digests(b3.hexdigest(), sha.hexdigest()), size)


_buffers = threading.local()


def _aligned_buffers(size: int) -> tuple[mmap.mmap, mmap.mmap]:
    """Two page-aligned buffers (as O_DIRECT requires), kept per thread: mapping and zeroing
    megabytes for every small file would cost more than reading it."""
    cached: tuple[mmap.mmap, mmap.mmap] | None = getattr(_buffers, "pair", None)
    if cached is None or len(cached[0]) != size:
        cached = (mmap.mmap(-1, size), mmap.mmap(-1, size))
        _buffers.pair = cached
    return cached


@dataclass(frozen=True, slots=True)
class FromDisk:
    """A file as re-read from the disk; `whole`: its bytes, when asked for and it was
    read in one read (a small recording, described from the very bytes verified)."""

    digests: Digests
    size: int
    method: str
    whole: bytes | None = None


def hash_from_disk(
    path: str, chunk: int, *, with_sha256: bool, expected: int | None = None, keep: bool = False
) -> FromDisk:
    """Re-read a stored file from the disk, not the page cache.

    O_DIRECT where the filesystem allows it; elsewhere (tmpfs) the cached pages are
    dropped first. SHA-256 only when asked (`dockd verify`): the read-back right
    after a copy proves identity with BLAKE3 and leaves sha256 empty. `expected`, the
    size the file should have, sizes the first read to just past it, so a small file is
    read (and its end seen) in one read, without the kernel zero-filling the rest of a
    chunk-sized buffer; a file that turns out longer is read on to its end all the same.
    """
    try:
        return _hash_file(path, chunk, with_sha256, expected, keep, direct=True)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    return _hash_file(path, chunk, with_sha256, expected, keep, direct=False)


def _hash_file(
    path: str, chunk: int, with_sha256: bool, expected: int | None, keep: bool, *, direct: bool
) -> FromDisk:
    """Hash while the next chunk is already being read: O_DIRECT has no read-ahead, so
    without this the disk would idle during every hash."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECT if direct else 0))
    hashers = [blake3()] + ([hashlib.sha256()] if with_sha256 else [])
    buffers = _aligned_buffers(chunk)
    method = "o_direct" if direct else "fadvise_dontneed"
    try:
        if not direct:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        want = chunk if expected is None else min(chunk, -(-(expected + 1) // _PAGE) * _PAGE)
        with memoryview(buffers[0]) as first, first[:want] as into:
            n = os.preadv(fd, [into], 0)
            if n < want:  # the whole file in one read
                with first[:n] as data:
                    for hasher in hashers:
                        hasher.update(data)
                    whole = bytes(data) if keep else None
                return FromDisk(_digests(hashers), n, method, whole)
        size = _hash_rest(fd, buffers, n, hashers)
        return FromDisk(_digests(hashers), size, method)
    finally:
        os.close(fd)


def _hash_rest(fd: int, buffers: tuple[mmap.mmap, mmap.mmap], n: int, hashers: list[Any]) -> int:
    """Hash the `n` bytes of a full first read and read on, a chunk ahead, to the end (a
    read shorter than asked for is the last)."""
    chunk = len(buffers[0])
    size, current, full = 0, 0, True
    with ThreadPoolExecutor(1, thread_name_prefix="dockd-readback") as prefetch:
        while n:
            ahead = (
                prefetch.submit(os.preadv, fd, [buffers[1 - current]], size + n) if full else None
            )
            with memoryview(buffers[current]) as view, view[:n] as data:
                for hasher in hashers:
                    hasher.update(data)
            size += n
            n = ahead.result() if ahead is not None else 0
            full = n == chunk
            current = 1 - current
    return size


def _digests(hashers: list[Any]) -> Digests:
    return Digests(hashers[0].hexdigest(), hashers[1].hexdigest() if len(hashers) > 1 else "")
