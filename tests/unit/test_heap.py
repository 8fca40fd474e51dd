"""One freeze for start-up and copies (issue 17): a copy's thaw does not lose start-up's
freeze for good; it comes back with the next full collection, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dockd.services import heap


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    yield
    heap._state.update(start_up_frozen=False, refreeze=False)
    gc.unfreeze()


def test_start_ups_freeze_returns_after_a_copy_with_the_next_full_collection() -> None:
    heap.freeze_start_up()
    assert gc.get_freeze_count() > 0
    heap.freeze()
    heap.thaw()
    assert gc.get_freeze_count() == 0, "the copy's end makes everything collectable"
    gc.collect(1)
    assert gc.get_freeze_count() == 0, "a young collection does not re-freeze"
    gc.collect()
    assert gc.get_freeze_count() > 0, "the first full collection re-freezes its survivors"


def test_without_start_up_a_thaw_stays_thawed() -> None:
    heap.freeze()
    heap.thaw()
    gc.collect()
    assert gc.get_freeze_count() == 0


def test_a_copy_that_starts_before_the_refreeze_keeps_its_own_freeze_to_thaw() -> None:
    heap.freeze_start_up()
    heap.freeze()
    heap.thaw()
    heap.freeze()  # the next copy, before any full collection
    gc.collect()
    frozen = gc.get_freeze_count()
    heap.thaw()
    assert frozen > 0
    assert gc.get_freeze_count() == 0
