"""Unit tests for dockd.core.container on hand-built, in-memory containers."""

import math
import struct
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockd.core.container import (
    MAX_BOXES,
    ContainerInfo,
    ContainerProblem,
    ReadAt,
    read_container,
)
from dockd.core.said import Said

EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)


# --- builders ---------------------------------------------------------------------------


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large_box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def open_box(kind: bytes, payload: bytes = b"") -> bytes:
    """A size==0 box: runs to end of file."""
    return struct.pack(">I4s", 0, kind) + payload


def mvhd_v0(timescale: int, duration: int, creation: int = 0) -> bytes:
    head = struct.pack(">B3xIIII", 0, creation, creation, timescale, duration)
    return box(b"mvhd", head + bytes(100 - len(head)))


def mvhd_v1(timescale: int, duration: int, creation: int = 0) -> bytes:
    head = struct.pack(">B3xQQIQ", 1, creation, creation, timescale, duration)
    return box(b"mvhd", head + bytes(112 - len(head)))


def mehd(duration: int, version: int = 0) -> bytes:
    fmt = ">B3xI" if version == 0 else ">B3xQ"
    return box(b"mehd", struct.pack(fmt, version, duration))


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
TRAK = box(b"trak", box(b"tkhd", bytes(84)))
MDAT = box(b"mdat", bytes(range(256)) * 4)


def mp4(*boxes: bytes) -> bytes:
    return b"".join(boxes)


def wav(*chunks: bytes, riff_size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    size = len(body) if riff_size is None else riff_size
    return struct.pack("<4sI", b"RIFF", size) + body


def chunk(cid: bytes, payload: bytes, declared: int | None = None) -> bytes:
    size = len(payload) if declared is None else declared
    pad = b"\x00" if len(payload) % 2 else b""
    return struct.pack("<4sI", cid, size) + payload + pad


def fmt_chunk(
    rate: int = 8000,
    channels: int = 1,
    bits: int = 16,
    tag: int = 1,
    byte_rate: int | None = None,
) -> bytes:
    align = channels * bits // 8
    br = rate * align if byte_rate is None else byte_rate
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, br, align, bits))


def reader(data: bytes) -> ReadAt:
    def read_at(offset: int, length: int) -> bytes:
        assert offset >= 0
        assert length >= 0
        return data[offset : offset + length]

    return read_at


def parse(ext: str, data: bytes) -> ContainerInfo | None:
    return read_container(ext, len(data), reader(data))


def problem(ext: str, data: bytes) -> str:
    with pytest.raises(ContainerProblem) as excinfo:
        parse(ext, data)
    return excinfo.value.code


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["jpg", "avi", "txt", "", "MP4"])
def test_other_extensions_return_none_without_reading(ext: str) -> None:
    def read_at(offset: int, length: int) -> bytes:
        raise AssertionError("must not read")

    assert read_container(ext, 100, read_at) is None


def test_negative_size_is_a_caller_bug() -> None:
    with pytest.raises(ValueError):
        read_container("mp4", -1, reader(b""))


def test_problem_carries_code_and_message() -> None:
    err = ContainerProblem("container-corrupt", Said("bad box"))
    assert err.code == "container-corrupt"
    assert err.message == "bad box"
    assert str(err) == "container-corrupt: bad box"


def test_info_is_frozen() -> None:
    info = ContainerInfo(kind="mp4", duration_s=1.0, created=None)
    with pytest.raises(AttributeError):
        info.kind = "wav"  # type: ignore[misc]


# --- MP4: good files ---------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4a", "3gp"])
def test_mvhd_v0_moov_at_end(ext: str) -> None:
    data = mp4(FTYP, box(b"free"), MDAT, box(b"moov", mvhd_v0(1000, 3000) + TRAK))
    assert parse(ext, data) == ContainerInfo(kind="mp4", duration_s=3.0, created=None)


def test_mvhd_v0_moov_at_front_with_creation_time() -> None:
    when = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    seconds = int((when - EPOCH_1904).total_seconds())
    data = mp4(FTYP, box(b"moov", mvhd_v0(600, 900, seconds) + TRAK), MDAT)
    info = parse("mp4", data)
    assert info == ContainerInfo(kind="mp4", duration_s=1.5, created=when)
    assert info is not None and info.created is not None
    assert info.created.utcoffset() is not None


