"""The values that cross the volume and store ports during a copy.

A scan of the volume, a copy in staging, a published object and its read-back:
plain values, so the dock session and its fakes share them with the real adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dockd.core.completeness import CheckResult
from dockd.core.fat import BootRegion
from dockd.core.model import Digests, Problem, SourceFile


@dataclass
class Scan:
    recordings: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    other_files: int = 0
    #: every regular file's size and the folders read: what the space in use is held to
    file_sizes: list[int] = field(default_factory=list)
    directories: int = 0


@dataclass(frozen=True, slots=True)
class Staged:
    """A complete copy in the store's staging area, not yet an object (durable once the
    store's `make_durable` has seen it)."""

    path: Path
    digests: Digests
    size: int


@dataclass(frozen=True, slots=True)
class Published:
    """An object in the store; `duplicate`: the name existed and was kept, not replaced."""

    key: str
    digests: Digests
    size: int
    protections: tuple[str, ...]
    duplicate: bool


@dataclass(frozen=True, slots=True)
class ReadBack:
    """An object as re-read from the disk; `whole`: its bytes, when the store read a small
    object whole (its container is described from them, not from a second read)."""

    blake3: str
    size: int
    method: str
    whole: bytes | None = None


@dataclass(frozen=True, slots=True)
class VolumeEvidence:
    """What a docked recorder's own filesystem said before it was mounted: the device's
    size, its boot region (None with the reason when it is not FAT or exFAT), the
    checks already made on it, and the space its FAT counts as in use."""

    device_bytes: int
    boot: BootRegion | None
    unrecognised: str | None
    checks: tuple[CheckResult, ...] = ()
    fat_used_bytes: int | None = None
