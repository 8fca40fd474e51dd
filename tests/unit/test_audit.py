"""The pure audit: replaying row facts off the chain, naming every difference from the
rows, manifests against their rows, and expiry candidates against their own events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.audit import (
    RowDifference,
    compare,
    confirm,
    manifest_differences,
    replay,
)
from dockd.core.custody import GENESIS, CustodyEvent, event_hash
from dockd.core.retention import StoredCopy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TABLES = ("recordings", "holds")


def chain(
    *details: dict[str, Any], kind: str = "recording-verified", subject: str = "1"
) -> list[CustodyEvent]:
    out: list[CustodyEvent] = []
    prev = GENESIS
    for seq, d in enumerate(details, start=1):
        at = NOW.isoformat()
        digest = event_hash(prev, seq, at, kind, subject, "dockd", d)
        out.append(CustodyEvent(seq, at, kind, subject, "dockd", d, prev, digest))
        prev = digest
    return out


def rows(*facts: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {"rows": [{"table": t, "id": i, "row": r} for t, i, r in facts]}


REC: dict[str, Any] = {
    "id": 1,
    "blake3": "b" * 64,
    "object_key": "objects/b",
    "retain_until": None,
    "size": 5,
}


def test_the_last_fact_about_a_row_wins_and_events_without_rows_are_skipped() -> None:
    events = chain(
        rows(("recordings", "1", REC)),
        {"checkpoint": 7},  # a kind the replay does not know
        rows(("recordings", "1", {**REC, "size": 6}), ("holds", "3", {"id": 3})),
    )
    assert replay(events) == {
        ("recordings", "1"): {**REC, "size": 6},
        ("holds", "3"): {"id": 3},
    }


def test_an_edited_a_deleted_and_an_inserted_row_are_each_named() -> None:
    state = {("recordings", "1"): REC, ("recordings", "2"): {**REC, "id": 2}}
    found: dict[tuple[str, str], dict[str, Any]] = {
        ("recordings", "1"): {**REC, "size": 9},
        ("holds", "4"): {"id": 4},
        ("sessions_not_audited", "x"): {"id": "x"},
    }
    assert compare(state, found, TABLES) == [
        RowDifference(
            table="holds", id="4", problem="inserted", field=None, vouched=None, row={"id": 4}
        ),
        RowDifference(table="recordings", id="1", problem="edited", field="size", vouched=5, row=9),
        RowDifference(
            table="recordings",
            id="2",
            problem="missing",
            field=None,
            vouched=state[("recordings", "2")],
            row=None,
        ),
    ]


def test_a_column_the_fact_lacks_must_be_null_and_types_are_strict() -> None:
    state = {("recordings", "1"): {"id": 1, "late": False}}
    assert (
        compare(state, {("recordings", "1"): {"id": 1, "late": False, "new": None}}, TABLES) == []
    )
    [added] = compare(state, {("recordings", "1"): {"id": 1, "late": False, "new": "x"}}, TABLES)
    assert (added.field, added.vouched, added.row) == ("new", None, "x")
    [typed] = compare(state, {("recordings", "1"): {"id": 1, "late": 0}}, TABLES)
    assert typed.field == "late"


values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
row_values = st.dictionaries(st.sampled_from(["a", "b", "c"]), values, min_size=1, max_size=3)
states = st.dictionaries(
    st.tuples(st.sampled_from(TABLES), st.integers(0, 20).map(str)), row_values, min_size=1
)


@given(states, st.data())
def test_any_one_edit_deletion_or_insertion_is_named_and_nothing_else(
    state: dict[tuple[str, str], dict[str, Any]], data: st.DataObject
) -> None:
    assert compare(state, state, TABLES) == []
    key = data.draw(st.sampled_from(sorted(state)))
    found = dict(state)
    change = data.draw(st.sampled_from(["edit", "delete", "insert"]))
    if change == "edit":
        name = data.draw(st.sampled_from(sorted(state[key])))
        found[key] = {**state[key], name: ["not", "a", "column value"]}
        expected: set[tuple[str, str, str, str | None]] = {(key[0], key[1], "edited", name)}
    elif change == "delete":
        del found[key]
        expected = {(key[0], key[1], "missing", None)}
    else:
        key = ("holds", "999")
        found[key] = {"a": 1}
        expected = {("holds", "999", "inserted", None)}
    named = {(d.table, d.id, d.problem, d.field) for d in compare(state, found, TABLES)}
    assert named == expected


SESSION = {
    "id": "s1",
    "state": "completed",
    "started_at": "2026-06-01T10:00:00+00:00",
    "finished_at": "2026-06-01T10:05:00+00:00",
    "serial": "SN1",
    "profile": "generic",
    "slot": None,
    "source": "/media/x",
    "manifest_blake3": "m" * 64,
}
ROW: dict[str, Any] = {
    "id": 7,
    "path": "a.mp4",
    "path_raw": b"a.mp4".hex(),
    "size": 10,
    "mtime_ns": 123,
    "start": "2026-06-01T09:00:00+00:00",
    "end": "2026-06-01T09:01:00+00:00",
    "corrected_start": None,
    "corrected_end": None,
    "duration_s": 60.0,
    "time_source": "container",
    "badge": None,
    "sequence": None,
    "important": False,
    "blake3": "b" * 64,
    "sha256": "c" * 64,
    "object_key": "objects/b",
    "verified_at": "2026-06-01T10:01:00+00:00",
}


def manifest(**changes: Any) -> dict[str, Any]:
    entry = {
        **{k: ROW[k] for k in ROW if k not in ("id", "path_raw", "object_key")},
        "object": ROW["object_key"],
        "path_raw_hex": None,
        "status": "copied",
        # the manifest writes times with 'Z' or another offset: the same instant agrees
        "start": "2026-06-01T11:00:00+02:00",
    }
    return {
        "session": "s1",
        "state": "completed",
        "started_at": SESSION["started_at"],
        "finished_at": SESSION["finished_at"],
        "recorder": {"serial": "SN1", "profile": "generic", "slot": None, "source": "/media/x"},
        "recordings": [{**entry, **changes}],
    }


def test_a_manifest_that_matches_its_rows_has_no_difference() -> None:
    assert manifest_differences(SESSION, manifest(), [ROW], {}) == []


def test_a_manifest_names_the_entry_and_field_that_disagree() -> None:
    [edited] = manifest_differences(SESSION, manifest(size=11), [ROW], {})
    assert (edited.table, edited.id, edited.field, edited.vouched, edited.row, edited.by) == (
        "manifests",
        "s1",
        "recordings[a.mp4].size",
        11,
        10,
        "manifest",
    )
    [deleted] = manifest_differences(SESSION, manifest(), [], {})
    assert (deleted.problem, deleted.field) == ("missing", "recordings[a.mp4]")
    [gone] = manifest_differences(SESSION, None, [ROW], {})
    assert gone.problem == "missing"
    prior = manifest(status="already-verified")
    assert manifest_differences(SESSION, prior, [], {ROW["blake3"]: ROW["sha256"]}) == []
    [swapped] = manifest_differences(SESSION, prior, [], {ROW["blake3"]: "d" * 64})
    assert swapped.field == "recordings[a.mp4].sha256"


PAST = NOW - timedelta(days=1)


def vouched(until: datetime | None, holds: int = 0) -> list[CustodyEvent]:
    rec = {**REC, "retain_until": until.isoformat() if until else None, "expired_at": None}
    hold = [
        ("holds", str(n), {"id": n, "recording_id": 1, "released_at": None}) for n in range(holds)
    ]
    return chain(rows(("recordings", "1", rec), *hold))


def candidate(until: datetime | None, holds: int = 0) -> StoredCopy:
    return StoredCopy(1, "b" * 64, "objects/b", until, holds)


def test_a_candidate_its_chain_vouches_for_is_kept_as_it_is() -> None:
    assert confirm([candidate(PAST)], vouched(PAST)) == ([candidate(PAST)], [])


def test_a_retain_until_moved_into_the_past_loses_its_date_and_is_named() -> None:
    kept, [moved] = confirm([candidate(PAST)], vouched(NOW + timedelta(days=3650)))
    assert kept == [candidate(None)]
    assert (moved.table, moved.id, moved.field) == ("recordings", "1", "retain_until")


def test_a_deleted_hold_row_is_found_from_the_hold_events() -> None:
    kept, [hold] = confirm([candidate(PAST, holds=0)], vouched(PAST, holds=1))
    assert kept == [candidate(None, holds=0)]
    assert (hold.table, hold.field, hold.vouched, hold.row) == ("holds", "active holds", 1, 0)


def test_a_candidate_with_no_event_or_a_forged_event_is_kept() -> None:
    assert confirm([candidate(PAST)], [])[0] == [candidate(None)]
    [event] = vouched(NOW + timedelta(days=1))
    forged = replace(event, details=vouched(PAST)[0].details)  # its hash is the old content's
    kept, problems = confirm([candidate(PAST)], [forged])
    assert kept == [candidate(None)]
    assert problems[0].table == "custody_events"