def test_mvhd_v1_64_bit_fields() -> None:
    when = datetime(2150, 1, 2, 3, 4, 5, tzinfo=UTC)  # past the 32-bit range from 1904
    seconds = int((when - EPOCH_1904).total_seconds())
    assert seconds > 0xFFFF_FFFF
    data = mp4(FTYP, box(b"moov", mvhd_v1(90_000, 90_000 * 5, seconds)), MDAT)
    assert parse("mov", data) == ContainerInfo(kind="mp4", duration_s=5.0, created=when)


@pytest.mark.parametrize("mvhd", [mvhd_v0(1000, 0xFFFF_FFFF), mvhd_v1(1000, 2**64 - 1)])
def test_all_ones_duration_means_unknown(mvhd: bytes) -> None:
    info = parse("mp4", mp4(FTYP, box(b"moov", mvhd), MDAT))
    assert info is not None and info.duration_s is None


def test_largesize_boxes() -> None:
    data = mp4(FTYP, large_box(b"mdat", bytes(40)), large_box(b"moov", mvhd_v0(10, 25)))
    info = parse("mp4", data)
    assert info is not None and info.duration_s == 2.5


def test_size_zero_last_box_runs_to_eof() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 2000)), open_box(b"mdat", bytes(500)))
    info = parse("mp4", data)
    assert info is not None and info.duration_s == 2.0


def test_size_zero_moov_runs_to_eof() -> None:
    data = mp4(FTYP, MDAT, open_box(b"moov", mvhd_v0(1000, 2000)))
    info = parse("mp4", data)
    assert info is not None and info.duration_s == 2.0


def test_zero_duration() -> None:
    info = parse("mp4", mp4(FTYP, box(b"moov", mvhd_v0(1000, 0))))
    assert info is not None and info.duration_s == 0.0


def test_fragmented_without_mehd_declares_no_duration() -> None:
    mvex = box(b"mvex", box(b"trex", bytes(24)))
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 0) + TRAK + mvex), box(b"moof"), MDAT)
    info = parse("mp4", data)
    assert info is not None and info.duration_s is None


@pytest.mark.parametrize("version", [0, 1])
def test_fragmented_duration_comes_from_mehd(version: int) -> None:
    mvex = box(b"mvex", mehd(12_000, version) + box(b"trex", bytes(24)))
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 0) + mvex), box(b"moof"), MDAT)
    info = parse("mp4", data)
    assert info is not None and info.duration_s == 12.0


def test_mdat_is_never_read() -> None:
    """An 8 GiB mdat costs one header read: only the first 16 bytes are touched."""
    head = FTYP + struct.pack(">I4sQ", 1, b"mdat", 16 + 8 * 2**30)
    moov = box(b"moov", mvhd_v0(1000, 60_000))
    moov_at = len(head) + 8 * 2**30
    size = moov_at + len(moov)
    calls: list[tuple[int, int]] = []

    def read_at(offset: int, length: int) -> bytes:
        calls.append((offset, length))
        if offset + length <= len(head):
            return head[offset : offset + length]
        assert offset >= moov_at, f"read inside mdat at {offset}"
        return moov[offset - moov_at : offset - moov_at + length]

    info = read_container("mp4", size, read_at)
    assert info is not None and info.duration_s == 60.0
    assert len(calls) <= 6
    assert all(length <= 64 for _, length in calls)


# --- MP4: broken files -------------------------------------------------------------------


def test_empty_file_has_no_duration() -> None:
    assert problem("mp4", b"") == "container-no-duration"


def test_no_moov_is_no_duration() -> None:
    """What a recorder that lost power before writing moov leaves behind."""
    assert problem("mp4", mp4(FTYP, box(b"free"), MDAT)) == "container-no-duration"


def test_unfinalised_size_zero_mdat_is_no_duration() -> None:
    assert problem("mp4", mp4(FTYP, open_box(b"mdat", bytes(300)))) == "container-no-duration"


