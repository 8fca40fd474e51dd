"""dockd.core.container against real files written by ffmpeg."""

import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockd.core.container import ContainerInfo, ContainerProblem, ReadAt, read_container

VIDEO_3S = ["-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=10"]
AUDIO_3S = ["-f", "lavfi", "-i", "sine=duration=3"]
AUDIO_2S = ["-f", "lavfi", "-i", "sine=duration=2"]

Make = Callable[[str, list[str]], Path]


@pytest.fixture(scope="module")
def make(tmp_path_factory: pytest.TempPathFactory) -> Make:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("apt-get install ffmpeg")
    out_dir = tmp_path_factory.mktemp("ffmpeg")

    def run(name: str, args: list[str]) -> Path:
        out = out_dir / name
        if not out.exists():
            subprocess.run([ffmpeg, "-v", "error", "-y", *args, str(out)], check=True)
        return out

    return run


@contextmanager
def opened(path: Path) -> Iterator[ReadAt]:
    fd = os.open(path, os.O_RDONLY)
    try:
        yield lambda offset, length: os.pread(fd, length, offset)
    finally:
        os.close(fd)


def read(path: Path, ext: str | None = None) -> ContainerInfo | None:
    with opened(path) as read_at:
        return read_container(ext or path.suffix[1:], path.stat().st_size, read_at)


def problem_code(path: Path) -> str:
    with pytest.raises(ContainerProblem) as excinfo:
        read(path)
    return excinfo.value.code


def mp4_at_end(make: Make) -> Path:
    return make("at_end.mp4", [*VIDEO_3S, *AUDIO_3S, "-shortest"])


def top_level_boxes(data: bytes) -> list[tuple[bytes, int]]:
    """Independent minimal walk, so corruption tests hit the real mvhd."""
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        assert size >= 8, "test helper handles plain 32-bit sizes only"
        boxes.append((kind, offset))
        offset += size
    return boxes


def mvhd_offset(data: bytes) -> int:
    (moov,) = [offset for kind, offset in top_level_boxes(data) if kind == b"moov"]
    assert data[moov + 12 : moov + 16] == b"mvhd"
    return moov + 8


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("at_end.mp4", [*VIDEO_3S, *AUDIO_3S, "-shortest"], 3.0),
        ("faststart.mp4", [*VIDEO_3S, *AUDIO_3S, "-shortest", "-movflags", "+faststart"], 3.0),
        ("video.mov", [*VIDEO_3S, *AUDIO_3S, "-shortest"], 3.0),
        ("audio.m4a", [*AUDIO_2S], 2.0),
        ("audio.wav", [*AUDIO_2S], 2.0),
    ],
)
def test_duration_of_real_files(make: Make, name: str, args: list[str], expected: float) -> None:
    info = read(make(name, args))
    assert info is not None
    assert info.kind == ("wav" if name.endswith(".wav") else "mp4")
    assert info.duration_s is not None
    assert info.duration_s == pytest.approx(expected, abs=0.1)
    assert info.created is None  # ffmpeg writes creation_time 0 unless told otherwise


def test_faststart_really_puts_moov_first(make: Make) -> None:
    at_end = [k for k, _ in top_level_boxes(mp4_at_end(make).read_bytes())]
    front = make("faststart.mp4", [*VIDEO_3S, *AUDIO_3S, "-shortest", "-movflags", "+faststart"])
    at_front = [k for k, _ in top_level_boxes(front.read_bytes())]
    assert at_end.index(b"moov") > at_end.index(b"mdat")
    assert at_front.index(b"moov") < at_front.index(b"mdat")


def test_creation_time_is_read(make: Make) -> None:
    path = make(
        "dated.mp4",
        [*VIDEO_3S, "-metadata", "creation_time=2024-05-01T12:34:56Z"],
    )
    info = read(path)
    assert info is not None
    assert info.created == datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)


