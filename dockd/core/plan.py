"""Copy planning: which files of a docked recorder still need copying.

A file already verified for this recorder (same raw path, size and mtime) is
never copied again, so re-docking after an interruption copies only what is
missing and re-running an ingest adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass

from dockd.core.model import SourceFile


@dataclass(frozen=True, slots=True)
class CopyPlan:
    to_copy: tuple[SourceFile, ...]
    already_verified: tuple[SourceFile, ...]


def plan_copy(files: Iterable[SourceFile], verified: Set[tuple[bytes, int, int]]) -> CopyPlan:
    """Split the scan into work and skips; order is by path so runs are reproducible."""
    to_copy: list[SourceFile] = []
    skipped: list[SourceFile] = []
    for file in sorted(files, key=lambda f: f.path):
        (skipped if file.identity in verified else to_copy).append(file)
    return CopyPlan(tuple(to_copy), tuple(skipped))


def settled(file: SourceFile, now_ns: int, settle_s: float, written: bool) -> bool:
    """A drop-folder file is complete when nobody writes it and it has been still long enough."""
    return not written and now_ns - file.mtime_ns >= settle_s * 1e9
