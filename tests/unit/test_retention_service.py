"""Retention expiry over in-memory fakes: the rule decides, the intent comes first, and
an expiry interrupted at either step is finished by the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dockd.core.retention import StoredCopy
from dockd.services.retention import Retention
from tests.fakes.retention import FakeRetentionRecords, FakeStore, StoreCrashed

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(days=1), NOW + timedelta(days=1)


def copy(recording: int, obj: str, until: datetime | None, holds: int = 0) -> StoredCopy:
    return StoredCopy(recording, obj, f"objects/{obj}", until, holds)


def service(*copies: StoredCopy) -> tuple[Retention, FakeRetentionRecords, FakeStore]:
    records = FakeRetentionRecords(list(copies))
    store = FakeStore({c.key for c in copies})
    return Retention(records, store, lambda: NOW), records, store


def test_only_objects_every_recording_of_which_may_go_are_removed() -> None:
    retention, records, store = service(
        copy(1, "gone", PAST),
        copy(2, "held", PAST, holds=1),
        copy(3, "shared", PAST),
        copy(4, "shared", FUTURE),
        copy(5, "undated", None),
        copy(6, "twin", PAST),
        copy(7, "twin", PAST - timedelta(days=3)),
    )
    done = retention.expire("admin")
    assert [e.item.key for e in done] == ["objects/gone", "objects/twin"]
    assert store.objects == {"objects/held", "objects/shared", "objects/undated"}
    assert records.events == [
        ("intent", "objects/gone", "admin"),
        ("expired", "objects/gone", "admin"),
        ("intent", "objects/twin", "admin"),
        ("expired", "objects/twin", "admin"),
    ]


def test_a_crash_before_the_deletion_leaves_the_intent_and_the_next_run_finishes() -> None:
    retention, records, store = service(copy(1, "gone", PAST))
    store.crash_before = True
    with pytest.raises(StoreCrashed):
        retention.expire("admin")
    assert records.events == [("intent", "objects/gone", "admin")]
    assert store.objects == {"objects/gone"}

    store.crash_before = False
    (again,) = retention.expire("admin2")
    assert again.finished
    assert store.objects == set()
    assert records.events[1:] == [("expired", "objects/gone", "admin2")], "no second intent"


def test_a_crash_after_the_deletion_is_marked_by_the_next_run() -> None:
    retention, records, store = service(copy(1, "gone", PAST))
    store.crash_after = True
    with pytest.raises(StoreCrashed):
        retention.expire("admin")
    assert store.objects == set() and records.events == [("intent", "objects/gone", "admin")]

    store.crash_after = False
    (again,) = retention.expire("admin")
    assert again.finished and records.events[-1] == ("expired", "objects/gone", "admin")


def test_a_started_expiry_waits_while_a_hold_placed_after_its_intent_lasts() -> None:
    """A held object that is still there is never deleted, intent or not."""
    retention, records, store = service(copy(1, "gone", PAST))
    store.crash_before = True
    with pytest.raises(StoreCrashed):
        retention.expire("admin")
    records.hold(1)
    store.crash_before = False
    assert retention.expire("admin") == []
    assert store.objects == {"objects/gone"}
    assert records.events == [("intent", "objects/gone", "admin")]


def test_due_lists_without_touching_anything() -> None:
    retention, records, store = service(copy(1, "gone", PAST), copy(2, "kept", FUTURE))
    assert [e.item.key for e in retention.due(NOW)] == ["objects/gone"]
    assert records.events == [] and store.objects == {"objects/gone", "objects/kept"}