def test_fragmented_mp4_declares_no_overall_duration(make: Make) -> None:
    path = make(
        "fragmented.mp4",
        [*VIDEO_3S, *AUDIO_3S, "-shortest", "-movflags", "frag_keyframe+empty_moov"],
    )
    # empty_moov: the moov is written before any sample (mvhd duration 0) and ffmpeg adds
    # no mehd, so nothing in the file states the whole duration; dockd must not guess one
    assert b"mehd" not in path.read_bytes()
    info = read(path)
    assert info is not None
    assert info.duration_s is None


def test_other_extensions_are_not_read(make: Make) -> None:
    path = make("frame.jpg", [*VIDEO_3S, "-frames:v", "1"])
    assert read(path) is None


@pytest.mark.parametrize("ext", ["mp4", "wav"])
def test_wrong_container_for_extension_is_rejected(make: Make, ext: str) -> None:
    path = make("frame.jpg", [*VIDEO_3S, "-frames:v", "1"])
    with pytest.raises(ContainerProblem):
        read(path, ext)


def test_half_of_mp4_with_moov_at_end(make: Make, tmp_path: Path) -> None:
    data = mp4_at_end(make).read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    assert problem_code(half) in {"container-no-duration", "container-truncated"}


def test_unfinalised_recording_has_no_duration(make: Make, tmp_path: Path) -> None:
    """What a dead battery leaves: mdat written (with size 0, "to end of file"), no moov."""
    data = mp4_at_end(make).read_bytes()
    boxes = dict(top_level_boxes(data))
    mdat, moov = boxes[b"mdat"], boxes[b"moov"]
    cut = bytearray(data[:moov])
    cut[mdat : mdat + 4] = bytes(4)
    path = tmp_path / "unfinalised.mp4"
    path.write_bytes(bytes(cut))
    assert problem_code(path) == "container-no-duration"


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.99])
def test_truncated_faststart_mp4(make: Make, tmp_path: Path, fraction: float) -> None:
    """With moov at the front, truncation must still be caught via mdat's size."""
    data = make(
        "faststart.mp4", [*VIDEO_3S, *AUDIO_3S, "-shortest", "-movflags", "+faststart"]
    ).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * fraction)])
    assert problem_code(path) == "container-truncated"


def test_zeroed_mvhd_timescale_is_corrupt(make: Make, tmp_path: Path) -> None:
    data = bytearray(mp4_at_end(make).read_bytes())
    mvhd = mvhd_offset(bytes(data))
    assert data[mvhd + 8] == 0  # version 0: timescale after two 32-bit times
    timescale_at = mvhd + 8 + 4 + 4 + 4
    assert struct.unpack_from(">I", data, timescale_at)[0] == 1000
    data[timescale_at : timescale_at + 4] = bytes(4)
    path = tmp_path / "zero_timescale.mp4"
    path.write_bytes(bytes(data))
    assert problem_code(path) == "container-corrupt"


def test_wav_truncated(make: Make, tmp_path: Path) -> None:
    data = make("audio.wav", [*AUDIO_2S]).read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) - 1000])
    assert problem_code(path) == "container-truncated"


def test_file_growing_or_shrinking_under_us_is_truncated(make: Make) -> None:
    path = mp4_at_end(make)
    with opened(path) as read_at, pytest.raises(ContainerProblem) as excinfo:
        read_container("mp4", path.stat().st_size + 4096, read_at)
    assert excinfo.value.code == "container-truncated"


def test_reads_are_few_and_small(make: Make) -> None:
    path = mp4_at_end(make)
    calls: list[tuple[int, int]] = []
    with opened(path) as read_at:

        def spy(offset: int, length: int) -> bytes:
            calls.append((offset, length))
            return read_at(offset, length)

        assert read_container("mp4", path.stat().st_size, spy) is not None
    assert len(calls) < 20
    assert sum(length for _, length in calls) < 512
