"""The dock session over in-memory fakes of its ports: the faults a real dock meets.

What is asserted is what an admin would see: the session's state and error code, the
problems listed, what the store holds, what the ledger calls verified.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from dockd.adapters.rules import load_policy, load_profiles
from dockd.core.model import VerifiedRecording
from dockd.core.policy import PolicyPack
from dockd.errors import StoreError
from dockd.ports import ProgressSink
from dockd.services.dock_session import DockSession, SessionOutcome, Station
from tests.fakes.dock import (
    FakeCustodians,
    FakeFile,
    FakeInterruptions,
    FakeLedger,
    FakeStationClock,
    FakeStore,
    FakeVolume,
    FixedClock,
)
from tests.fakes.signing import FakeSignatures, FakeSigner

RULES = Path(__file__).resolve().parents[2] / "rules"
SERIAL = "SN1"
SOURCE = Path("/srv/dock/bay1")


def name(seq: int) -> bytes:
    return f"DCIM/{SERIAL}_B7_20261130080000_{seq}.jpg".encode()


def clip(seq: int, size: int = 200_000) -> bytes:
    return bytes([seq % 251]) * size


@pytest.fixture
def policy() -> PolicyPack:
    return load_policy(RULES, "dalian-jinpu-ocean")


class Dock:
    """A dock session service wired to fakes, one file at a time unless asked otherwise."""

    def __init__(
        self,
        policy: PolicyPack,
        files: dict[bytes, FakeFile],
        store: FakeStore | None = None,
        parallel_files: int = 1,
        synchronised: bool = True,
        ledger: FakeLedger | None = None,
    ) -> None:
        self.volume = FakeVolume(files)
        self.store = store or FakeStore()
        self.ledger = ledger or FakeLedger()
        self.custodians = FakeCustodians()
        self.interruptions = FakeInterruptions()
        self.signer, self.signatures = FakeSigner(), FakeSignatures()
        self.service = DockSession(
            self.store,
            self.volume,
            self.ledger,
            self.custodians,
            self.interruptions,
            FakeStationClock(synchronised),
            FixedClock(),
            load_profiles(RULES),
            policy,
            Station("dock-1", "boot", 1, "test"),
            self.signer,
            self.signatures,
            parallel_files=parallel_files,
        )

    def ingest(
        self, cancel: threading.Event | None = None, progress: ProgressSink | None = None
    ) -> SessionOutcome:
        return self.service.ingest(
            SOURCE, SERIAL, "generic", slot="bay1", cancel=cancel, progress=progress
        )

    def verified_paths(self) -> list[bytes]:
        return sorted(r.source.path for _, r in self.ledger.recordings)


def codes(outcome: SessionOutcome) -> list[str]:
    return [p.code for p in outcome.problems]


def test_a_clean_dock_copies_every_file_and_stores_its_manifest(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(i): FakeFile(clip(i)) for i in range(1, 4)}, parallel_files=4)
    outcome = dock.ingest()
    assert (outcome.state, outcome.error, outcome.not_copied) == ("completed", None, 0)
    assert outcome.fully_verified
    assert dock.verified_paths() == [name(1), name(2), name(3)]
    assert outcome.manifest is not None and outcome.manifest.object_key in dock.store.objects
    assert len(dock.store.objects) == 4  # three recordings and the manifest
    assert dock.store.staging == {}
    assert dock.ledger.sessions[outcome.session_id].state == "completed"


def test_the_manifest_is_signed_over_its_stored_bytes(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(1): FakeFile(clip(1))})
    outcome = dock.ingest()
    assert outcome.manifest is not None
    stored = dock.store.objects[outcome.manifest.object_key]
    signature = dock.signatures.kept[outcome.manifest.digests.blake3]
    assert dock.signer.verify(stored, signature)
    assert not dock.signer.verify(stored + b" ", signature)
    carried = dock.ledger.sessions[outcome.session_id].finished["signature"]
    assert (carried.signature, carried.key) == (signature, dock.signer.fingerprint)


def test_a_file_that_changes_once_is_copied_again(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(1): FakeFile(clip(1), changes_left=1)})
    outcome = dock.ingest()
    assert outcome.state == "completed"
    assert dock.verified_paths() == [name(1)]
    (rec,) = [r for _, r in dock.ledger.recordings]
    assert rec.source.mtime_ns == dock.volume.files[name(1)].mtime_ns  # as it was copied
    assert dock.store.staging == {}


def test_a_file_that_changes_twice_is_left_with_a_problem(policy: PolicyPack) -> None:
    files = {name(1): FakeFile(clip(1), changes_left=2), name(2): FakeFile(clip(2))}
    dock = Dock(policy, files)
    outcome = dock.ingest()
    assert outcome.state == "completed_with_problems"
    assert codes(outcome) == ["source-changed"]
    assert outcome.problems[0].path == name(1).decode()
    assert dock.verified_paths() == [name(2)]  # the other file is not held up
    assert outcome.not_copied == 1 and not outcome.fully_verified
    assert dock.store.staging == {}  # both attempts discarded
    assert len(dock.store.objects) == 2  # the other recording and the manifest


def test_a_recorder_that_vanishes_mid_file_ends_its_session_as_interrupted(
    policy: PolicyPack,
) -> None:
    files = {
        name(1): FakeFile(clip(1)),
        name(2): FakeFile(clip(2), vanish_at=FakeStore.chunk_size),
        name(3): FakeFile(clip(3)),
    }
    dock = Dock(policy, files)
    outcome = dock.ingest()
    assert outcome.state == "interrupted"
    assert outcome.error is not None and outcome.error.code == "RECORDER_GONE"
    assert codes(outcome)[-1] == "RECORDER_GONE"
    assert dock.verified_paths() == [name(1)]  # what was verified before it went stays
    assert outcome.not_copied == 2
    assert dock.store.staging == {}  # nothing of the file in flight is kept
    assert all(s.closed for s in dock.volume.streams)
    assert dock.ledger.sessions[outcome.session_id].finished["error_code"] == "RECORDER_GONE"
    assert outcome.manifest is not None  # the manifest says what was not copied


def test_a_store_that_fills_fails_the_session_and_keeps_what_was_verified(
    policy: PolicyPack,
) -> None:
    files = {name(1): FakeFile(clip(1)), name(2): FakeFile(clip(2)), name(3): FakeFile(clip(3))}
    dock = Dock(policy, files, store=FakeStore(capacity=300_000))
    outcome = dock.ingest()
    assert outcome.state == "failed"
    assert outcome.error is not None and outcome.error.code == "STORE_FULL"
    assert "reserving 200000 bytes" in outcome.error.message
    assert dock.verified_paths() == [name(1)]
    assert outcome.not_copied == 2
    assert all(s.closed for s in dock.volume.streams)
    assert dock.store.staging == {}
    assert outcome.manifest is not None


def test_a_store_too_full_for_the_manifest_says_so(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(1): FakeFile(clip(1))}, store=FakeStore(capacity=200_100))
    outcome = dock.ingest()
    assert outcome.state == "failed"
    assert outcome.error is not None and outcome.error.code == "STORE_FULL"
    assert outcome.manifest is None
    assert "manifest not stored" in outcome.problems[-1].message
    assert dock.verified_paths() == [name(1)]  # the recording itself is verified


class CancelAfter:
    """A slot's progress that pulls the recorder (cancels) once `limit` bytes are copied."""

    def __init__(self, cancel: threading.Event, limit: int) -> None:
        self.cancel, self.limit, self.done = cancel, limit, 0

    def planned(self, session: str, files: int, nbytes: int, drift_s: float | None) -> None:
        self.files = files

    def copied(self, nbytes: int) -> None:
        self.done += nbytes
        if self.done >= self.limit:
            self.cancel.set()

    def verified(self, files: int) -> None:
        pass


