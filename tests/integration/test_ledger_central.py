"""The ledger's side of forwarding (`LedgerCentral`) against a real SQLite ledger shared by
two stations: what a station counts as its own interrupted free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dockd.adapters.ledger.central import LedgerCentral
from dockd.adapters.ledger.schema import ObjectLocationRow, ObjectRow
from dockd.adapters.ledger.sessions import Ledger

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
X = "ab" * 32


def station(url: str, name: str) -> LedgerCentral:
    return LedgerCentral(Ledger(url, station=name), "agency/", 6)


def shared(tmp_path: Path) -> str:
    """One object, X, held by stations A and B (the same bytes docked at both)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger(url, station="A").transaction() as s:
        s.add(
            ObjectRow(
                blake3=X,
                sha256="cd" * 32,
                size=5,
                key=f"objects/blake3/ab/{X}",
                kind="recording",
                protections="",
                stored_at=NOW,
            )
        )
        s.flush()
        s.add_all(ObjectLocationRow(blake3=X, station=n, since=NOW) for n in ("A", "B"))
    return url


def test_another_stations_intent_is_not_this_stations_free(tmp_path: Path) -> None:
    url = shared(tmp_path)
    a, b = station(url, "A"), station(url, "B")
    [item] = a.outgoing()
    a.record_freeing(item, NOW + timedelta(days=1))
    assert a.freeing_started() == {X}
    assert b.freeing_started() == set()


def test_an_old_intent_does_not_count_for_a_copy_held_again_since(tmp_path: Path) -> None:
    url = shared(tmp_path)
    a = station(url, "A")
    [item] = a.outgoing()
    a.record_freeing(item, NOW + timedelta(days=1))
    with a.ledger.transaction() as s:
        location = s.get_one(ObjectLocationRow, (X, "A"))
        location.since = NOW + timedelta(days=2)  # freed, then docked again
    assert a.freeing_started() == set()
