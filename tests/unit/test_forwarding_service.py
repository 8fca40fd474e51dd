"""The forwarding use case over in-memory fakes: create-only sends, adoption only of the
same bytes, confirmation by HEAD, lock upkeep, and freeing only after the days and holds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dockd.core.forwarding import CentralCopy, CentralHead, Outgoing
from dockd.errors import (
    CentralAuthError,
    CentralError,
    CentralNoObjectLockError,
    CentralUnavailableError,
    CentralUnreachableError,
    LedgerError,
)
from dockd.services.central_verify import CentralVerifier, sample_size
from dockd.services.forward import Forwarder
from tests.fakes.central import (
    FakeBucket,
    FakeCentralRecords,
    FakeLocalStore,
    FakeObject,
    StoreCrashed,
    StoredVersion,
    s3_checksum,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
UNTIL = NOW + timedelta(days=180)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def obj(data: bytes, holds: int = 0) -> FakeObject:
    return FakeObject(hashlib.sha256(data).hexdigest(), data, [UNTIL], holds)


@dataclass
class Custody:
    """The chain events a use case recorded, in order."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        self.events.append((kind, details))


class Rig:
    def __init__(self, tmp: Path, *objects: FakeObject, days: int = 30) -> None:
        self.bucket = FakeBucket()
        self.records = FakeCentralRecords(list(objects), NOW + timedelta(days=365))
        self.store = FakeLocalStore(tmp)
        for o in objects:
            self.store.add(o)
        self.clock = Clock()
        self.forwarder = Forwarder(self.bucket, self.records, self.store, self.clock, days, 2)

    def key(self, o: FakeObject) -> str:
        return f"agency/{o.key}"


def test_a_pass_sends_and_confirms_everything(tmp_path: Path) -> None:
    a, b = obj(b"first recording"), obj(b"second recording")
    rig = Rig(tmp_path, a, b)
    summary = rig.forwarder.run_pass()
    assert (summary.sent, summary.adopted, summary.left, summary.complete) == (2, 0, 0, True)
    assert summary.bytes_sent == len(a.data) + len(b.data)
    assert {c.state for c in rig.records.copies.values()} == {"confirmed"}
    stored = rig.bucket.objects[rig.key(a)]
    assert (stored.data, stored.retain_until, stored.legal_hold) == (a.data, UNTIL, False)
    again = rig.forwarder.run_pass()
    assert (again.sent, again.complete) == (0, True)
    assert sorted(rig.bucket.puts) == sorted([rig.key(a), rig.key(b)])


def test_no_object_lock_refuses_everything(tmp_path: Path) -> None:
    rig = Rig(tmp_path, obj(b"x"))
    rig.bucket.object_lock = False
    with pytest.raises(CentralNoObjectLockError):
        rig.forwarder.run_pass()
    assert rig.bucket.objects == {} and rig.records.copies == {}


def test_an_identical_object_is_adopted_and_its_lock_brought_up(tmp_path: Path) -> None:
    a = obj(b"already there", holds=1)
    rig = Rig(tmp_path, a)
    rig.bucket.objects[rig.key(a)] = StoredVersion(a.data, "old", NOW, False)
    summary = rig.forwarder.run_pass()
    assert (summary.adopted, summary.sent) == (1, 0)
    stored = rig.bucket.objects[rig.key(a)]
    assert (stored.version_id, stored.retain_until, stored.legal_hold) == ("old", UNTIL, True)
    assert rig.records.copies[a.blake3].version_id == "old"


def test_other_bytes_under_the_key_are_a_conflict_never_overwritten(tmp_path: Path) -> None:
    a = obj(b"ours")
    rig = Rig(tmp_path, a)
    rig.bucket.objects[rig.key(a)] = StoredVersion(b"someone else's", "theirs", UNTIL, False)
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"CENTRAL_KEY_CONFLICT": 1} and summary.left == 1
    assert rig.bucket.objects[rig.key(a)].data == b"someone else's"
    assert rig.records.copies[a.blake3].state == "failed"
    rig.forwarder.run_pass()  # the same failure again is not a second custody event
    assert rig.records.events.count(("central-failed", a.blake3)) == 1


