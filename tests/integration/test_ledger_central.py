"""The ledger's side of forwarding (`LedgerCentral`) against real ledgers (SQLite, and
PostgreSQL as stations share it) holding two stations: what a station counts as its own
interrupted free, and the facts its intent to free checks again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dockd.adapters.ledger.backlog import LedgerBacklog
from dockd.adapters.ledger.central import LOCK_FAILED, LedgerCentral
from dockd.adapters.ledger.schema import (
    CustodyEventRow,
    DockSessionRow,
    HoldRow,
    ObjectLocationRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.backlog import backlog
from dockd.core.forwarding import CentralHead
from tests.support.postgres import running_postgres

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
X = "ab" * 32


def station(url: str, name: str) -> LedgerCentral:
    return LedgerCentral(Ledger(url, station=name), "agency/", 6)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        with running_postgres(tmp_path / "pg") as url:
            yield url


def shared(url: str) -> str:
    """One object, X, held by stations A and B (the same bytes docked at both)."""
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
        s.add(RecorderRow(id=1, serial="SN1", profile="generic", first_seen=NOW, last_seen=NOW))
        s.flush()
        s.add(
            DockSessionRow(
                id="s1",
                recorder_id=1,
                serial="SN1",
                profile="generic",
                source="/",
                station="A",
                host="dock-a",
                pid=1,
                boot_id="b",
                started_at=NOW,
                state="done",
            )
        )
        s.flush()
        s.add(
            RecordingRow(
                id=1,
                session_id="s1",
                recorder_id=1,
                serial="SN1",
                path="/DCIM/1.MP4",
                path_raw=b"/DCIM/1.MP4",
                size=5,
                mtime_ns=0,
                start=NOW,
                end=NOW,
                time_source="mtime",
                important=False,
                blake3=X,
                sha256="cd" * 32,
                object_key=f"objects/blake3/ab/{X}",
                protections="",
                verified_at=NOW,
                verify_method="read-back",
                retain_until=NOW + timedelta(days=90),
            )
        )
    return url


def test_another_stations_intent_is_not_this_stations_free(ledger_url: str) -> None:
    url = shared(ledger_url)
    a, b = station(url, "A"), station(url, "B")
    [item] = a.outgoing()
    a.record_freeing(item, NOW + timedelta(days=1))
    assert a.freeing_started() == {X}
    assert b.freeing_started() == set()


def test_an_old_intent_does_not_count_for_a_copy_held_again_since(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = station(url, "A")
    [item] = a.outgoing()
    a.record_freeing(item, NOW + timedelta(days=1))
    with a.ledger.transaction() as s:
        location = s.get_one(ObjectLocationRow, (X, "A"))
        location.since = NOW + timedelta(days=2)  # freed, then docked again
    assert a.freeing_started() == set()


def test_a_hold_placed_after_the_read_refuses_the_intent(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = station(url, "A")
    [item] = a.outgoing()
    assert not item.lock.legal_hold
    with a.ledger.transaction() as s:
        s.add(
            HoldRow(recording_id=1, kind="case", reference="C-1", placed_at=NOW, placed_by="desk")
        )
    assert a.record_freeing(item, NOW + timedelta(days=1)) is False
    assert a.freeing_started() == set()
    [fresh] = a.outgoing()
    assert fresh.lock.legal_hold and a.record_freeing(fresh, NOW + timedelta(days=1))
    assert a.freeing_started() == {X}


def test_a_retention_grown_after_the_read_refuses_the_intent(ledger_url: str) -> None:
    url = shared(ledger_url)
    a = station(url, "A")
    [item] = a.outgoing()
    with a.ledger.transaction() as s:
        s.get_one(RecordingRow, 1).retain_until = NOW + timedelta(days=900)
    assert a.record_freeing(item, NOW + timedelta(days=1)) is False
    assert a.freeing_started() == set()


def test_a_failed_lock_update_stays_confirmed_on_the_chain_and_in_the_backlog(
    ledger_url: str,
) -> None:
    url = shared(ledger_url)
    a = station(url, "A")
    [item] = a.outgoing()
    head = CentralHead(
        item.key, "v1", 5, "c2hh", "FULL_OBJECT", "COMPLIANCE", item.lock.retain_until, False
    )
    a.record_confirmed(item, head, 0, False, NOW)
    [item] = a.outgoing()
    for _ in range(2):
        a.record_lock_failed(item, "CENTRAL_FAILED", "AccessDenied", NOW)
    [item] = a.outgoing()
    assert item.copy is not None
    assert (item.copy.state, item.copy.error_code) == ("confirmed", "CENTRAL_FAILED")
    assert backlog(LedgerBacklog(a.ledger).held(), NOW).lock_failed == 1
    assert len(events(a.ledger, LOCK_FAILED)) == 1
    a.record_lock(item, head, NOW)
    [item] = a.outgoing()
    assert item.copy is not None and item.copy.error_code is None


def events(ledger: Ledger, kind: str) -> list[str]:
    return ledger.read(
        lambda s: list(
            s.scalars(select(CustodyEventRow.subject).where(CustodyEventRow.kind == kind))
        )
    )
