"""The copy's chunk per large-file stream: what keeps four recorders under 150 MiB."""

from __future__ import annotations

import pytest

from dockd.adapters.store.objects import stream_chunk

MIB = 1 << 20


@pytest.mark.parametrize("streams", [1, 2, 3, 4])
def test_up_to_two_recorders_keep_the_configured_chunk(streams: int) -> None:
    assert stream_chunk(1 * MIB, streams) == 1 * MIB
    assert stream_chunk(8 * MIB, streams) == 8 * MIB


@pytest.mark.parametrize("streams", [5, 8])
def test_four_recorders_at_two_streams_each_read_half_chunks(streams: int) -> None:
    assert stream_chunk(1 * MIB, streams) == 512 * 1024


def test_more_streams_read_less_each() -> None:
    assert stream_chunk(4 * MIB, 9) == 1 * MIB
    assert stream_chunk(4 * MIB, 17) == 512 * 1024


def test_many_streams_never_go_below_the_floor() -> None:
    assert stream_chunk(1 * MIB, 64) == 256 * 1024


def test_a_configured_chunk_below_the_floor_is_kept() -> None:
    assert stream_chunk(64 * 1024, 8) == 64 * 1024