def test_a_corrupted_upload_is_refused_and_not_confirmed(tmp_path: Path) -> None:
    a = obj(b"bytes that change on the wire")
    rig = Rig(tmp_path, a)
    rig.bucket.corrupt_on_the_way = True
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"CENTRAL_CHECKSUM_MISMATCH": 1}
    assert rig.records.copies[a.blake3].state == "failed" and rig.bucket.objects == {}
    rig.bucket.corrupt_on_the_way = False
    assert rig.forwarder.run_pass().complete
    assert rig.records.copies[a.blake3].state == "confirmed"


def test_a_head_that_does_not_show_the_lock_is_not_confirmed(tmp_path: Path) -> None:
    a = obj(b"weak lock")
    rig = Rig(tmp_path, a)
    rig.bucket.objects[rig.key(a)] = StoredVersion(a.data, "v0", UNTIL, False, "GOVERNANCE")
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"CENTRAL_NOT_CONFIRMED": 1}
    assert rig.records.copies[a.blake3].state == "failed"


def test_an_unreachable_server_stops_the_pass_and_marks_nothing(tmp_path: Path) -> None:
    objects = [obj(bytes([i]) * 100) for i in range(5)]
    rig = Rig(tmp_path, *objects)
    rig.bucket.fail_next = [CentralUnreachableError("connection refused")] * 5
    summary = rig.forwarder.run_pass()
    assert isinstance(summary.stopped, CentralUnreachableError)
    assert summary.left == 5 and summary.left_bytes == 500 and not summary.complete
    assert rig.records.copies == {} and rig.records.events == []
    rig.bucket.fail_next = []
    assert rig.forwarder.run_pass().confirmed == 5


def test_bad_credentials_stop_the_pass(tmp_path: Path) -> None:
    rig = Rig(tmp_path, obj(b"x"))
    rig.bucket.fail_next = [CentralAuthError("InvalidAccessKeyId")]
    summary = rig.forwarder.run_pass()
    assert isinstance(summary.stopped, CentralAuthError) and summary.stopped.exit_code == 2


def test_unfinished_uploads_are_aborted_once_per_process(tmp_path: Path) -> None:
    big = obj(b"a killed dock was sending this")
    rig = Rig(tmp_path, big)
    rig.bucket.unfinished = {"u1": rig.key(big)}
    rig.records.upload_started(rig.key(big), "u1", NOW)  # before the kill
    assert rig.forwarder.run_pass().aborted_uploads == [rig.key(big)]
    assert rig.records.unfinished_uploads() == []
    rig.bucket.unfinished = {"u2": rig.key(big)}
    rig.records.upload_started(rig.key(big), "u2", NOW)
    assert rig.forwarder.run_pass().aborted_uploads == []
    assert rig.bucket.unfinished == {"u2": rig.key(big)}


def test_another_stations_upload_of_the_same_key_is_left_alone(tmp_path: Path) -> None:
    """Two stations can hold the same bytes, so the same key: only ids recorded here go."""
    mine = obj(b"this station's recording")
    rig = Rig(tmp_path, mine)
    rig.bucket.unfinished = {"ours": rig.key(mine), "theirs": rig.key(mine)}
    rig.records.upload_started(rig.key(mine), "ours", NOW)
    assert rig.forwarder.run_pass().aborted_uploads == [rig.key(mine)]
    assert rig.bucket.unfinished == {"theirs": rig.key(mine)}


def test_a_hold_and_a_longer_retention_reach_the_bucket(tmp_path: Path) -> None:
    a = obj(b"later held")
    rig = Rig(tmp_path, a)
    rig.forwarder.run_pass()
    a.holds = 1
    a.dates = [UNTIL + timedelta(days=365)]
    summary = rig.forwarder.run_pass()
    assert summary.lock_updated == 1
    stored = rig.bucket.objects[rig.key(a)]
    assert (stored.legal_hold, stored.retain_until) == (True, UNTIL + timedelta(days=365))
    copy = rig.records.copies[a.blake3]
    assert (copy.legal_hold, copy.retain_until) == (True, UNTIL + timedelta(days=365))
    a.holds = 0
    assert rig.forwarder.run_pass().lock_updated == 1
    assert rig.bucket.objects[rig.key(a)].legal_hold is False


