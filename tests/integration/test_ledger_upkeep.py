"""The ledger's reads for lock upkeep across stations (`dockd.adapters.ledger.upkeep`)
against real ledgers (SQLite, and PostgreSQL as stations share it): station A sent X and
confirmed its lock; station C never held it, and sees X only once its lock lags, with when
the lag began, for each thing that can make it lag."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from dockd.adapters.ledger.central import TAKEN_OVER, LedgerCentral
from dockd.adapters.ledger.schema import CustodyEventRow, HoldRow, RecordingRow
from dockd.core.forwarding import CentralHead, Step, step
from tests.integration.test_ledger_central import NOW, X, ledger_url, shared, station

__all__ = ["ledger_url"]  # the fixture, over SQLite and PostgreSQL

LATER = NOW + timedelta(days=900)


def confirmed_at_a(url: str) -> LedgerCentral:
    a = station(url, "A")
    [item] = a.outgoing()
    head = CentralHead(
        item.key, "v1", 5, "c2hh", "FULL_OBJECT", "COMPLIANCE", item.lock.retain_until, False
    )
    a.record_confirmed(item, head, 0, False, NOW)
    return a


def second_recording(a: LedgerCentral, until: datetime | None, at: datetime) -> None:
    """The same bytes docked again (at B), kept until `until`."""
    with a.ledger.transaction() as s:
        first = s.get_one(RecordingRow, 1)
        s.add(
            RecordingRow(
                **{
                    c.name: getattr(first, c.name)
                    for c in RecordingRow.__table__.columns
                    if c.name not in ("id", "retain_until", "verified_at", "path", "path_raw")
                },
                id=2,
                path="/DCIM/2.MP4",
                path_raw=b"/DCIM/2.MP4",
                retain_until=until,
                verified_at=at,
            )
        )


def test_a_copy_whose_lock_matches_is_no_other_stations_concern(ledger_url: str) -> None:
    url = shared(ledger_url)
    confirmed_at_a(url)
    c = station(url, "C")
    assert (c.outgoing(), c.lock_lags()) == ([], [])


def test_a_later_recording_of_the_same_bytes_lags_from_its_offload(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = confirmed_at_a(url)
    second_recording(a, LATER, NOW + timedelta(hours=2))
    c = station(url, "C")
    [item] = c.outgoing()
    assert (item.blake3, item.sender, item.local) == (X, "A", False)
    assert step(item) is Step.UPDATE_LOCK and item.lock.retain_until == LATER
    assert item.lag_since == NOW + timedelta(hours=2)
    assert c.lock_lags() == [NOW + timedelta(hours=2)]
    assert a.lock_lags() == [NOW + timedelta(hours=2)]  # every station counts it
    head = CentralHead(item.key, "v1", 5, "c2hh", "FULL_OBJECT", "COMPLIANCE", LATER, False)
    c.record_lock(item, head, NOW + timedelta(hours=3))
    assert (c.outgoing(), c.lock_lags()) == ([], [])
    kinds = c.ledger.read(
        lambda s: [
            (e.station, e.kind)
            for e in s.scalars(select(CustodyEventRow).where(CustodyEventRow.subject == X))
        ]
    )
    assert ("C", TAKEN_OVER) in kinds and ("C", "central-lock-updated") in kinds


def test_an_undated_recording_lags_as_the_packs_routine_period(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = confirmed_at_a(url)
    second_recording(a, None, NOW + timedelta(hours=1))
    [item] = station(url, "C").outgoing()
    assert item.lock.retain_until > NOW + timedelta(days=90)  # 6 routine months
    assert item.lag_since == NOW + timedelta(hours=1)


def test_a_hold_and_its_release_lag_from_when_each_was_made(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = confirmed_at_a(url)
    placed = NOW + timedelta(hours=5)
    with a.ledger.transaction() as s:
        s.add(
            HoldRow(recording_id=1, kind="case", reference="C-1", placed_at=placed, placed_by="d")
        )
    c = station(url, "C")
    [item] = c.outgoing()
    assert (item.lock.legal_hold, item.lag_since) == (True, placed)
    head = CentralHead(
        item.key, "v1", 5, "c2hh", "FULL_OBJECT", "COMPLIANCE", item.lock.retain_until, True
    )
    c.record_lock(item, head, placed + timedelta(hours=1))
    assert c.lock_lags() == []
    released = placed + timedelta(days=2)
    with a.ledger.transaction() as s:
        s.get_one(HoldRow, 1).released_at = released
    [item] = c.outgoing()
    assert (item.lock.legal_hold, item.lag_since) == (False, released)
