"""The manifest's bytes: canonical, whatever the recorder named its files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dockd.core.custody import canonical_json
from dockd.core.manifest import manifest_bytes
from dockd.core.views import (
    Manifest,
    ManifestRecorder,
    ManifestRecording,
    ManifestStation,
    ProblemView,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
names = st.text(min_size=1, max_size=40)  # quotes, backslashes, control and CJK characters


def recording(path: str, seq: int) -> ManifestRecording:
    return ManifestRecording(
        path=path,
        path_raw_hex=None,
        size=seq,
        mtime_ns=seq,
        start=T0 + timedelta(minutes=seq),
        end=T0 + timedelta(minutes=seq + 1),
        corrected_start=None,
        corrected_end=None,
        duration_s=60.0,
        time_source="name",
        badge="007",
        sequence=seq,
        important=seq % 2 == 0,
        blake3=f"{seq:064x}",
        sha256=f"{seq + 1:064x}",
        object=f"objects/blake3/00/{seq:064x}",
        status="copied",
        verified_at=T0 + timedelta(hours=1),
    )


def manifest(paths: list[str], problems: list[str]) -> Manifest:
    return Manifest(
        session="5d1c0a7e-0000-4000-8000-000000000001",
        state="completed",
        started_at=T0,
        finished_at=T0 + timedelta(hours=1),
        station=ManifestStation(host="dock-1", dockd_version="0.1.0"),
        recorder=ManifestRecorder(serial="SN1", profile="generic", slot=None, source="/mnt/SN1"),
        station_clock=None,
        recorder_clock=None,
        recordings=[recording(p, i) for i, p in enumerate(paths)],
        not_copied=problems,
        problems=[ProblemView(path=p, code="unsafe-name", message=p) for p in problems],
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(names, max_size=12), st.lists(names, max_size=4))
def test_the_bytes_read_back_as_the_same_manifest(paths: list[str], problems: list[str]) -> None:
    """Whatever the names hold (quotes, backslashes, control or CJK characters), a court's
    JSON parser gets back exactly what dockd recorded."""
    document = manifest(paths, problems)
    data = manifest_bytes(document)
    assert Manifest.model_validate(json.loads(data)) == document
    assert data == canonical_json(json.loads(data)), "not canonical: sorted keys, no spaces"


@settings(max_examples=50, deadline=None)
@given(st.lists(names, max_size=12), st.lists(names, max_size=4))
def test_the_recordings_spliced_in_give_the_bytes_of_the_whole_document(
    paths: list[str], problems: list[str]
) -> None:
    """The manifest's hash is its contract: encoding it in parts changes no byte."""
    document = manifest(paths, problems)
    assert manifest_bytes(document) == canonical_json(document.model_dump(mode="json"))


def test_a_name_holding_the_place_holder_changes_no_byte() -> None:
    document = manifest(["a.MP4", "\0recordings\0"], ["\0recordings\0"])
    assert manifest_bytes(document) == canonical_json(document.model_dump(mode="json"))


def test_it_reads_back_as_the_manifest() -> None:
    document = manifest(['a"b\\c', "录像_001.MP4", "\x01"], ["../escape"])
    assert Manifest.model_validate(json.loads(manifest_bytes(document))) == document