def test_a_local_copy_is_freed_only_after_the_days(tmp_path: Path) -> None:
    a = obj(b"to be freed")
    rig = Rig(tmp_path, a, days=30)
    rig.forwarder.run_pass()
    rig.clock.now = NOW + timedelta(days=29)
    assert rig.forwarder.run_pass().freed == 0
    assert rig.store.path_of(a.key).exists()
    rig.clock.now = NOW + timedelta(days=30)
    assert rig.forwarder.run_pass().freed == 1
    assert not rig.store.path_of(a.key).exists()
    kinds = [k for k, b in rig.records.events if b == a.blake3]
    assert kinds == ["central-confirmed", "local-copy-freeing", "local-copy-freed"]
    a.holds = 1  # a hold placed after freeing still reaches the bucket
    assert rig.forwarder.run_pass().lock_updated == 1
    assert rig.bucket.objects[rig.key(a)].legal_hold is True


def test_a_held_object_is_freed_only_once_the_central_hold_is_confirmed(tmp_path: Path) -> None:
    a = obj(b"held", holds=1)
    rig = Rig(tmp_path, a, days=0)
    summary = rig.forwarder.run_pass()
    # the put carried the hold, the HEAD confirmed it ON: freeing is allowed
    assert summary.freed == 1 and rig.records.copies[a.blake3].legal_hold is True


def test_a_held_object_without_central_hold_stays(tmp_path: Path) -> None:
    a = obj(b"held after forwarding")
    rig = Rig(tmp_path, a, days=0)
    rig.bucket.set_legal_hold = _refuse  # type: ignore[method-assign]
    rig.clock.now = NOW - timedelta(days=1)
    rig.records.objects = []
    rig.forwarder.run_pass()
    rig.records.objects = [a]
    a.holds = 1
    rig.bucket.objects[rig.key(a)] = StoredVersion(a.data, "v9", UNTIL, False)
    rig.records.copies[a.blake3] = CentralCopy(
        a.blake3, rig.key(a), "confirmed", "v9", s3_checksum(a.data), UNTIL, False, NOW, 1, None
    )
    rig.clock.now = NOW + timedelta(days=1)
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"CENTRAL_FAILED": 1} and summary.freed == 0
    assert rig.store.path_of(a.key).exists()
    assert rig.records.copies[a.blake3].legal_hold is False


def _refuse(key: str, version_id: str, on: bool) -> None:
    raise CentralError("AccessDenied")


def test_a_crash_after_the_intent_is_finished_by_the_next_pass(tmp_path: Path) -> None:
    a = obj(b"crash while freeing")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_on_free = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    assert a.blake3 not in rig.records.freed
    rig.store.crash_on_free = False
    summary = rig.forwarder.run_pass()
    assert summary.freed == 1 and a.blake3 in rig.records.freed
    assert not rig.store.path_of(a.key).exists()


class CountingRecords(FakeCentralRecords):
    """Counts the ledger reads of every object, the one read a pass is allowed."""

    reads: int = 0

    def outgoing(self) -> list[Outgoing]:
        self.reads += 1
        return super().outgoing()


def test_a_pass_reads_the_ledger_once_and_acts_on_what_it_changed(tmp_path: Path) -> None:
    grown, crashed, new, refused = (obj(b"grown"), obj(b"crashed"), obj(b"new"), obj(b"bad"))
    rig = Rig(tmp_path, grown, crashed, days=1)
    records = CountingRecords(rig.records.objects, rig.records.fallback)
    rig.records = records
    rig.forwarder = Forwarder(rig.bucket, records, rig.store, rig.clock, 1, 2)
    rig.forwarder.run_pass()  # both confirmed at NOW, kept for a day
    records.events.append(("local-copy-freeing", crashed.blake3))  # a free cut short
    grown.dates = [UNTIL + timedelta(days=365)]
    rig.bucket.objects[rig.key(refused)] = StoredVersion(b"someone else's", "x", UNTIL, False)
    for o in (new, refused):
        records.objects.append(o)
        rig.store.add(o)
    rig.clock.now = NOW + timedelta(days=1)
    records.reads = 0
    summary = rig.forwarder.run_pass()
    assert records.reads == 1
    # the crashed free finished; the lock grown, then its copy freed; the new object sent
    # but not a day old; the refused one left
    assert (summary.freed, summary.lock_updated, summary.sent) == (2, 1, 1)
    assert (summary.left, summary.left_bytes) == (1, len(refused.data))
    assert records.freed == {grown.blake3, crashed.blake3}
    assert rig.bucket.objects[rig.key(grown)].retain_until == UNTIL + timedelta(days=365)
    assert records.events.count(("local-copy-freed", crashed.blake3)) == 1
    records.reads = 0
    rig.clock.now = NOW + timedelta(days=2)
    again = rig.forwarder.run_pass()
    assert (records.reads, again.freed, again.sent, again.left) == (1, 1, 0, 1)