def test_moov_without_mvhd_is_no_duration() -> None:
    assert problem("mp4", mp4(FTYP, box(b"moov", TRAK), MDAT)) == "container-no-duration"


@pytest.mark.parametrize("cut", [1, 4, 7])
def test_truncated_box_header(cut: int) -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 1000)), MDAT)
    assert problem("mp4", data + MDAT[:cut]) == "container-truncated"


def test_truncated_largesize_header() -> None:
    data = FTYP + large_box(b"mdat", bytes(32))[:12]
    assert problem("mp4", data) == "container-truncated"


def test_box_past_eof_is_truncated() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 1000)), MDAT)
    assert problem("mp4", data[:-1]) == "container-truncated"


def test_moov_at_end_cut_in_half_is_truncated() -> None:
    data = mp4(FTYP, MDAT, box(b"moov", mvhd_v0(1000, 1000) + TRAK))
    assert problem("mp4", data[: len(data) - 100]) == "container-truncated"


def test_largesize_past_eof_is_truncated() -> None:
    data = FTYP + struct.pack(">I4sQ", 1, b"mdat", 2**63) + bytes(64)
    assert problem("mp4", data) == "container-truncated"


def test_file_shorter_than_its_reported_size_is_truncated() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 1000)), MDAT)
    with pytest.raises(ContainerProblem) as excinfo:
        read_container("mp4", len(data) + 100, reader(data))
    assert excinfo.value.code == "container-truncated"


def test_child_past_parent_is_corrupt() -> None:
    bad_mvhd = struct.pack(">I4s", 500, b"mvhd") + mvhd_v0(1000, 1000)[8:]
    data = mp4(FTYP, box(b"moov", bad_mvhd), MDAT)
    assert problem("mp4", data) == "container-corrupt"


def test_child_past_parent_and_eof_is_corrupt_when_parent_fits() -> None:
    """The parent's size proves the file goes on, so the child's size is the lie."""
    bad_mvhd = struct.pack(">I4s", 100_000, b"mvhd") + mvhd_v0(1000, 1000)[8:]
    data = mp4(FTYP, box(b"moov", bad_mvhd), MDAT)
    assert problem("mp4", data) == "container-corrupt"


def test_child_past_eof_inside_open_ended_moov_is_truncated() -> None:
    """A size-0 moov only claims "to end of file", so a longer child means a cut file."""
    data = mp4(FTYP, MDAT, open_box(b"moov", mvhd_v0(1000, 1000) + TRAK))
    assert problem("mp4", data[:-10]) == "container-truncated"


def test_child_past_moov_that_ends_at_eof_is_corrupt() -> None:
    bad_mvhd = struct.pack(">I4s", 500, b"mvhd") + mvhd_v0(1000, 1000)[8:]
    assert problem("mp4", mp4(FTYP, MDAT, box(b"moov", bad_mvhd))) == "container-corrupt"


def test_size_zero_child_inside_bounded_parent_is_corrupt() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 1000) + open_box(b"udta")), MDAT)
    assert problem("mp4", data) == "container-corrupt"


def test_trailing_bytes_inside_moov_are_corrupt() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v0(1000, 1000) + b"\x00\x00\x00"), MDAT)
    assert problem("mp4", data) == "container-corrupt"


@pytest.mark.parametrize("size", [2, 3, 7])
def test_box_size_below_header_is_corrupt(size: int) -> None:
    data = FTYP + struct.pack(">I4s", size, b"free") + box(b"moov", mvhd_v0(1000, 1))
    assert problem("mp4", data) == "container-corrupt"


def test_largesize_below_header_is_corrupt() -> None:
    data = FTYP + struct.pack(">I4sQ", 1, b"free", 15) + box(b"moov", mvhd_v0(1000, 1))
    assert problem("mp4", data) == "container-corrupt"


def test_non_printable_box_type_is_corrupt() -> None:
    assert problem("mp4", box(b"\x00\x01\x02\x03", bytes(8))) == "container-corrupt"


def test_zero_filled_file_is_corrupt() -> None:
    assert problem("mp4", bytes(4096)) == "container-corrupt"