def test_a_cancelled_session_keeps_what_was_verified_and_abandons_the_rest(
    policy: PolicyPack,
) -> None:
    files = {name(i): FakeFile(clip(i)) for i in range(1, 5)}
    dock = Dock(policy, files)
    cancel = threading.Event()
    progress = CancelAfter(cancel, 200_000 + FakeStore.chunk_size)
    outcome = dock.ingest(cancel=cancel, progress=progress)
    assert progress.files == 4
    assert outcome.state == "interrupted"
    assert outcome.error is not None and outcome.error.code == "RECORDER_GONE"
    assert dock.verified_paths() == [name(1)]
    assert outcome.not_copied == 3
    assert dock.store.staging == {}


def test_a_session_cancelled_before_the_copy_copies_nothing(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(1): FakeFile(clip(1))})
    cancel = threading.Event()
    cancel.set()
    outcome = dock.ingest(cancel=cancel)
    assert outcome.state == "interrupted"
    assert dock.verified_paths() == [] and dock.volume.streams == []
    assert outcome.not_copied == 1


def test_a_duplicate_object_is_kept_once_and_both_recordings_are_verified(
    policy: PolicyPack,
) -> None:
    same = clip(9)
    dock = Dock(policy, {name(1): FakeFile(same), name(2): FakeFile(same)})
    outcome = dock.ingest()
    assert outcome.state == "completed"
    recs = sorted((r for _, r in dock.ledger.recordings), key=lambda r: r.source.path)
    assert [r.duplicate for r in recs] == [False, True]
    assert recs[0].object_key == recs[1].object_key
    assert len(dock.store.objects) == 2  # one recording object and the manifest


def test_an_unsynchronised_station_clock_is_a_problem_not_a_silence(policy: PolicyPack) -> None:
    dock = Dock(policy, {name(1): FakeFile(clip(1))}, synchronised=False)
    outcome = dock.ingest()
    assert "station-clock-unsynchronised" in codes(outcome)
    assert dock.verified_paths() == [name(1)]