def test_verify_central_heads_every_copy_and_reads_back_the_sample(tmp_path: Path) -> None:
    a, b, c = obj(b"one"), obj(b"two"), obj(b"three")
    rig = Rig(tmp_path, a, b, c)
    rig.forwarder.run_pass()
    custody = Custody()
    verifier = CentralVerifier(
        rig.bucket, rig.records, rig.clock, custody, lambda items, n: list(items)[:n]
    )
    clean = verifier.verify(1)
    assert (clean.checked, clean.read_back, clean.findings) == (3, 1, [])
    rig.bucket.objects[rig.key(a)].data = b"rot"  # the bytes changed behind the server's back
    rig.bucket.objects[rig.key(b)].legal_hold = True
    report = verifier.verify(100)
    assert report.read_back == 3
    found = {(f.blake3, f.problem) for f in report.findings}
    assert found == {
        (a.blake3, "not-confirmed"),
        (a.blake3, "read-mismatch"),
        (b.blake3, "not-confirmed"),
    }
    # each run on the chain, its findings as the report reads them
    assert [(kind, d["checked"], d["read_back"]) for kind, d in custody.events] == [
        ("central-verified", 3, 1),
        ("central-verified", 3, 3),
    ]
    assert custody.events[1][1]["findings"] == [f.model_dump(mode="json") for f in report.findings]


def test_the_sample_is_at_least_one_object() -> None:
    assert [sample_size(n, 2) for n in (0, 1, 10, 49, 51, 1000)] == [0, 1, 1, 1, 2, 20]
    assert sample_size(10, 100) == 10


def test_a_crashed_free_waits_for_a_grown_lock_before_it_is_finished(tmp_path: Path) -> None:
    a = obj(b"crash, then a longer retention")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_on_free = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    rig.store.crash_on_free = False
    a.dates = [UNTIL + timedelta(days=365)]
    summary = rig.forwarder.run_pass()
    assert (summary.lock_updated, summary.freed) == (1, 1)
    kinds = [k for k, b in rig.records.events if b == a.blake3]
    assert kinds == [
        "central-confirmed",
        "local-copy-freeing",
        "central-lock-updated",
        "local-copy-freed",
    ]
    assert rig.bucket.objects[rig.key(a)].retain_until == UNTIL + timedelta(days=365)


def test_a_crashed_free_is_not_finished_when_the_final_head_does_not_confirm(
    tmp_path: Path,
) -> None:
    a = obj(b"crash, then the central copy changed")
    rig = Rig(tmp_path, a, days=0)
    rig.store.crash_on_free = True
    with pytest.raises(StoreCrashed):
        rig.forwarder.run_pass()
    rig.store.crash_on_free = False
    rig.bucket.objects[rig.key(a)].lock_mode = "GOVERNANCE"
    summary = rig.forwarder.run_pass()
    assert summary.freed == 0 and dict(summary.failed) == {"CENTRAL_NOT_CONFIRMED": 1}
    assert rig.store.path_of(a.key).exists() and a.blake3 not in rig.records.freed


def test_a_missing_local_copy_fails_that_object_and_the_pass_goes_on(tmp_path: Path) -> None:
    lost, kept, due = obj(b"lost from the store"), obj(b"still here"), obj(b"due for freeing")
    rig = Rig(tmp_path, due, days=1)
    rig.forwarder.run_pass()  # `due` confirmed a day before the others are stored
    for o in (lost, kept):
        rig.records.objects.append(o)
        rig.store.add(o)
    rig.store.path_of(lost.key).unlink()
    due.dates = [UNTIL + timedelta(days=365)]
    rig.clock.now = NOW + timedelta(days=1)
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"LOCAL_COPY_UNREADABLE": 1}
    assert (summary.sent, summary.lock_updated, summary.freed, summary.left) == (1, 1, 1, 1)
    assert rig.records.copies[lost.blake3].error_code == "LOCAL_COPY_UNREADABLE"
    assert rig.records.copies[kept.blake3].state == "confirmed"