@pytest.mark.parametrize("mvhd", [mvhd_v0(0, 1000), mvhd_v1(0, 1000)])
def test_zero_timescale_is_corrupt(mvhd: bytes) -> None:
    assert problem("mp4", mp4(FTYP, box(b"moov", mvhd), MDAT)) == "container-corrupt"


def test_unknown_mvhd_version_is_corrupt() -> None:
    mvhd = mvhd_v0(1000, 1000)
    bad = mvhd[:8] + b"\x02" + mvhd[9:]
    assert problem("mp4", mp4(FTYP, box(b"moov", bad))) == "container-corrupt"


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x00\x00", bytes(19), b"\x01" + bytes(30)],
    ids=["empty", "no-version", "short-v0", "short-v1"],
)
def test_short_mvhd_is_corrupt(payload: bytes) -> None:
    assert problem("mp4", mp4(FTYP, box(b"moov", box(b"mvhd", payload)))) == "container-corrupt"


def test_short_mehd_is_corrupt() -> None:
    mvex = box(b"mvex", box(b"mehd", b"\x01" + bytes(8)))
    assert problem("mp4", mp4(FTYP, box(b"moov", mvhd_v0(1000, 0) + mvex))) == "container-corrupt"


def test_two_moovs_are_corrupt() -> None:
    moov = box(b"moov", mvhd_v0(1000, 1000))
    assert problem("mp4", mp4(FTYP, moov, MDAT, moov)) == "container-corrupt"


def test_two_mvhds_are_corrupt() -> None:
    moov = box(b"moov", mvhd_v0(1000, 1000) + mvhd_v0(1000, 9000))
    assert problem("mp4", mp4(FTYP, moov)) == "container-corrupt"


@pytest.mark.parametrize(
    "mvhd",
    [mvhd_v0(1, 7 * 24 * 3600 + 1), mvhd_v1(1, 2**63), mvhd_v0(1000, 0xFFFF_FFFE)],
    ids=["just-over-7-days", "huge-v1", "49-days"],
)
def test_absurd_duration_is_corrupt(mvhd: bytes) -> None:
    assert problem("mp4", mp4(FTYP, box(b"moov", mvhd))) == "container-corrupt"


def test_seven_days_exactly_is_accepted() -> None:
    info = parse("mp4", mp4(FTYP, box(b"moov", mvhd_v0(1, 7 * 24 * 3600))))
    assert info is not None and info.duration_s == 7 * 24 * 3600


def test_creation_time_past_year_9999_is_corrupt() -> None:
    data = mp4(FTYP, box(b"moov", mvhd_v1(1000, 1000, 2**63)))
    assert problem("mp4", data) == "container-corrupt"


def test_box_budget_is_enforced() -> None:
    data = box(b"free") * (MAX_BOXES + 1) + box(b"moov", mvhd_v0(1000, 1000))
    assert problem("mp4", data) == "container-corrupt"


def test_box_budget_allows_just_under_the_limit() -> None:
    data = box(b"free") * (MAX_BOXES - 2) + box(b"moov", mvhd_v0(1000, 1000))
    info = parse("mp4", data)
    assert info is not None and info.duration_s == 1.0


# --- WAV ---------------------------------------------------------------------------------


def test_wav_pcm_duration() -> None:
    data = wav(fmt_chunk(rate=8000), chunk(b"data", bytes(8000 * 2 * 3)))
    assert parse("wav", data) == ContainerInfo(kind="wav", duration_s=3.0, created=None)


