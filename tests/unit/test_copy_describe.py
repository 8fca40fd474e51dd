"""A small recording is described from the bytes its read-back verified, not a reopen."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from dockd.adapters.rules import load_policy
from dockd.core.policy import PolicyPack
from dockd.core.transfer import Published, ReadBack
from dockd.ports import ReadAt
from tests.fakes.dock import FakeFile, FakeStore
from tests.unit.test_dock_session import RULES, SERIAL, Dock


@pytest.fixture
def policy() -> PolicyPack:
    return load_policy(RULES, "dalian-jinpu-ocean")


def mp4(duration_s: int) -> bytes:
    """ftyp + moov/mvhd (timescale 1000) + a little mdat."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    head = struct.pack(">B3xIIII", 0, 0, 0, 1000, duration_s * 1000)
    mvhd = struct.pack(">I4s", 108, b"mvhd") + head + bytes(100 - len(head))
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    mdat = struct.pack(">I4s", 8 + 4096, b"mdat") + bytes(4096)
    return ftyp + moov + mdat


class WholeReadBack(FakeStore):
    """Hands back the bytes it read back, as the real store does for a small object; an
    object opened again afterwards is a failure."""

    def verify_published(self, published: Published) -> ReadBack:
        back = super().verify_published(published)
        return replace(back, whole=self.objects[published.key])

    @contextmanager
    def reader(self, key: str) -> Iterator[ReadAt]:
        raise AssertionError(f"{key} was opened again to read its container")
        yield  # pragma: no cover


def test_a_small_recording_is_described_from_its_read_back_bytes(policy: PolicyPack) -> None:
    path = f"DCIM/{SERIAL}_B7_20261130080000_1.MP4".encode()
    dock = Dock(policy, {path: FakeFile(mp4(42))}, store=WholeReadBack())
    outcome = dock.ingest()
    assert (outcome.state, outcome.problems) == ("completed", [])
    ((_, rec),) = dock.ledger.recordings
    assert rec.times.duration_s == 42
