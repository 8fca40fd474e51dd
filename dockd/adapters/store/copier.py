"""Small recordings copied and hashed by helper processes, off the daemon's GIL.

A small file's copy is a dozen short syscalls and two hashes, each of which lets go of
the interpreter lock and must take it back; with the ledger's transaction running
Python in another thread, each taking back waited behind it (the copy threads spent
most of their time waiting for the lock, and the process used 1.1 of 2 cores). So the
copy thread opens the recorder's file and the staging file as before and hands both
descriptors to a helper process over a socket (SCM_RIGHTS); the helper reads, hashes
and writes with `copy_and_hash`, the very code a thread would run, and answers with
the digests and size; the thread waits on one `recv` meanwhile.

Helpers are started with fork+exec (nothing of the daemon's ledger connections or
threads is inherited), on first use, and hold nothing but the two descriptors of the
file in hand: a helper killed mid-file fails that file's copy (its staged file is
discarded like any failed write); a daemon killed mid-file leaves helpers that see
the socket close and exit. Reading, hashing and writing are the same bytes either way:
what is verified afterwards is still the copy read back from the disk.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading

from dockd.adapters.store.hashpipe import (
    Copied,
    DestinationWriteError,
    SourceReadError,
    copy_and_hash,
)
from dockd.core.model import Digests

_REQUEST = struct.Struct("<qq")  # expected size, chunk
_MOST_HELPERS = 4
_REPLY_BYTES = 512


class HelperGone(OSError):
    """The helper process died or stopped answering mid-file."""


class _Helper:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dockd.adapters.store.copier", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.sock = ours

    def copy(self, src: int, dst: int, expected: int, chunk: int) -> Copied:
        try:
            socket.send_fds(self.sock, [_REQUEST.pack(expected, chunk)], [src, dst])
            reply = self.sock.recv(_REPLY_BYTES)
        except OSError as exc:
            raise HelperGone(exc.errno or 0, f"the copy helper is gone: {exc}") from exc
        if not reply:
            raise HelperGone(0, "the copy helper is gone (it ended mid-file)")
        kind, _, rest = reply.decode("utf-8", "replace").partition(" ")
        if kind == "ok":
            size, b3, sha = rest.split(" ")
            return Copied(Digests(b3, sha), int(size))
        number, _, reason = rest.partition(" ")
        cause = OSError(int(number), reason)
        if kind == "src":
            raise SourceReadError(cause)
        raise DestinationWriteError(cause)

    def close(self) -> None:
        self.sock.close()  # the helper sees the end of its socket and exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Copier:
    """A few helper processes (one per core, at most four) shared by the copy threads."""

    def __init__(self, helpers: int | None = None) -> None:
        self._most = helpers or min(_MOST_HELPERS, os.cpu_count() or 1)
        self._idle: queue.SimpleQueue[_Helper] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._all: list[_Helper] = []
        self._closed = False

    def copy(self, src: int, dst: int, expected: int, chunk: int) -> Copied:
        """Copy and hash src into dst in a helper; raises as `copy_and_hash` does, or
        HelperGone (that helper is not used again)."""
        helper = self._take()
        try:
            copied = helper.copy(src, dst, expected, chunk)
        except HelperGone:
            self._drop(helper)
            raise
        except BaseException:
            self._idle.put(helper)
            raise
        self._idle.put(helper)
        return copied

    def _take(self) -> _Helper:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._closed:
                raise HelperGone(0, "the store is closed")
            if len(self._all) < self._most:
                helper = _Helper()
                self._all.append(helper)
                return helper
        return self._idle.get()

    def _drop(self, helper: _Helper) -> None:
        with self._lock:
            self._all.remove(helper)
        helper.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            helpers, self._all = self._all, []
        for helper in helpers:
            helper.close()


def _serve(sock: socket.socket) -> None:
    """The helper's loop: one file per request, until the daemon's end of the socket closes."""
    while True:
        data, fds, _, _ = socket.recv_fds(sock, _REQUEST.size, 2)
        if not data:
            return
        src, dst = fds
        try:
            expected, chunk = _REQUEST.unpack(data)
            copied = copy_and_hash(src, dst, chunk, expected=expected)
            reply = f"ok {copied.size} {copied.digests.blake3} {copied.digests.sha256}"
        except SourceReadError as exc:
            reply = f"src {exc.cause.errno or 0} {exc.cause.strerror or exc.cause}"
        except DestinationWriteError as exc:
            reply = f"dst {exc.cause.errno or 0} {exc.cause.strerror or exc.cause}"
        finally:
            os.close(src)
            os.close(dst)
        sock.send(reply.encode("utf-8")[:_REPLY_BYTES])


if __name__ == "__main__":
    # a stop (Ctrl-C at a terminal, systemd's SIGTERM to the unit) is the daemon's to
    # handle: the helper finishes the file in hand and ends when the daemon's socket does
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _serve(socket.socket(fileno=int(sys.argv[1])))
