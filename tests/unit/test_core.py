"""Pure decisions: file names, copy planning, store layout, recording times, custody chain."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.adapters.rules import load_profiles
from dockd.core.custody import GENESIS, CustodyEvent, event_hash, first_break
from dockd.core.layout import extension, is_recording, object_key, unsafe_component
from dockd.core.model import NameInfo, SourceFile
from dockd.core.names import parse_name
from dockd.core.plan import plan_copy
from dockd.core.timing import recording_times

RULES = Path(__file__).resolve().parents[2] / "rules"
PROFILES = load_profiles(RULES)
GENERIC = PROFILES["generic"]
DCIM = PROFILES["dcim"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


# file names ---------------------------------------------------------------


def test_generic_name_gives_serial_badge_start_sequence() -> None:
    info = parse_name(GENERIC, "ABC123_007_20261122081500_0003.MP4")
    assert info == NameInfo(
        "ABC123", "007", datetime(2026, 11, 22, 8, 15, tzinfo=SHANGHAI), 3, False
    )
    assert info is not None and info.start is not None
    assert info.start.astimezone(UTC) == datetime(2026, 11, 22, 0, 15, tzinfo=UTC)


def test_imp_marker_flags_important() -> None:
    info = parse_name(GENERIC, "ABC123_007_20261122081500_0003_IMP.mp4")
    assert info is not None and info.important


def test_dcim_name() -> None:
    info = parse_name(DCIM, "20261122_081500_0001.MP4")
    assert info is not None and info.start == datetime(2026, 11, 22, 8, 15, tzinfo=SHANGHAI)
    assert info.serial is None and info.sequence == 1


@pytest.mark.parametrize(
    "name",
    [
        "ABC123_007_20261322081500_0003.MP4",  # month 13
        "ABC123_007_20261122081500_0003",  # no extension
        "random.mp4",
        "ABC123_007_20261122081500_0003.MP4/..",
    ],
)
def test_names_that_say_nothing(name: str) -> None:
    assert parse_name(GENERIC, name) is None


@given(st.text(max_size=200))
def test_any_name_parses_or_not_but_never_raises(name: str) -> None:
    info = parse_name(GENERIC, name)
    assert info is None or info.start is not None


@given(
    st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2107, 12, 31)),
    st.integers(0, 999999),
    st.booleans(),
)
def test_generated_names_round_trip(start: datetime, seq: int, important: bool) -> None:
    start = start.replace(microsecond=0)
    name = f"SN9_42_{start:%Y%m%d%H%M%S}_{seq}{'_IMP' if important else ''}.mov"
    info = parse_name(GENERIC, name)
    assert info is not None
    assert info.start == start.replace(tzinfo=SHANGHAI)
    assert (info.sequence, info.important, info.serial, info.badge) == (seq, important, "SN9", "42")


# copy planning ------------------------------------------------------------

files_strategy = st.lists(
    st.builds(
        SourceFile,
        st.binary(min_size=1, max_size=12),
        st.integers(0, 10**12),
        st.integers(0, 2**62),
    ),
    max_size=40,
    unique_by=lambda f: f.path,
)


@given(files_strategy, st.data())
def test_plan_partitions_and_skips_exactly_the_verified(
    files: list[SourceFile], data: st.DataObject
) -> None:
    verified = {
        f.identity for f in data.draw(st.lists(st.sampled_from(files) if files else st.nothing()))
    }
    plan = plan_copy(files, verified)
    assert sorted(plan.to_copy + plan.already_verified, key=lambda f: f.path) == sorted(
        files, key=lambda f: f.path
    )
    assert all(f.identity in verified for f in plan.already_verified)
    assert all(f.identity not in verified for f in plan.to_copy)
    assert list(plan.to_copy) == sorted(plan.to_copy, key=lambda f: f.path)


def test_changed_file_is_copied_again() -> None:
    old = SourceFile(b"A.MP4", 10, 1)
    grown = dataclasses.replace(old, size=11)
    assert plan_copy([grown], {old.identity}).to_copy == (grown,)


# store layout -------------------------------------------------------------


@given(st.binary(min_size=32, max_size=32))
def test_object_key_is_two_level_fanout(digest: bytes) -> None:
    hexd = digest.hex()
    assert object_key(hexd) == f"objects/blake3/{hexd[:2]}/{hexd}"


@pytest.mark.parametrize("bad", ["", "AB" * 32, "zz" * 32, "../" + "a" * 61, "a" * 63])
def test_object_key_refuses_anything_but_a_digest(bad: str) -> None:
    with pytest.raises(ValueError):
        object_key(bad)


@pytest.mark.parametrize("name", [b"", b".", b"..", b"a/b", b"a\0b"])
def test_unsafe_components(name: bytes) -> None:
    assert unsafe_component(name) is not None


@given(
    st.binary(min_size=1).filter(
        lambda b: b not in (b".", b"..") and b"/" not in b and b"\0" not in b
    )
)
def test_other_components_are_safe(name: bytes) -> None:
    assert unsafe_component(name) is None


def test_recordings_by_extension_and_root() -> None:
    assert extension(b"X.Mp4") == "mp4" and extension(b".mp4") == "" and extension(b"mp4") == ""
    assert is_recording(GENERIC, b"deep/down/a.WAV")
    assert not is_recording(GENERIC, b"DEVCLOCK.TXT")
    assert is_recording(DCIM, b"DCIM/100MEDIA/a.mp4")
    assert is_recording(DCIM, b"dcim/100MEDIA/a.mp4")
    assert not is_recording(DCIM, b"MISC/a.mp4")
    assert not is_recording(DCIM, b"DCIMX/a.mp4")


# recording times ----------------------------------------------------------

MTIME = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_name_time_wins_and_duration_gives_end() -> None:
    start = datetime(2026, 11, 22, 8, 15, tzinfo=SHANGHAI)
    times = recording_times(NameInfo(None, None, start, None, False), MTIME, 90.0, MTIME)
    assert (times.start, times.end, times.source) == (start, start + timedelta(seconds=90), "name")


def test_container_time_when_name_says_nothing() -> None:
    created = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    times = recording_times(None, created, 30.0, MTIME)
    assert (times.start, times.end, times.source) == (
        created,
        created + timedelta(seconds=30),
        "container",
    )


def test_file_time_is_the_end_of_the_recording() -> None:
    times = recording_times(None, None, 60.0, MTIME)
    assert (times.start, times.end, times.source) == (
        MTIME - timedelta(seconds=60),
        MTIME,
        "file-mtime",
    )


# custody chain ------------------------------------------------------------


def _chain(n: int) -> list[CustodyEvent]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        details = {"n": seq, "path": f"é{seq}"}
        digest = event_hash(
            prev, seq, f"2026-11-23T00:00:0{seq % 10}+00:00", "k", "s", "dockd", details
        )
        events.append(
            CustodyEvent(
                seq, f"2026-11-23T00:00:0{seq % 10}+00:00", "k", "s", "dockd", details, prev, digest
            )
        )
        prev = digest
    return events


def test_intact_chain() -> None:
    assert first_break(_chain(5)) is None


@given(st.integers(0, 4), st.sampled_from(["at", "kind", "subject", "actor", "details"]))
def test_any_edit_breaks_the_chain(index: int, field: str) -> None:
    events = _chain(5)
    changed: Any = {"details": {"n": -1}}.get(field, "tampered")
    events[index] = dataclasses.replace(events[index], **{field: changed})
    broken = first_break(events)
    assert broken is not None and broken[0] == index + 1


@given(st.integers(0, 3))
def test_removed_event_breaks_the_chain(index: int) -> None:
    events = _chain(5)
    del events[index]
    assert first_break(events) is not None
