"""Frozen value types shared by the pure core and the adapters.

Paths on a recorder are kept as the raw bytes the filesystem gave us: a name
that is not UTF-8 is still evidence, and must round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockd.core.said import Said


def display_path(raw: bytes) -> str:
    """A printable form of a raw relative path; undecodable bytes show as \\xNN."""
    return raw.decode("utf-8", "backslashreplace")


def raw_hex(raw: bytes) -> str | None:
    """The raw bytes of a path in hex when its display form is not the path itself."""
    return None if is_utf8(raw) else raw.hex()


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A regular file found on a recorder, as the scan saw it."""

    path: bytes
    size: int
    mtime_ns: int

    @property
    def identity(self) -> tuple[bytes, int, int]:
        """What makes a recorder's file 'the same file' across dock sessions."""
        return (self.path, self.size, self.mtime_ns)

    @property
    def display(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True, slots=True)
class Digests:
    blake3: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one entry (or the whole session) that an admin must see.

    The message is a `Said`: the ledger keeps its template and values beside the English,
    so that `ingest`, `sessions`, the page and the e-mail can say it in the reader's
    language."""

    path: str
    code: str
    message: Said


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a recorder's file name says about the recording."""

    serial: str | None
    badge: str | None
    start: datetime | None
    sequence: int | None
    important: bool


@dataclass(frozen=True, slots=True)
class RecordingTimes:
    start: datetime
    end: datetime
    duration_s: float | None
    source: str


@dataclass(frozen=True, slots=True)
class VerifiedRecording:
    """A recording whose stored copy was read back from disk and matched: evidence."""

    source: SourceFile
    name: NameInfo | None
    times: RecordingTimes
    corrected_start: datetime | None
    corrected_end: datetime | None
    deadline: datetime
    late: bool
    late_by_s: float
    retention_class: str
    retain_until: datetime
    digests: Digests
    object_key: str
    protections: tuple[str, ...]
    verified_at: datetime
    verify_method: str
    duplicate: bool
    # the end of the working day the deadline counts from, kept so that a return from remote
    # duty recorded later re-judges from it rather than from a deadline a return already moved
    day_end: datetime | None = None

    @property
    def badge(self) -> str | None:
        return self.name.badge if self.name else None

    @property
    def name_serial(self) -> str | None:
        return self.name.serial if self.name else None

    @property
    def sequence(self) -> int | None:
        return self.name.sequence if self.name else None

    @property
    def important(self) -> bool:
        return self.name.important if self.name else False


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A small object dockd itself wrote to the store (a session manifest)."""

    digests: Digests
    size: int
    object_key: str
    protections: tuple[str, ...]