def test_a_local_copy_that_cannot_be_deleted_stays_held_and_others_are_freed(
    tmp_path: Path,
) -> None:
    stuck, other = obj(b"on a failing sector"), obj(b"freed all the same")
    rig = Rig(tmp_path, stuck, other, days=0)
    rig.store.refuse_free = {stuck.key}
    summary = rig.forwarder.run_pass()
    assert (summary.freed, dict(summary.failed)) == (1, {"STORE_FAILED": 1})
    assert rig.records.freed == {other.blake3}
    assert rig.store.path_of(stuck.key).exists()


class RefusingLedger(FakeCentralRecords):
    """The ledger refusing one object's row (two stations adding it at once)."""

    refused: str = ""

    def record_confirmed(
        self, item: Outgoing, head: CentralHead, parts: int, adopted: bool, at: datetime
    ) -> None:
        if item.blake3 == self.refused:
            raise LedgerError("duplicate key value violates unique constraint")
        super().record_confirmed(item, head, parts, adopted, at)


def test_a_ledger_refusing_one_objects_row_fails_only_that_object(tmp_path: Path) -> None:
    clash, fine = obj(b"sent by two stations at once"), obj(b"only ours")
    rig = Rig(tmp_path, clash, fine)
    records = RefusingLedger(rig.records.objects, rig.records.fallback)
    records.refused = clash.blake3
    rig.forwarder = Forwarder(rig.bucket, records, rig.store, rig.clock, 30, 2)
    summary = rig.forwarder.run_pass()
    assert (summary.sent, dict(summary.failed)) == (1, {"LEDGER_FAILED": 1})
    assert records.copies[fine.blake3].state == "confirmed"
    assert records.copies[clash.blake3].error_code == "LEDGER_FAILED"


class HoldAfterTheRead(FakeCentralRecords):
    """A hold placed at the desk right after the pass read the ledger."""

    target: FakeObject | None = None

    def outgoing(self) -> list[Outgoing]:
        read = super().outgoing()
        if self.target is not None:
            self.target.holds = 1
        return read


def test_a_hold_placed_after_the_pass_read_the_ledger_keeps_the_local_copy(
    tmp_path: Path,
) -> None:
    a = obj(b"held mid-pass")
    rig = Rig(tmp_path, a, days=0)
    records = HoldAfterTheRead(rig.records.objects, rig.records.fallback)
    rig.forwarder = Forwarder(rig.bucket, records, rig.store, rig.clock, 0, 2)
    records.target = a
    summary = rig.forwarder.run_pass()
    assert (summary.sent, summary.freed) == (1, 0)
    assert rig.store.path_of(a.key).exists() and a.blake3 not in records.freed
    assert ("local-copy-freeing", a.blake3) not in records.events
    records.target = None
    again = rig.forwarder.run_pass()  # the next pass sees the hold: the central hold first
    assert (again.lock_updated, again.freed) == (1, 1)
    assert rig.bucket.objects[rig.key(a)].legal_hold is True


def test_verify_central_goes_on_past_one_objects_failed_head(tmp_path: Path) -> None:
    a, b = obj(b"head refused"), obj(b"head fine")
    rig = Rig(tmp_path, a, b)
    rig.forwarder.run_pass()
    head = rig.bucket.head

    def failing_head(key: str, version_id: str | None = None) -> CentralHead | None:
        if key == rig.key(a):
            raise CentralError("NoSuchVersion after a server migration")
        return head(key, version_id)

    rig.bucket.head = failing_head  # type: ignore[method-assign]
    report = CentralVerifier(rig.bucket, rig.records, rig.clock, Custody(), lambda i, n: []).verify(
        0
    )
    assert report.checked == 2
    assert [(f.blake3, f.problem) for f in report.findings] == [(a.blake3, "not-confirmed")]
    assert "CENTRAL_FAILED" in report.findings[0].detail


