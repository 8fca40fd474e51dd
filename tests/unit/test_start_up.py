"""Start-up runs without cyclic garbage collection, and collection is back before any
evidence is copied (issue 17: the collector walked start-up's objects some 200 times)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dockd.app import start_up
from dockd.services import heap


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """start_up freezes what was built; the test process thaws it again."""
    yield
    gc.unfreeze()
    gc.enable()


def test_no_collection_while_parts_are_built_and_collection_after() -> None:
    frozen = gc.get_freeze_count()
    with start_up():
        assert not gc.isenabled()
        with start_up():  # a part another part needs
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner part must not resume collection"
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen, "start-up's objects are set aside"
    with heap.FrozenHeap().during_copy():
        assert gc.get_freeze_count() > frozen
    assert gc.get_freeze_count() > frozen, "a copy does not lift start-up's freeze"


def test_collection_resumes_when_building_fails() -> None:
    with pytest.raises(RuntimeError), start_up():
        raise RuntimeError("no ledger")
    assert gc.isenabled()
