"""Duration and creation time of a recording, read from its container header.

Recordings come off body cameras that may be faulty, half-flashed or tampered with, so
every byte here is treated as hostile: each declared size is checked against its parent
and against the file before it is believed, the number of boxes/chunks walked is capped,
and only small fixed-size headers are ever read (never ``mdat`` or WAV sample data).
The module is pure; all I/O goes through the ``read_at`` callable so it can be fuzzed
with in-memory bytes and reused over any file handle.

Problems are reported with three codes because they call for different handling
downstream: *truncated* means the file ends before its own structure says it should
(an incomplete copy, or a recorder that lost power mid-write), *corrupt* means the
structure contradicts itself, and *no-duration* means the structure is sound as far as
it goes but the index carrying the duration was never written (a dead battery on a
recorder that writes ``moov`` last).
"""

import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeAlias

from dockd.core.said import Said

ReadAt: TypeAlias = Callable[[int, int], bytes]

TRUNCATED: Final = "container-truncated"
CORRUPT: Final = "container-corrupt"
NO_DURATION: Final = "container-no-duration"

MP4_EXTENSIONS: Final = frozenset({"mp4", "mov", "m4a", "3gp"})
WAV_EXTENSIONS: Final = frozenset({"wav"})

# A box/chunk budget for the whole file: without it a file made of millions of empty
# 8-byte boxes would turn one header read into millions of reads.
MAX_BOXES: Final = 10_000
# No body camera records for a week on one battery; beyond this the header is garbage.
MAX_DURATION_S: Final = 7 * 24 * 3600.0

_EPOCH_1904: Final = datetime(1904, 1, 1, tzinfo=UTC)
_MAX_CREATED_S: Final = (datetime.max.replace(tzinfo=UTC) - _EPOCH_1904) // timedelta(seconds=1)
# Largest header we ever read: a box header with 64-bit largesize.
_BOX_HEADER_MAX: Final = 16
# Full-box payload lengths up to the last field we use (version/flags first).
_MVHD_V0_LEN: Final = 4 + 4 + 4 + 4 + 4
_MVHD_V1_LEN: Final = 4 + 8 + 8 + 4 + 8
_MEHD_V0_LEN: Final = 4 + 4
_MEHD_V1_LEN: Final = 4 + 8
_WAV_FMT_LEN: Final = 16
# Format tags whose byte rate is fully determined by sample rate and block alignment.
_WAV_PCM_TAGS: Final = frozenset({0x0001, 0x0003})


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """What the container declares; ``None`` means it declares nothing."""

    kind: str
    duration_s: float | None
    created: datetime | None


class ContainerProblem(Exception):
    """A recording's container is corrupt or truncated.

    ``.code`` is one of 'container-truncated', 'container-corrupt',
    'container-no-duration' so callers can branch without parsing messages.
    """

    def __init__(self, code: str, message: Said) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def read_container(ext: str, size: int, read_at: ReadAt) -> ContainerInfo | None:
    """Read a recording's container header without trusting any of it.

    ``ext`` is the lower-case extension without dot and ``size`` the file size from the
    filesystem. Returns ``None`` for extensions that carry no container we read, so
    callers can treat "nothing to check" apart from "checked and fine".
    """
    if size < 0:
        raise ValueError(f"file size must not be negative, got {size}")
    if ext in MP4_EXTENSIONS:
        info = _read_mp4(_Source(read_at, size))
    elif ext in WAV_EXTENSIONS:
        info = _read_wav(_Source(read_at, size))
    else:
        return None
    if info.duration_s is not None and not (
        math.isfinite(info.duration_s) and 0.0 <= info.duration_s <= MAX_DURATION_S
    ):
        raise ContainerProblem(
            CORRUPT, Said("implausible duration {duration!r} s", duration=info.duration_s)
        )
    return info


@dataclass(frozen=True, slots=True)
class _Box:
    kind: bytes
    body: int
    end: int
    open_ended: bool  # size 0: the box claims "to end of file", not a length

    @property
    def bound(self) -> int | None:
        return None if self.open_ended else self.end


