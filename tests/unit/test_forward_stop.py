"""A forwarding pass told to stop, over fakes: it stops between objects and between the
parts of a multipart upload, marks nothing it did not confirm, leaves the unfinished
upload for the next start to abort, and the next pass sends what was left."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dockd.errors import ForwardingStoppedError
from dockd.services.forward import Forwarder
from tests.fakes.central import FakeBucket, FakeCentralRecords, FakeLocalStore, FakeObject

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
UNTIL = NOW + timedelta(days=180)


def obj(data: bytes) -> FakeObject:
    return FakeObject(hashlib.sha256(data).hexdigest(), data, [UNTIL])


class Rig:
    def __init__(self, tmp: Path, *objects: FakeObject, days: int = 30) -> None:
        self.bucket = FakeBucket()
        self.records = FakeCentralRecords(list(objects), NOW + timedelta(days=365))
        self.store = FakeLocalStore(tmp)
        for o in objects:
            self.store.add(o)
        self.days = days
        self.now = NOW

    def forwarder(self, stopping: Callable[[], str | None] = lambda: None) -> Forwarder:
        """A new one for each process: its first pass aborts what a cut pass left."""
        return Forwarder(
            self.bucket, self.records, self.store, lambda: self.now, self.days, 1, stopping=stopping
        )

    def key(self, o: FakeObject) -> str:
        return f"agency/{o.key}"


def test_a_pass_told_to_stop_sends_no_further_object(tmp_path: Path) -> None:
    objects = [obj(f"recording {n}".encode()) for n in range(3)]
    rig = Rig(tmp_path, *objects)
    summary = rig.forwarder(lambda: "SIGTERM" if rig.bucket.puts else None).run_pass()
    assert isinstance(summary.stopped, ForwardingStoppedError)
    assert "(SIGTERM)" in summary.stopped.message and summary.stopped.exit_code == 1
    assert (summary.sent, summary.left, summary.complete) == (1, 2, False)
    assert dict(summary.failed) == {}  # a stop is no object's failure
    assert rig.bucket.puts == [rig.key(objects[0])]
    assert {b: c.state for b, c in rig.records.copies.items()} == {objects[0].blake3: "confirmed"}
    again = rig.forwarder().run_pass()
    assert (again.sent, again.left, again.complete) == (2, 0, True)


def test_a_stop_between_parts_leaves_the_upload_for_the_next_start(tmp_path: Path) -> None:
    big = obj(b"x" * 20)
    rig = Rig(tmp_path, big)
    rig.bucket.part_size = 4  # five parts
    summary = rig.forwarder(lambda: "SIGTERM" if rig.bucket.parts_sent >= 2 else None).run_pass()
    assert isinstance(summary.stopped, ForwardingStoppedError)
    assert (rig.bucket.parts_sent, summary.sent, summary.left) == (2, 0, 1)
    assert rig.key(big) not in rig.bucket.objects
    assert big.blake3 not in rig.records.copies  # neither confirmed nor failed
    # the upload stays recorded as begun and on the server: not aborted by the stop
    (upload,) = rig.records.unfinished_uploads()
    assert rig.bucket.unfinished == {upload: rig.key(big)}
    restarted = rig.forwarder().run_pass()
    assert restarted.aborted_uploads == [rig.key(big)] and rig.bucket.unfinished == {}
    assert (restarted.sent, restarted.complete) == (1, True)
    assert rig.records.copies[big.blake3].state == "confirmed"
    assert rig.records.unfinished_uploads() == []


def test_a_stop_after_sending_frees_nothing(tmp_path: Path) -> None:
    sent = obj(b"confirmed and past its local days")
    rig = Rig(tmp_path, sent, days=0)
    # told once the object is confirmed: the free this pass would make next is not begun
    summary = rig.forwarder(lambda: "SIGINT" if rig.records.copies else None).run_pass()
    assert isinstance(summary.stopped, ForwardingStoppedError)
    assert (summary.sent, summary.freed, summary.left) == (1, 0, 0)
    assert rig.store.path_of(sent.key).exists()
    assert [k for k, b in rig.records.events if b == sent.blake3] == ["central-confirmed"]
    assert rig.forwarder().run_pass().freed == 1
