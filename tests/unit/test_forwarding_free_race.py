"""Freeing a local copy over fakes: nothing is deleted before the ledger's final check,
a hold placed at the instant the copy is set aside wins, and each crash between the steps
is settled by the next pass (deleted when the ledger recorded the free, else put back)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from dockd.core.forwarding import Outgoing
from dockd.errors import CentralError, LedgerError
from tests.fakes.central import FakeObject, StoreCrashed
from tests.unit.test_forwarding_service import Rig, obj


def kinds(rig: Rig, o: FakeObject) -> list[str]:
    return [k for k, b in rig.records.events if b == o.blake3]


def published(rig: Rig, o: FakeObject) -> bool:
    return rig.store.path_of(o.key).exists()


def aside(rig: Rig, o: FakeObject) -> bool:
    return rig.store.aside_path(o.key).exists()


def test_a_hold_placed_as_the_copy_is_set_aside_keeps_it(tmp_path: Path) -> None:
    a = obj(b"held at the last instant")
    rig = Rig(tmp_path, a, days=0)

    def place_hold(key: str) -> None:
        a.holds = 1

    rig.store.on_set_aside = place_hold
    summary = rig.forwarder.run_pass()
    assert (summary.sent, summary.freed) == (1, 0)
    assert published(rig, a) and not aside(rig, a)
    assert a.blake3 not in rig.records.freed
    assert kinds(rig, a) == ["central-confirmed", "local-copy-freeing", "local-copy-free-abandoned"]
    rig.store.on_set_aside = lambda key: None
    # the next pass puts the central legal hold on, and only then may the copy go
    again = rig.forwarder.run_pass()
    assert (again.lock_updated, again.freed) == (1, 1)
    assert rig.bucket.objects[rig.key(a)].legal_hold is True
    assert not published(rig, a) and not aside(rig, a)


def test_a_crash_after_setting_aside_is_put_back_then_finished(tmp_path: Path) -> None:
    a = obj(b"crash with the copy set aside")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_after_set_aside = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    assert aside(rig, a) and not published(rig, a) and a.blake3 not in rig.records.freed
    rig.store.crash_after_set_aside = False
    summary = rig.forwarder.run_pass()
    assert summary.freed == 1 and a.blake3 in rig.records.freed
    assert not published(rig, a) and not aside(rig, a)
    assert kinds(rig, a) == ["central-confirmed", "local-copy-freeing", "local-copy-freed"]


def test_a_hold_placed_while_the_copy_lay_aside_after_a_crash_keeps_it(tmp_path: Path) -> None:
    a = obj(b"crash, then a hold")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_after_set_aside = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    rig.store.crash_after_set_aside = False
    a.holds = 1
    rig.bucket.set_legal_hold = _refuse  # type: ignore[method-assign]  # the hold lags
    summary = rig.forwarder.run_pass()
    assert summary.freed == 0
    assert published(rig, a) and not aside(rig, a) and a.blake3 not in rig.records.freed


def _refuse(key: str, version_id: str, on: bool) -> None:
    raise CentralError("AccessDenied")


def test_a_crash_after_the_free_was_recorded_deletes_the_set_aside_copy(tmp_path: Path) -> None:
    a = obj(b"crash before the deletion")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_on_delete = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    assert a.blake3 in rig.records.freed and aside(rig, a) and not published(rig, a)
    rig.store.crash_on_delete = False
    summary = rig.forwarder.run_pass()
    assert summary.freed == 0  # nothing new freed: the recorded one is only finished
    assert not aside(rig, a) and not published(rig, a)
    assert kinds(rig, a).count("local-copy-freed") == 1


class RefusingRecords:
    """The ledger refusing the final transaction (a lost connection, a full disk)."""

    @staticmethod
    def mark_freed(item: Outgoing, at: datetime) -> str | None:
        raise LedgerError("ledger write failed at mark_freed: connection lost")


def test_a_ledger_refusing_the_final_transaction_puts_the_copy_back(tmp_path: Path) -> None:
    a = obj(b"the ledger fails at the end")
    rig = Rig(tmp_path, a, days=0)
    rig.records.mark_freed = RefusingRecords.mark_freed  # type: ignore[method-assign]
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"LEDGER_FAILED": 1} and summary.freed == 0
    assert published(rig, a) and not aside(rig, a)


def test_a_final_transaction_that_committed_before_failing_is_settled_as_freed(
    tmp_path: Path,
) -> None:
    a = obj(b"the commit reached the disk, the answer did not")
    rig = Rig(tmp_path, a, days=0)
    record = rig.records.mark_freed

    def committed_then_failed(item: Outgoing, at: datetime) -> str | None:
        record(item, at)
        raise LedgerError("ledger write failed at mark_freed: connection lost")

    rig.records.mark_freed = committed_then_failed  # type: ignore[method-assign]
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"LEDGER_FAILED": 1}
    assert a.blake3 in rig.records.freed  # the ledger says freed: the copy is not put back
    assert not published(rig, a) and not aside(rig, a)