class _Source:
    """Bounds-checked reads over one file, sharing one box budget across nested walks."""

    def __init__(self, read_at: ReadAt, size: int) -> None:
        self._read_at = read_at
        self.size = size
        self._boxes_left = MAX_BOXES

    def read(self, offset: int, length: int) -> bytes:
        """Read exactly ``length`` bytes.

        A short read means the file is shorter than its reported size (still being
        written, or shrunk underneath us), which is truncation, not a caller bug.
        """
        self.check_end(offset + length, None, Said("read"))
        data = self._read_at(offset, length)
        if len(data) < length:
            raise ContainerProblem(
                TRUNCATED,
                Said(
                    "file ends at {end}, before its size {size}",
                    end=offset + len(data),
                    size=self.size,
                ),
            )
        return data

    def check_end(self, end: int, parent_end: int | None, what: Said) -> None:
        """Reject an extent that overruns its parent.

        ``parent_end`` is None when the parent is the file itself or a box that runs to
        end of file: overrunning that is what a cut-off file looks like. A parent with
        a declared size that fits in the file proves the file goes on, so overrunning it
        means the sizes disagree: corruption, even if the extent also points past EOF.
        """
        if parent_end is None:
            if end > self.size:
                raise ContainerProblem(
                    TRUNCATED,
                    Said(
                        "{what} ends at {end}, past end of file at {size}",
                        what=what,
                        end=end,
                        size=self.size,
                    ),
                )
        elif end > parent_end:
            raise ContainerProblem(
                CORRUPT,
                Said(
                    "{what} ends at {end}, past its parent's end {parent_end}",
                    what=what,
                    end=end,
                    parent_end=parent_end,
                ),
            )

    def spend_box(self) -> None:
        self._boxes_left -= 1
        if self._boxes_left < 0:
            raise ContainerProblem(CORRUPT, Said("more than {count} boxes/chunks", count=MAX_BOXES))

    def boxes(self, start: int, parent_end: int | None) -> Iterator[_Box]:
        """Walk ISO-BMFF boxes from ``start`` to the parent's end, one small read each."""
        end = self.size if parent_end is None else parent_end
        offset = start
        while offset < end:
            self.spend_box()
            self.check_end(offset + 8, parent_end, Said("box header at {offset}", offset=offset))
            head = self.read(offset, min(_BOX_HEADER_MAX, end - offset))
            size32, kind = struct.unpack_from(">I4s", head)
            if not kind.isascii() or not kind.decode("ascii").isprintable():
                raise ContainerProblem(
                    CORRUPT,
                    Said(
                        "box at {offset} has non-printable type {kind}",
                        offset=offset,
                        kind=repr(kind),
                    ),
                )
            if size32 == 1:
                self.check_end(
                    offset + 16,
                    parent_end,
                    Said("{box} largesize at {offset}", box=_name(kind), offset=offset),
                )
                (box_size,) = struct.unpack_from(">Q", head, 8)
                body = offset + 16
            elif size32 == 0:
                box_size = self.size - offset
                body = offset + 8
            else:
                box_size = size32
                body = offset + 8
            if box_size < body - offset:
                raise ContainerProblem(
                    CORRUPT,
                    Said(
                        "{box} at {offset} declares impossible size {size}",
                        box=_name(kind),
                        offset=offset,
                        size=box_size,
                    ),
                )
            box_end = offset + box_size
            self.check_end(
                box_end, parent_end, Said("{box} at {offset}", box=_name(kind), offset=offset)
            )
            yield _Box(kind, body, box_end, open_ended=size32 == 0)
            offset = box_end


def _name(kind: bytes) -> str:
    return kind.decode("ascii", "backslashreplace")


def _read_mp4(src: _Source) -> ContainerInfo:
    """Walk every top-level box, not just up to ``moov``.

    With +faststart the index sits at the front, and only checking the boxes after it
    reveals a truncated ``mdat``.
    """
    moov: _Box | None = None
    for box in src.boxes(0, None):
        if box.kind == b"moov":
            if moov is not None:
                raise ContainerProblem(CORRUPT, Said("more than one moov box"))
            moov = box
    if moov is None:
        raise ContainerProblem(NO_DURATION, Said("no moov box (recording never finalised?)"))
    return _read_moov(src, moov)


def _read_moov(src: _Source, moov: _Box) -> ContainerInfo:
    mvhd: _Box | None = None
    mvex: _Box | None = None
    for box in src.boxes(moov.body, moov.bound):
        if box.kind == b"mvhd":
            if mvhd is not None:
                raise ContainerProblem(CORRUPT, Said("more than one mvhd in moov"))
            mvhd = box
        elif box.kind == b"mvex":
            mvex = box
    if mvhd is None:
        raise ContainerProblem(NO_DURATION, Said("moov has no mvhd"))

    timescale, duration, created = _read_mvhd(src, mvhd)
    if mvex is not None:
        # Fragmented file: mvhd only covers samples inside moov (often none); the whole
        # recording's length is declared by mehd, or not at all.
        duration = _read_mehd(src, mvex)
    return ContainerInfo(
        kind="mp4",
        duration_s=None if duration is None else duration / timescale,
        created=created,
    )


