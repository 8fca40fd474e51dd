"""Lock upkeep across stations: when the lag of a central lock begins, when a station
takes over another station's upkeep, and the pass doing it over in-memory fakes (a
dock that sent an object is gone; holds and longer retentions must still reach it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.forwarding import (
    CentralCopy,
    ObjectLock,
    Outgoing,
    lag_since,
    upkeep_due,
)
from dockd.services.forward import Forwarder
from tests.fakes.central import (
    FakeBucket,
    FakeCentralRecords,
    FakeLocalStore,
    FakeObject,
    StoredVersion,
    s3_checksum,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
UNTIL = NOW + timedelta(days=180)
HOUR = timedelta(hours=1)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(moments, st.lists(moments))
def test_the_lag_begins_at_the_first_change_after_the_lock_was_recorded(
    recorded: datetime, changes: list[datetime]
) -> None:
    began = lag_since(recorded, changes)
    later = [c for c in changes if c > recorded]
    assert began == (min(later) if later else recorded)
    assert began >= recorded


def outgoing(
    lock: ObjectLock, copy_lock: ObjectLock, sender: str | None, lag: datetime
) -> Outgoing:
    copy = CentralCopy(
        "b" * 64, "k", "confirmed", "v1", "c=", copy_lock.retain_until, copy_lock.legal_hold,
        NOW - timedelta(days=2), 1, None,
    )  # fmt: skip
    return Outgoing("b" * 64, "s" * 64, 10, "k", "k", lock, copy, False, sender, lag)


@given(st.timedeltas(timedelta(0), timedelta(days=3)), st.booleans(), st.booleans())
def test_another_stations_upkeep_is_taken_over_only_past_the_threshold(
    lagged: timedelta, hold: bool, longer: bool
) -> None:
    recorded = ObjectLock(UNTIL, False)
    wanted = ObjectLock(UNTIL + (timedelta(days=1) if longer else timedelta(0)), hold)
    lags = wanted != recorded
    foreign = outgoing(wanted, recorded, "dock-east", NOW - lagged)
    assert upkeep_due(foreign, NOW, HOUR) is (lags and lagged >= HOUR)
    own = outgoing(wanted, recorded, None, NOW - lagged)
    assert upkeep_due(own, NOW, HOUR) is lags  # its own: at once, whatever the threshold


def test_a_foreign_object_without_a_known_lag_is_never_taken_over() -> None:
    item = outgoing(ObjectLock(UNTIL, True), ObjectLock(UNTIL, False), "dock-east", NOW)
    assert upkeep_due(item, NOW, timedelta(0))
    item = replace(item, lag_since=None)
    assert not upkeep_due(item, NOW + timedelta(days=30), HOUR)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Lost:
    """A recording station dock-east sent and confirmed, then burnt: this station never held
    it, the bucket and the ledger agree on its lock until a hold or a retention changes."""

    tmp: Path
    bucket: FakeBucket = field(default_factory=FakeBucket)
    clock: Clock = field(default_factory=Clock)
    obj: FakeObject = field(init=False)
    records: FakeCentralRecords = field(init=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        data = b"recorded at dock-east, which burnt"
        self.obj = FakeObject(hashlib.sha256(data).hexdigest(), data, [UNTIL], 0, "dock-east")
        self.records = FakeCentralRecords([self.obj], NOW + timedelta(days=365))
        self.key = f"agency/{self.obj.key}"
        self.bucket.objects[self.key] = StoredVersion(data, "v1", UNTIL, False)
        self.records.copies[self.obj.blake3] = CentralCopy(
            self.obj.blake3, self.key, "confirmed", "v1", s3_checksum(data), UNTIL, False,
            NOW - timedelta(days=3), 1, None,
        )  # fmt: skip

    def forwarder(self) -> Forwarder:
        store = FakeLocalStore(self.tmp)
        return Forwarder(self.bucket, self.records, store, self.clock, 30, 2, takeover_after=HOUR)

    def changed(self, ago: timedelta) -> None:
        self.obj.lag_since = self.clock.now - ago


def test_a_hold_on_a_lost_docks_recording_is_set_once_the_upkeep_is_overdue(
    tmp_path: Path,
) -> None:
    lost = Lost(tmp_path)
    lost.obj.holds = 1
    lost.changed(ago=timedelta(minutes=59))
    before = lost.forwarder().run_pass()
    assert (before.lock_updated, before.lock_upkeep.overdue) == (0, 1)
    assert before.lock_upkeep.oldest_s == 59 * 60
    assert lost.bucket.objects[lost.key].legal_hold is False
    assert lost.records.events == []
    lost.clock.now += timedelta(minutes=1)
    after = lost.forwarder().run_pass()
    assert (after.lock_updated, after.taken_over, after.lock_upkeep.overdue) == (1, 1, 0)
    assert lost.bucket.objects[lost.key].legal_hold is True
    assert lost.records.copies[lost.obj.blake3].legal_hold is True
    assert lost.records.events == [
        ("central-lock-upkeep-taken-over", lost.obj.blake3),
        ("central-lock-updated", lost.obj.blake3),
    ]
    assert lost.forwarder().run_pass().lock_updated == 0  # done: nothing lags


def test_a_longer_retention_on_a_lost_docks_recording_is_extended_once_overdue(
    tmp_path: Path,
) -> None:
    lost = Lost(tmp_path)
    lost.obj.dates = [UNTIL + timedelta(days=400)]
    lost.changed(ago=timedelta(minutes=10))
    assert lost.forwarder().run_pass().lock_upkeep.overdue == 1
    assert lost.bucket.objects[lost.key].retain_until == UNTIL
    lost.clock.now += HOUR
    assert lost.forwarder().run_pass().taken_over == 1
    assert lost.bucket.objects[lost.key].retain_until == UNTIL + timedelta(days=400)


@dataclass
class Racing(FakeBucket):
    """The sender, alive after all, extends the retention further between this station's
    HEAD and its own extension, which the server then refuses as a shortening."""

    further: datetime | None = None

    def extend_retention(self, key: str, version_id: str, retain_until: datetime) -> None:
        if self.further is not None:
            self.objects[key].retain_until = self.further
        super().extend_retention(key, version_id, retain_until)


def test_two_stations_extending_at_once_is_harmless(tmp_path: Path) -> None:
    lost = Lost(tmp_path, bucket=Racing(further=UNTIL + timedelta(days=500)))
    lost.obj.dates = [UNTIL + timedelta(days=400)]
    lost.changed(ago=2 * HOUR)
    summary = lost.forwarder().run_pass()
    # refused, yet the HEAD after it shows at least the retention the ledger wants
    assert (summary.lock_updated, dict(summary.failed)) == (1, {})
    assert lost.records.copies[lost.obj.blake3].retain_until == UNTIL + timedelta(days=500)


class ReleasedAfterTheRead(FakeCentralRecords):
    """The hold is released at the desk right after the pass read the ledger (and another
    station switched the central hold ON from the older facts meanwhile)."""

    target: FakeObject | None = None

    def outgoing(self) -> list[Outgoing]:
        read = super().outgoing()
        if self.target is not None:
            self.target.holds = 0
        return read


def test_the_lock_is_read_again_before_it_changes(tmp_path: Path) -> None:
    lost = Lost(tmp_path)
    records = ReleasedAfterTheRead(lost.records.objects, lost.records.fallback)
    records.copies = lost.records.copies
    lost.records, records.target = records, lost.obj
    lost.obj.holds = 1
    lost.changed(ago=2 * HOUR)
    summary = lost.forwarder().run_pass()
    assert (summary.lock_updated, records.lock_reads) == (0, 1)
    assert lost.bucket.objects[lost.key].legal_hold is False  # never switched from stale facts
