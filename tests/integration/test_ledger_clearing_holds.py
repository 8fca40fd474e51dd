"""A hold and a clearing's deletion intent on real ledgers (SQLite, and PostgreSQL where
READ COMMITTED would let each miss the other): the intent waits for a hold being placed
and then sees it; a hold placed first refuses every later intent."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from dockd.adapters.ledger.clearing import LedgerClearing
from dockd.adapters.ledger.holds import LedgerHolds
from dockd.adapters.ledger.schema import CustodyEventRow
from dockd.adapters.ledger.sessions import Ledger
from tests.integration.test_ledger_central import NOW, X, ledger_url, shared

__all__ = ["ledger_url"]  # the fixture, used by name

DETAILS = {"serial": "SN1", "path": "DCIM/1.MP4", "recording": 1}


def _intents(ledger: Ledger) -> int:
    return ledger.read(
        lambda s: s.query(CustodyEventRow).filter_by(kind="recorder-file-clearing").count()
    )


def test_no_hold_announces_and_a_hold_refuses(ledger_url: str) -> None:
    ledger = Ledger(shared(ledger_url), station="A")
    clearing = LedgerClearing(ledger)
    assert clearing.announce_clearing(NOW, "s2", "SN1", X, DETAILS) == 0
    LedgerHolds(ledger).add(1, "case", "2026-001", NOW + timedelta(minutes=1), "supervisor")
    assert clearing.announce_clearing(NOW + timedelta(minutes=2), "s2", "SN1", X, DETAILS) == 1
    assert _intents(ledger) == 1
    ledger.close()


def test_an_intent_waits_for_a_hold_being_placed_and_then_sees_it(ledger_url: str) -> None:
    """The hold's transaction is paused after its row is written and before it commits;
    the intent, asked meanwhile from another connection, must come back with the hold."""
    url = shared(ledger_url)
    placing, clearing_side = Ledger(url, station="A"), Ledger(url, station="A")
    inside, resume = threading.Event(), threading.Event()
    append = placing.append_custody

    def paused(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert resume.wait(30)
        return append(*args, **kwargs)

    placing.append_custody = paused  # type: ignore[method-assign]
    holder = threading.Thread(
        target=LedgerHolds(placing).add, args=(1, "case", "2026-001", NOW, "supervisor")
    )
    holder.start()
    assert inside.wait(30)
    found: list[int] = []
    announcer = threading.Thread(
        target=lambda: found.append(
            LedgerClearing(clearing_side).announce_clearing(NOW, "s2", "SN1", X, DETAILS)
        )
    )
    announcer.start()
    announcer.join(0.5)
    waited = announcer.is_alive()
    resume.set()
    holder.join(30)
    announcer.join(30)
    assert waited, "the intent did not wait for the hold being placed"
    assert found == [1]
    assert _intents(clearing_side) == 0
    placing.close()
    clearing_side.close()
