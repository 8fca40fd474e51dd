"""Watched folders: automounted media or a drop folder for wireless uploads.

Layout: `<watch dir>/<recorder serial>/...`. A file is taken only once it is
complete: its size and time have not changed for `settle_s` and no process has
it open for writing (an upload in progress, a copy not yet closed). The files
are as untrusted as a recorder's: the same scan and copy path handles them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from dockd.core.model import SourceFile
from dockd.core.plan import settled

log = structlog.get_logger("dockd.dropfolder")


def open_for_writing() -> set[tuple[int, int]]:
    """(st_dev, st_ino) of every file some process holds open for writing, from /proc."""
    held: set[tuple[int, int]] = set()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as info:
                    flags = next(
                        int(line.split()[1], 8) for line in info if line.startswith("flags:")
                    )
                if flags & os.O_ACCMODE == os.O_RDONLY:
                    continue
                st = os.stat(f"{fd_dir}/{fd}")
            except (OSError, StopIteration, ValueError):
                continue
            held.add((st.st_dev, st.st_ino))
    return held


# Opening and reading change nothing; reacting to them would make every ingest of a
# folder (which opens each file) announce that folder again, and dock it twice.
_READ_ONLY_EVENTS = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, touched: Callable[[Path], None]) -> None:
        self.root = root
        self.touched = touched

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _READ_ONLY_EVENTS:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = Path(os.fsdecode(raw)) if raw else None
            if path is None or path == self.root:
                continue
            try:
                serial_dir = self.root / path.relative_to(self.root).parts[0]
            except (ValueError, IndexError):
                continue
            if serial_dir.is_dir():
                self.touched(serial_dir)


class DropFolders:
    """Which serial folders have news, and when each last changed."""

    def __init__(self, roots: list[Path], settle_s: float) -> None:
        self.roots = roots
        self.settle_s = settle_s
        self._dirty: dict[Path, float] = {}
        self._lock = threading.Lock()
        self._observer = Observer()

    def start(self) -> None:
        for root in self.roots:
            root.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(_Handler(root, self.touch), str(root), recursive=True)
            for serial_dir in root.iterdir():
                if serial_dir.is_dir():
                    self.touch(serial_dir)
        self._observer.start()
        log.info("watching", folders=[str(r) for r in self.roots])

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def touch(self, serial_dir: Path) -> None:
        with self._lock:
            self._dirty[serial_dir] = time.monotonic()

    def due(self) -> list[Path]:
        """Serial folders that have been quiet for the settle time; they leave the list."""
        now = time.monotonic()
        with self._lock:
            ready = [d for d, at in self._dirty.items() if now - at >= self.settle_s]
            for folder in ready:
                del self._dirty[folder]
        return ready

    def ready_filter(self, folder: Path) -> Callable[[SourceFile], bool]:
        """A per-file test for the ingest: settled and not open for writing."""
        written = open_for_writing()
        now_ns = time.time_ns()
        root = os.fsencode(folder)

        def ready(file: SourceFile) -> bool:
            try:
                st = os.stat(os.path.join(root, file.path), follow_symlinks=False)
            except OSError:
                return False
            return settled(file, now_ns, self.settle_s, (st.st_dev, st.st_ino) in written)

        return ready
