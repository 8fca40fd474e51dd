"""One forwarding pass at a time per store, across processes: the daemon's background
passes and a `dockd forward` run beside it take turns.

Multipart uploads are in flight only while a pass holds the lease, so the process that
takes it may abort every unfinished upload of this store's objects: none is another
live pass's. The lock is an flock on a file in the store root, released by the kernel
when a process dies, so a killed dockd never leaves it taken.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dockd.adapters.store.objects import translate_store_error
from dockd.ui.i18n import Said

LEASE_FILE = ".dockd-forward-lock"


class ForwardingLease:
    def __init__(self, root: Path) -> None:
        self.path = root / LEASE_FILE

    @contextmanager
    def hold(self, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
        """Blocks while another process's pass holds it; `waiting` is called first when it
        must (a `dockd forward` tells the admin why it sits there)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise translate_store_error(exc, Said("cannot open {path}", path=self.path)) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waiting()
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