def test_wav_with_extra_and_odd_sized_chunks() -> None:
    data = wav(
        chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00Lavf\x00"),
        chunk(b"junk", b"abc"),  # odd size: followed by a pad byte
        fmt_chunk(rate=44_100, channels=2),
        chunk(b"data", bytes(44_100 * 4 // 2)),
    )
    info = parse("wav", data)
    assert info is not None and info.duration_s == 0.5


def test_wav_missing_final_pad_byte_is_tolerated() -> None:
    padded = wav(fmt_chunk(rate=8000, bits=8), chunk(b"data", bytes(8001)))
    unpadded = b"RIFF" + struct.pack("<I", len(padded) - 9) + padded[8:-1]
    info = parse("wav", unpadded)
    assert info is not None and info.duration_s == 8001 / 8000


def test_wav_bytes_after_riff_are_tolerated() -> None:
    data = wav(fmt_chunk(), chunk(b"data", bytes(16_000))) + b"ID3\x03\x00trailing tag"
    info = parse("wav", data)
    assert info is not None and info.duration_s == 1.0


def test_wav_non_pcm_uses_declared_byte_rate() -> None:
    data = wav(fmt_chunk(tag=0x55, byte_rate=16_000), chunk(b"data", bytes(32_000)))
    info = parse("wav", data)
    assert info is not None and info.duration_s == 2.0


@pytest.mark.parametrize("cut", [0, 1, 11])
def test_wav_shorter_than_header_is_truncated(cut: int) -> None:
    assert problem("wav", wav(fmt_chunk())[:cut]) == "container-truncated"


def test_wav_cut_short_is_truncated() -> None:
    data = wav(fmt_chunk(), chunk(b"data", bytes(16_000)))
    assert problem("wav", data[: len(data) // 2]) == "container-truncated"


def test_wav_streaming_placeholder_sizes_are_truncated() -> None:
    data = wav(
        fmt_chunk(), chunk(b"data", bytes(1000), declared=0xFFFF_FFFF), riff_size=0xFFFF_FFFF
    )
    assert problem("wav", data) == "container-truncated"


def test_wav_chunk_past_riff_is_corrupt() -> None:
    data = wav(fmt_chunk(), chunk(b"data", bytes(1000), declared=1200)) + bytes(400)
    assert problem("wav", data) == "container-corrupt"


def test_wav_trailing_bytes_inside_riff_are_corrupt() -> None:
    assert problem("wav", wav(fmt_chunk(), chunk(b"data", bytes(2)), b"\x00\x00")) == (
        "container-corrupt"
    )


@pytest.mark.parametrize("magic", [b"RIFX", b"RF64"])
def test_wav_wrong_magic_is_corrupt(magic: bytes) -> None:
    data = wav(fmt_chunk(), chunk(b"data", bytes(16)))
    assert problem("wav", magic + data[4:]) == "container-corrupt"


def test_wav_not_wave_is_corrupt() -> None:
    data = wav(fmt_chunk(), chunk(b"data", bytes(16)))
    assert problem("wav", data[:8] + b"AVI " + data[12:]) == "container-corrupt"


def test_wav_riff_size_too_small_is_corrupt() -> None:
    assert problem("wav", wav(riff_size=2)) == "container-corrupt"


@pytest.mark.parametrize(
    "fmt",
    [
        fmt_chunk(byte_rate=0),
        fmt_chunk(tag=0x55, byte_rate=0),
        fmt_chunk(byte_rate=12_345),
        fmt_chunk(tag=3, bits=32, byte_rate=1),
        chunk(b"fmt ", bytes(14)),
    ],
    ids=["zero-rate", "zero-rate-compressed", "pcm-mismatch", "float-mismatch", "short-fmt"],
)
def test_wav_bad_fmt_is_corrupt(fmt: bytes) -> None:
    assert problem("wav", wav(fmt, chunk(b"data", bytes(16)))) == "container-corrupt"


def test_wav_duplicate_chunks_are_corrupt() -> None:
    data_chunk = chunk(b"data", bytes(16))
    assert problem("wav", wav(fmt_chunk(), fmt_chunk(), data_chunk)) == "container-corrupt"
    assert problem("wav", wav(fmt_chunk(), data_chunk, data_chunk)) == "container-corrupt"


@pytest.mark.parametrize("chunks", [[b"fmt"], [b"data"], []])
def test_wav_missing_fmt_or_data_is_no_duration(chunks: list[bytes]) -> None:
    parts = {b"fmt": fmt_chunk(), b"data": chunk(b"data", bytes(16))}
    data = wav(*(parts[c] for c in chunks))
    assert problem("wav", data) == "container-no-duration"


def test_wav_absurd_duration_is_corrupt() -> None:
    week = 7 * 24 * 3600
    data = wav(fmt_chunk(tag=0x55, byte_rate=1), chunk(b"data", bytes(week + 2)))
    assert problem("wav", data) == "container-corrupt"


def test_wav_chunk_budget_is_enforced() -> None:
    data = wav(fmt_chunk(), *[chunk(b"junk", b"")] * MAX_BOXES, chunk(b"data", bytes(16)))
    assert problem("wav", data) == "container-corrupt"


# --- fuzz --------------------------------------------------------------------------------

EXTS = ["mp4", "mov", "m4a", "3gp", "wav"]
CODES = {"container-truncated", "container-corrupt", "container-no-duration"}

SEED_CREATED = 3_800_000_000
VALID_MP4 = mp4(
    FTYP,
    box(b"free"),
    box(
        b"moov",
        mvhd_v0(1000, 3000, SEED_CREATED)
        + TRAK
        + box(b"mvex", mehd(3000) + box(b"trex", bytes(24)))
        + box(b"udta", bytes(20)),
    ),
    large_box(b"mdat", bytes(64)),
    box(b"skip", bytes(8)),
)
VALID_MP4_V1 = mp4(FTYP, MDAT, box(b"moov", mvhd_v1(90_000, 270_000, 1) + TRAK))
VALID_WAV = wav(chunk(b"LIST", b"INFOabc"), fmt_chunk(rate=16_000), chunk(b"data", bytes(3200)))


def check_outcome(ext: str, data: bytes, size: int) -> None:
    """read_container either answers or raises ContainerProblem, and reads sanely."""
    calls: list[tuple[int, int]] = []

    def read_at(offset: int, length: int) -> bytes:
        assert offset >= 0, f"negative offset {offset}"
        assert length >= 0, f"negative length {length}"
        assert offset + length <= size, "read past the reported size"
        assert length <= 4096, f"oversized read {length}"
        calls.append((offset, length))
        return data[offset : offset + length]

    try:
        info = read_container(ext, size, read_at)
    except ContainerProblem as err:
        assert err.code in CODES
    else:
        assert info is not None
        assert info.kind == ("wav" if ext == "wav" else "mp4")
        if info.duration_s is not None:
            assert math.isfinite(info.duration_s)
            assert 0 <= info.duration_s <= 7 * 24 * 3600
        if info.created is not None:
            assert info.created.tzinfo is not None
    assert len(calls) <= 2 * MAX_BOXES + 8


def test_valid_fuzz_seeds_parse() -> None:
    assert parse("mp4", VALID_MP4) == ContainerInfo(
        kind="mp4", duration_s=3.0, created=EPOCH_1904 + timedelta(seconds=SEED_CREATED)
    )
    info = parse("mp4", VALID_MP4_V1)
    assert info is not None and info.duration_s == 3.0
    info = parse("wav", VALID_WAV)
    assert info is not None and info.duration_s == 0.1


@settings(max_examples=400, deadline=None)
@given(ext=st.sampled_from(EXTS), data=st.binary(max_size=512), extra=st.sampled_from([0, 0, 7]))
def test_fuzz_arbitrary_bytes(ext: str, data: bytes, extra: int) -> None:
    check_outcome(ext, data, len(data) + extra)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    ext, seed = draw(
        st.sampled_from([("mp4", VALID_MP4), ("mov", VALID_MP4_V1), ("wav", VALID_WAV)])
    )
    buf = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        at = draw(st.integers(0, len(buf)))
        if op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif at < len(buf) and op == "delete":
            del buf[at : at + draw(st.integers(1, 16))]
        elif at < len(buf) and op == "flip":
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif at < len(buf):
            # Bias towards the values that matter in size fields.
            value = draw(st.sampled_from([0, 1, 7, 8, 0x7F, 0x80, 0xFF]))
            buf[at] = value
    if draw(st.booleans()):
        buf = buf[: draw(st.integers(0, len(buf)))]
    return ext, bytes(buf)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_fuzz_mutated_valid_files(case: tuple[str, bytes]) -> None:
    ext, data = case
    check_outcome(ext, data, len(data))