def test_a_server_error_stops_the_pass_and_marks_no_object(tmp_path: Path) -> None:
    objects = [obj(bytes([i]) * 10) for i in range(4)]
    rig = Rig(tmp_path, *objects)
    rig.bucket.fail_next = [CentralUnavailableError("503 SlowDown")] * 4
    summary = rig.forwarder.run_pass()
    assert isinstance(summary.stopped, CentralUnavailableError) and summary.left == 4
    assert rig.records.copies == {} and rig.records.events == []


def test_the_same_bytes_sent_with_other_parts_are_adopted_after_a_read_back(
    tmp_path: Path,
) -> None:
    a = obj(b"sent before [central] part_mib changed")
    rig = Rig(tmp_path, a)
    other_parts = "c29tZSBjb21wb3NpdGU=-3"
    rig.bucket.objects[rig.key(a)] = StoredVersion(
        a.data, "old", UNTIL, False, checksum=other_parts
    )
    summary = rig.forwarder.run_pass()
    assert (summary.adopted, dict(summary.failed)) == (1, {})
    assert rig.bucket.reads == [rig.key(a)]
    assert rig.records.copies[a.blake3].checksum == other_parts


def test_other_bytes_with_a_composite_checksum_are_still_a_conflict(tmp_path: Path) -> None:
    a = obj(b"ours, 21 bytes long..")
    rig = Rig(tmp_path, a)
    theirs = b"theirs, 21 bytes long"
    rig.bucket.objects[rig.key(a)] = StoredVersion(theirs, "x", UNTIL, False, checksum="Zm9v-2")
    summary = rig.forwarder.run_pass()
    assert dict(summary.failed) == {"CENTRAL_KEY_CONFLICT": 1}
    assert rig.bucket.objects[rig.key(a)].data == theirs


def test_a_local_copy_not_in_the_store_is_never_marked_freed(tmp_path: Path) -> None:
    a = obj(b"gone before its free")
    rig = Rig(tmp_path, a, days=30)
    rig.forwarder.run_pass()
    rig.store.path_of(a.key).unlink()
    rig.clock.now = NOW + timedelta(days=30)
    summary = rig.forwarder.run_pass()
    assert (summary.freed, dict(summary.failed)) == (0, {"LOCAL_COPY_UNREADABLE": 1})
    assert a.blake3 not in rig.records.freed
    assert ("local-copy-freed", a.blake3) not in rig.records.events


def test_a_legal_hold_found_on_an_adopted_object_is_never_switched_off(tmp_path: Path) -> None:
    a = obj(b"held centrally by the agency, not by this dock")
    rig = Rig(tmp_path, a)
    rig.bucket.objects[rig.key(a)] = StoredVersion(a.data, "old", UNTIL, True)
    assert rig.forwarder.run_pass().adopted == 1
    assert rig.bucket.objects[rig.key(a)].legal_hold is True
    a.holds = 1  # a hold here, then released: the hold found stays ON
    rig.forwarder.run_pass()
    a.holds = 0
    again = rig.forwarder.run_pass()
    assert (again.lock_updated, dict(again.failed)) == (0, {})
    assert rig.bucket.objects[rig.key(a)].legal_hold is True
    assert rig.records.copies[a.blake3].foreign_hold


def test_a_failed_lock_update_is_recorded_on_the_confirmed_row_once(tmp_path: Path) -> None:
    a = obj(b"its hold cannot be set")
    rig = Rig(tmp_path, a)
    rig.forwarder.run_pass()
    rig.bucket.set_legal_hold = _refuse  # type: ignore[method-assign]
    a.holds = 1
    for _ in range(2):
        assert dict(rig.forwarder.run_pass().failed) == {"CENTRAL_FAILED": 1}
    copy = rig.records.copies[a.blake3]
    assert (copy.state, copy.error_code) == ("confirmed", "CENTRAL_FAILED")
    assert rig.records.events.count(("central-lock-failed", a.blake3)) == 1
    del rig.bucket.set_legal_hold
    assert rig.forwarder.run_pass().lock_updated == 1
    assert rig.records.copies[a.blake3].error_code is None