def test_a_refusing_policy_copies_nothing_but_records_the_station_clock(
    policy: PolicyPack,
) -> None:
    refusing = policy.model_copy(
        update={"clock": policy.clock.model_copy(update={"on_unsynchronised": "refuse"})}
    )
    dock = Dock(refusing, {name(1): FakeFile(clip(1))}, synchronised=False)
    outcome = dock.ingest()
    assert outcome.state == "failed"
    assert outcome.error is not None and outcome.error.code == "STATION_CLOCK_UNSYNCHRONISED"
    assert outcome.station_clock is not None and not outcome.station_clock.synchronised
    assert outcome.recorder_clock is None and dock.volume.streams == []
    assert outcome.not_copied == 1


# -- batches: one durable flush and one ledger transaction for many small files --------


def small_dock(
    policy: PolicyPack, count: int, ledger: FakeLedger | None = None, **files: FakeFile
) -> Dock:
    """`count` distinct small files, four at a time; `files` replaces some by number."""
    chosen = {name(i): FakeFile(clip(i, 5_000) + i.to_bytes(4, "big")) for i in range(count)}
    chosen.update({name(int(k.removeprefix("n"))): f for k, f in files.items()})
    return Dock(policy, chosen, parallel_files=4, ledger=ledger)


def test_many_small_files_are_made_durable_and_recorded_a_batch_at_a_time(
    policy: PolicyPack,
) -> None:
    dock = small_dock(policy, 300)
    outcome = dock.ingest()
    assert outcome.state == "completed"
    assert len(dock.verified_paths()) == 300
    assert sum(dock.ledger.batches) == 300
    # a batch closes at 64 files, or after half a second on a slow machine: either way
    # a flush serves many files, not one each
    assert len(dock.ledger.batches) < 300 // 10
    assert dock.store.durable_rounds == len(dock.ledger.batches)
    assert dock.store.staging == {} and dock.store.durable == set()


def test_a_file_changing_inside_a_batch_holds_up_none_of_the_others(policy: PolicyPack) -> None:
    dock = small_dock(policy, 150, n70=FakeFile(clip(70, 5_000), changes_left=2))
    outcome = dock.ingest()
    assert outcome.state == "completed_with_problems"
    assert [(p.path, p.code) for p in outcome.problems] == [(name(70).decode(), "source-changed")]
    assert len(dock.verified_paths()) == 149 and name(70) not in dock.verified_paths()
    recorded = {r.object_key for _, r in dock.ledger.recordings}
    assert outcome.manifest is not None
    assert set(dock.store.objects) == recorded | {outcome.manifest.object_key}
    assert dock.store.staging == {}


def test_a_recorder_pulled_mid_batch_keeps_the_copies_finished_before_it(
    policy: PolicyPack,
) -> None:
    """One file at a time, so which copies finished before the pull is known: the 29
    before the 30th file's last chunk are flushed and recorded although their batch had
    not closed; the 30th and later leave nothing behind."""
    files = {name(i): FakeFile(clip(i)) for i in range(1, 60)}
    dock = Dock(policy, files)
    cancel = threading.Event()
    progress = CancelAfter(cancel, 30 * 200_000)
    outcome = dock.ingest(cancel=cancel, progress=progress)
    assert outcome.state == "interrupted"
    assert dock.verified_paths() == sorted(files)[:29]  # the volume lists them sorted
    assert dock.ledger.batches == [29]
    recorded = {r.object_key for _, r in dock.ledger.recordings}
    assert outcome.manifest is not None
    assert set(dock.store.objects) == recorded | {outcome.manifest.object_key}
    assert dock.store.staging == {}


def test_a_batch_that_cannot_be_made_durable_is_neither_linked_nor_recorded(
    policy: PolicyPack,
) -> None:
    failing = FakeStore(durable_fails=StoreError("making the copies durable: Input/output error"))
    files = {name(i): FakeFile(clip(i, 5_000)) for i in range(1, 11)}
    dock = Dock(policy, files, store=failing, parallel_files=4)
    outcome = dock.ingest()
    assert outcome.state == "failed"
    assert outcome.error is not None and outcome.error.code == "STORE_FAILED"
    assert "Input/output error" in outcome.error.message
    assert dock.verified_paths() == [] and dock.ledger.batches == []
    assert outcome.manifest is not None  # the manifest's own fsync still worked
    assert set(dock.store.objects) == {outcome.manifest.object_key}
    assert dock.store.staging == {}


class SlowLedger(FakeLedger):
    """A ledger whose transactions take a while: the copies outrun the flushes."""

    def add_recordings(
        self, session_id: str, serial: str, recordings: Sequence[VerifiedRecording]
    ) -> list[int]:
        time.sleep(0.2)
        return super().add_recordings(session_id, serial, recordings)


def test_copies_wait_for_a_flush_that_has_fallen_behind(policy: PolicyPack) -> None:
    """At most 256 staged copies wait for a flush (plus what one collection round adds:
    two jobs per copy thread, of up to 8 small files each), so a slow ledger bounds what a
    crash would leave to clean up."""
    dock = small_dock(policy, 700, SlowLedger())
    outcome = dock.ingest()
    assert outcome.state == "completed"
    assert sum(dock.ledger.batches) == 700
    assert max(dock.ledger.batches) <= 256 + 2 * 4 * 8
    assert max(dock.ledger.batches) > 64  # the flushes did fall behind: the bound was hit
