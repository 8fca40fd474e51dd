"""On PostgreSQL, a free's final transaction and hold placement serialise on the object's
row: hold placement waits for a free holding the row, and a free's final check waits for
a hold in flight and then sees it. (SQLite's writers are serial by BEGIN IMMEDIATE.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from dockd.adapters.ledger.holds import LedgerHolds
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.forwarding import CentralHead, Outgoing
from tests.integration.test_ledger_central import NOW, X, shared, station
from tests.support.postgres import running_postgres


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with running_postgres(tmp_path / "pg") as url:
        yield shared(url)


def confirmed(url: str) -> Outgoing:
    """X confirmed centrally, with its free's intent on station A's chain."""
    a = station(url, "A")
    [item] = a.outgoing()
    head = CentralHead(
        item.key, "v1", 5, "c2hh", "FULL_OBJECT", "COMPLIANCE", item.lock.retain_until, False
    )
    a.record_confirmed(item, head, 0, False, NOW)
    [item] = a.outgoing()
    assert a.record_freeing(item, NOW + timedelta(days=1))
    return item


def waiting_on_a_lock(probe: Connection) -> bool:
    waits = probe.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    ).scalar_one()
    return bool(waits)


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_hold_placement_waits_for_a_free_holding_the_objects_row(url: str) -> None:
    confirmed(url)
    engine = create_engine(url)
    holds = LedgerHolds(Ledger(url, station="B"))
    try:
        with engine.connect() as free, engine.connect() as probe:
            free.execute(text("SELECT blake3 FROM objects WHERE blake3 = :x FOR UPDATE"), {"x": X})
            placing, done = in_thread(lambda: holds.add(1, "case", "C-9", NOW, "desk"))
            assert until(lambda: waiting_on_a_lock(probe)), "hold placement took no row lock"
            assert placing.is_alive() and done == []
            free.commit()
            placing.join(30)
            assert len(done) == 1  # placed once the free's transaction ended
    finally:
        engine.dispose()
        holds.ledger.close()


def test_a_frees_final_check_waits_for_a_hold_in_flight_and_sees_it(url: str) -> None:
    item = confirmed(url)
    a = station(url, "A")
    engine = create_engine(url)
    try:
        with engine.connect() as hold, engine.connect() as probe:
            # a hold placement between its row lock and its commit
            hold.execute(text("SELECT blake3 FROM objects WHERE blake3 = :x FOR UPDATE"), {"x": X})
            hold.execute(
                text(
                    "INSERT INTO holds (recording_id, kind, reference, placed_at, placed_by)"
                    " VALUES (1, 'case', 'C-10', :at, 'desk')"
                ),
                {"at": NOW},
            )
            final, said = in_thread(lambda: a.mark_freed(item, NOW + timedelta(days=1)))
            assert until(lambda: waiting_on_a_lock(probe)), "the final check took no row lock"
            assert final.is_alive() and said == []
            hold.commit()
            final.join(30)
            assert said == ["hold-placed"]
        assert [i.local for i in a.outgoing()] == [True]  # its location is not removed
    finally:
        engine.dispose()
        a.ledger.close()