def _full_box(src: _Source, box: _Box, v0_len: int, v1_len: int) -> tuple[int, bytes]:
    """Return (version, payload) of a version 0/1 full box whose payload must fit."""
    available = box.end - box.body
    if available < 4:
        raise ContainerProblem(CORRUPT, Said("{box} too short for a version", box=_name(box.kind)))
    payload = src.read(box.body, min(v1_len, available))
    version = payload[0]
    if version not in (0, 1):
        raise ContainerProblem(
            CORRUPT,
            Said("{box} has unknown version {version}", box=_name(box.kind), version=version),
        )
    needed = v0_len if version == 0 else v1_len
    if available < needed:
        raise ContainerProblem(
            CORRUPT,
            Said(
                "{box} v{version} has {available} bytes, needs {needed}",
                box=_name(box.kind),
                version=version,
                available=available,
                needed=needed,
            ),
        )
    return version, payload


def _read_mvhd(src: _Source, mvhd: _Box) -> tuple[int, int | None, datetime | None]:
    """Return (timescale, duration in timescale units or None if unknown, created)."""
    version, payload = _full_box(src, mvhd, _MVHD_V0_LEN, _MVHD_V1_LEN)
    if version == 0:
        creation, _, timescale, duration = struct.unpack_from(">IIII", payload, 4)
        unknown = 0xFFFF_FFFF
    else:
        creation, _, timescale, duration = struct.unpack_from(">QQIQ", payload, 4)
        unknown = 0xFFFF_FFFF_FFFF_FFFF
    if timescale == 0:
        raise ContainerProblem(CORRUPT, Said("mvhd timescale is 0"))
    if creation > _MAX_CREATED_S:
        raise ContainerProblem(
            CORRUPT, Said("mvhd creation_time {creation} past year 9999", creation=creation)
        )
    created = None if creation == 0 else _EPOCH_1904 + timedelta(seconds=creation)
    return timescale, None if duration == unknown else duration, created


def _read_mehd(src: _Source, mvex: _Box) -> int | None:
    for box in src.boxes(mvex.body, mvex.bound):
        if box.kind == b"mehd":
            version, payload = _full_box(src, box, _MEHD_V0_LEN, _MEHD_V1_LEN)
            fmt = ">I" if version == 0 else ">Q"
            return int(struct.unpack_from(fmt, payload, 4)[0])
    return None


def _read_wav(src: _Source) -> ContainerInfo:
    """Duration is data size over byte rate; both must come from exactly one chunk each.

    Bytes after the RIFF chunk are tolerated (some tools append tags), but everything
    inside it must tile exactly into chunks.
    """
    riff, riff_size, wave = struct.unpack("<4sI4s", src.read(0, 12))
    if riff != b"RIFF" or wave != b"WAVE":
        raise ContainerProblem(CORRUPT, Said("not a RIFF/WAVE file"))
    if riff_size < len(b"WAVE"):
        raise ContainerProblem(CORRUPT, Said("RIFF size {size} too small for WAVE", size=riff_size))
    riff_end = 8 + riff_size
    src.check_end(riff_end, None, Said("RIFF chunk"))

    byte_rate: int | None = None
    data_size: int | None = None
    offset = 12
    while offset < riff_end:
        src.spend_box()
        src.check_end(offset + 8, riff_end, Said("chunk header at {offset}", offset=offset))
        chunk_id, chunk_size = struct.unpack("<4sI", src.read(offset, 8))
        body = offset + 8
        what = Said("{chunk} chunk at {offset}", chunk=_name(chunk_id), offset=offset)
        src.check_end(body + chunk_size, riff_end, what)
        if chunk_id == b"fmt ":
            if byte_rate is not None:
                raise ContainerProblem(CORRUPT, Said("second fmt chunk"))
            if chunk_size < _WAV_FMT_LEN:
                raise ContainerProblem(CORRUPT, Said("fmt chunk of {size} bytes", size=chunk_size))
            byte_rate = _wav_byte_rate(src.read(body, _WAV_FMT_LEN))
        elif chunk_id == b"data":
            if data_size is not None:
                raise ContainerProblem(CORRUPT, Said("second data chunk"))
            data_size = chunk_size
        # Chunks are word-aligned; a missing pad byte after the last chunk is tolerated.
        offset = body + chunk_size + (chunk_size & 1)

    if byte_rate is None or data_size is None:
        raise ContainerProblem(NO_DURATION, Said("WAVE without both fmt and data chunks"))
    return ContainerInfo(kind="wav", duration_s=data_size / byte_rate, created=None)


def _wav_byte_rate(fmt: bytes) -> int:
    tag, _, sample_rate, byte_rate, block_align, _ = struct.unpack("<HHIIHH", fmt)
    if byte_rate == 0:
        raise ContainerProblem(CORRUPT, Said("fmt byte rate is 0"))
    if tag in _WAV_PCM_TAGS and byte_rate != sample_rate * block_align:
        raise ContainerProblem(
            CORRUPT,
            Said(
                "PCM byte rate {byte_rate} != {sample_rate} Hz x {block_align} B/frame",
                byte_rate=byte_rate,
                sample_rate=sample_rate,
                block_align=block_align,
            ),
        )
    return int(byte_rate)
