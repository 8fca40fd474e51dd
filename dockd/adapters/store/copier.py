"""Small recordings copied, hashed and read back by helper processes, off the daemon's GIL.

A small file's copy is a dozen short syscalls and two hashes, each of which lets go of
the interpreter lock and must take it back; with the ledger's transaction running
Python in another thread, each taking back waited behind it (the copy threads spent
most of their time waiting for the lock, and the process used 1.1 of 2 cores). So the
copy thread opens the recorder's file and the staging file as before and hands both
descriptors to a helper process over a socket (SCM_RIGHTS); the helper reads, hashes
and writes with `copy_and_hash`, the very code a thread would run, and answers with
the digests and size; the thread waits on one `recv` meanwhile. The read-back of a
small object is handed over the same way, by its path: the helper re-reads it from the
disk with `hash_from_disk` and leaves its bytes in memory shared with the daemon (a
memfd), from which the daemon describes the container, as it would from its own read.

Helpers are started with fork+exec (nothing of the daemon's ledger connections or
threads is inherited), on first use, and hold nothing but the two descriptors of the
file in hand: a helper killed mid-file fails that file's copy (its staged file is
discarded like any failed write); a daemon killed mid-file leaves helpers that see
the socket close and exit. Reading, hashing and writing are the same bytes either way:
what is verified afterwards is still the copy read back from the disk.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator

from dockd.adapters.store.hashpipe import (
    Copied,
    DestinationWriteError,
    FromDisk,
    SourceReadError,
    copy_and_hash,
    hash_from_disk,
)
from dockd.core.model import Digests

_REQUEST = struct.Struct("<Bq")  # what (_COPY, _READ_BACK), expected size; then a path
_COPY, _READ_BACK = 1, 2
_PATH_MAX = 4096
_MOST_HELPERS = 4
_REPLY_BYTES = 512


class HelperGone(OSError):
    """The helper process died or stopped answering mid-file."""


class _Helper:
    def __init__(self, chunk: int) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        shared = os.memfd_create("dockd-read-back", os.MFD_CLOEXEC)
        try:
            os.ftruncate(shared, chunk)
            self.shared = mmap.mmap(shared, chunk)
            passed = [theirs.fileno(), shared]
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dockd.adapters.store.copier", *map(str, passed)],
                pass_fds=passed,
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
            os.close(shared)
        self.sock = ours

    def _ask(self, request: bytes, fds: list[int]) -> tuple[str, str]:
        try:
            socket.send_fds(self.sock, [request], fds)
            reply = self.sock.recv(_REPLY_BYTES)
        except OSError as exc:
            raise HelperGone(exc.errno or 0, f"the copy helper is gone: {exc}") from exc
        if not reply:
            try:
                status = str(self.proc.wait(timeout=5))
            except subprocess.TimeoutExpired:
                status = "unknown"
            raise HelperGone(0, f"the copy helper is gone (it ended mid-file, status {status})")
        kind, _, rest = reply.decode("utf-8", "replace").partition(" ")
        return kind, rest

    def copy(self, src: int, dst: int, expected: int) -> Copied:
        kind, rest = self._ask(_REQUEST.pack(_COPY, expected), [src, dst])
        if kind == "ok":
            size, b3, sha = rest.split(" ")
            return Copied(Digests(b3, sha), int(size))
        cause = _cause(rest)
        if kind == "src":
            raise SourceReadError(cause)
        raise DestinationWriteError(cause)

    def read_back(self, path: str, expected: int) -> FromDisk:
        kind, rest = self._ask(_REQUEST.pack(_READ_BACK, expected) + os.fsencode(path), [])
        if kind != "ok":
            raise _cause(rest)
        size, b3, method, kept = rest.split(" ")
        whole = self.shared[: int(size)] if kept == "1" else None
        return FromDisk(Digests(b3, ""), int(size), method, whole)

    def close(self) -> None:
        self.sock.close()  # the helper sees the end of its socket and exits
        self.shared.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Copier:
    """A few helper processes (one per core, at most four) shared by the copy threads.

    A thread takes an idle helper, or starts one while there are fewer than the most, or
    waits for one to be given back or dropped (a dead helper makes room for a new one)."""

    def __init__(self, chunk: int, helpers: int | None = None) -> None:
        self._chunk = chunk
        self._most = helpers or min(_MOST_HELPERS, os.cpu_count() or 1)
        self._changed = threading.Condition()
        self._idle: list[_Helper] = []
        self._all: list[_Helper] = []
        self._closed = False

    def copy(self, src: int, dst: int, expected: int) -> Copied:
        """Copy and hash src (at most a chunk) into dst in a helper; raises as
        `copy_and_hash` does, or HelperGone (that helper is not used again)."""
        with self._helper() as helper:
            return helper.copy(src, dst, expected)

    def read_back(self, path: str, expected: int) -> FromDisk:
        """`hash_from_disk` of an object of at most a chunk, without SHA-256, its bytes
        kept; raises OSError as it does, or HelperGone."""
        with self._helper() as helper:
            return helper.read_back(path, expected)

    @contextlib.contextmanager
    def _helper(self) -> Iterator[_Helper]:
        helper = self._take()
        try:
            yield helper
        except HelperGone:
            self._drop(helper)
            raise
        except BaseException:
            self._give_back(helper)
            raise
        self._give_back(helper)

    def _take(self) -> _Helper:
        with self._changed:
            while not self._idle and len(self._all) >= self._most and not self._closed:
                self._changed.wait()
            if self._closed:
                raise HelperGone(0, "the store is closed")
            if self._idle:
                return self._idle.pop()
            helper = _Helper(self._chunk)
            self._all.append(helper)
            return helper

    def _give_back(self, helper: _Helper) -> None:
        with self._changed:
            self._idle.append(helper)
            self._changed.notify()

    def _drop(self, helper: _Helper) -> None:
        with self._changed:
            self._all.remove(helper)
            self._changed.notify()
        helper.close()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            helpers, self._all, self._idle = self._all, [], []
            self._changed.notify_all()
        for helper in helpers:
            helper.close()


def _cause(reply: str) -> OSError:
    number, _, reason = reply.partition(" ")
    return OSError(int(number), reason)


def _failed(cause: OSError) -> str:
    return f"{cause.errno or 0} {cause.strerror or cause}"


def _copy(fds: list[int], expected: int, chunk: int) -> str:
    src, dst = fds
    try:
        copied = copy_and_hash(src, dst, chunk, expected=expected)
        return f"ok {copied.size} {copied.digests.blake3} {copied.digests.sha256}"
    except SourceReadError as exc:
        return f"src {_failed(exc.cause)}"
    except DestinationWriteError as exc:
        return f"dst {_failed(exc.cause)}"
    finally:
        os.close(src)
        os.close(dst)


def _read_back(path: bytes, expected: int, shared: mmap.mmap) -> str:
    try:
        back = hash_from_disk(
            os.fsdecode(path), len(shared), with_sha256=False, expected=expected, keep=True
        )
    except OSError as exc:
        return f"err {_failed(exc)}"
    if back.whole is not None:
        shared[: len(back.whole)] = back.whole
    kept = int(back.whole is not None)
    return f"ok {back.size} {back.digests.blake3} {back.method} {kept}"


def _serve(sock: socket.socket, shared: mmap.mmap) -> None:
    """The helper's loop: one file per request, until the daemon's end of the socket closes."""
    while True:
        data, fds, _, _ = socket.recv_fds(sock, _REQUEST.size + _PATH_MAX, 2)
        if not data:
            return
        what, expected = _REQUEST.unpack_from(data)
        if what == _COPY:
            reply = _copy(fds, expected, len(shared))
        else:
            reply = _read_back(data[_REQUEST.size :], expected, shared)
        sock.send(reply.encode("utf-8")[:_REPLY_BYTES])


if __name__ == "__main__":
    # a stop (Ctrl-C at a terminal, systemd's SIGTERM to the unit) is the daemon's to
    # handle: the helper finishes the file in hand and ends when the daemon's socket does
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    memfd = int(sys.argv[2])
    _serve(socket.socket(fileno=int(sys.argv[1])), mmap.mmap(memfd, os.fstat(memfd).st_size))
