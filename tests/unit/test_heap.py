"""The collector's freeze during copies: taken by the first copy, lifted by the last, and
never a freeze it did not take (start-up's)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dockd.services.heap import FrozenHeap


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """Each test starts from a heap nobody froze: a test that built the app in this
    process (start-up's freeze, `dockd.services.heap.freeze_start_up`) leaves it frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_copies_side_by_side_share_one_freeze_and_the_last_lifts_it() -> None:
    heap = FrozenHeap()
    assert gc.get_freeze_count() == 0
    first, second = heap.during_copy(), heap.during_copy()
    first.__enter__()
    assert gc.get_freeze_count() > 0  # what was alive when the first copy started
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_freeze_count() > 0  # the second copy still runs
    second.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0


def test_a_copy_that_fails_lifts_the_freeze() -> None:
    heap = FrozenHeap()
    try:
        with heap.during_copy():
            assert gc.get_freeze_count() > 0
            raise RuntimeError("the copy failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_a_freeze_taken_before_the_copy_is_kept_after_it() -> None:
    """start-up's freeze in the daemon outlives every copy; the copy adds nothing to it."""
    heap = FrozenHeap()
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before > 0
        with heap.during_copy(), heap.during_copy():
            assert gc.get_freeze_count() == before
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
    with heap.during_copy():  # the next copy on an unfrozen heap takes its own freeze
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
