"""A look at the top of a mounted volume, enough to tell which recorder model it is."""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

from dockd.core.detect import VolumeSample

SAMPLE_NAMES = 64
SAMPLE_DEPTH = 4


class VolumeSampler:
    def sample(self, root: Path) -> VolumeSample:
        """Top folders and files, and file names breadth first (no symlink followed), up to
        SAMPLE_NAMES: bounded, so a full recorder costs no more than an empty one."""
        folders: set[str] = set()
        files: set[str] = set()
        names: list[str] = []
        queue: deque[tuple[str, int]] = deque([(str(root), 0)])
        while queue and len(names) < SAMPLE_NAMES:
            folder, depth = queue.popleft()
            try:
                with os.scandir(folder) as entries:
                    listed = sorted(entries, key=lambda e: e.name)
            except OSError:
                continue
            for entry in listed:
                if entry.is_dir(follow_symlinks=False):
                    if depth == 0:
                        folders.add(entry.name)
                    if depth + 1 < SAMPLE_DEPTH:
                        queue.append((entry.path, depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    if depth == 0:
                        files.add(entry.name)
                    if len(names) < SAMPLE_NAMES:
                        names.append(entry.name)
        return VolumeSample(frozenset(folders), frozenset(files), tuple(names))
