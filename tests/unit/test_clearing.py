"""Clearing a recorder after offload: the pure plan, the re-check and the use case over
fakes (what is deleted, what stays and why, the custody events around each deletion)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from dockd.adapters.rules import load_profiles
from dockd.core.clearing import ClearCandidate, KeptFile, clearing_refusal, plan_clearing, recheck
from dockd.core.model import SourceFile
from dockd.core.policy import PolicyPack
from dockd.core.transfer import ReadBack
from dockd.errors import StoreError
from dockd.services.clearing import RecorderClearing
from tests.fakes.clearing import FakeClearingRecords, FakeClearingStore, FakeRecorderFiles
from tests.fakes.dock import FakeFile, FakeVolume, FixedClock

RULES = Path(__file__).resolve().parents[2] / "rules"
T = 1_764_489_600 * 10**9


def _verified(
    path: bytes,
    data: bytes,
    *,
    in_store: bool = True,
    confirmed: bool = False,
    elsewhere: bool = False,
    session: str = "S1",
) -> ClearCandidate:
    return ClearCandidate(
        len(path),
        path,
        len(data),
        T,
        "ab" * 32,
        f"b3/{path.decode()}",
        session,
        in_store,
        confirmed,
        elsewhere,
    )


def test_only_files_with_a_verified_copy_of_exactly_them_are_deleted() -> None:
    on_device = [
        SourceFile(b"DCIM/A.MP4", 10, T),
        SourceFile(b"DCIM/B.MP4", 12, T),  # grew since its copy
        SourceFile(b"DCIM/C.MP4", 7, T),  # never copied
        SourceFile(b"DCIM/D.MP4", 5, T + 1),  # touched since its copy
    ]
    verified = [
        _verified(b"DCIM/A.MP4", b"a" * 10),
        _verified(b"DCIM/B.MP4", b"b" * 10),
        _verified(b"DCIM/D.MP4", b"d" * 5),
    ]
    plan = plan_clearing(on_device, verified, central=False)
    assert [c.path for c in plan.delete] == [b"DCIM/A.MP4"]
    assert plan.kept == [
        KeptFile(b"DCIM/B.MP4", "changed since it was verified (size or time differ)"),
        KeptFile(b"DCIM/C.MP4", "no verified copy of this file"),
        KeptFile(b"DCIM/D.MP4", "changed since it was verified (size or time differ)"),
    ]


def test_with_a_central_store_only_confirmed_copies_free_their_files() -> None:
    on_device = [SourceFile(b"A.MP4", 3, T), SourceFile(b"B.MP4", 3, T)]
    verified = [_verified(b"A.MP4", b"aaa", confirmed=True), _verified(b"B.MP4", b"bbb")]
    plan = plan_clearing(on_device, verified, central=True)
    assert [c.path for c in plan.delete] == [b"A.MP4"]
    assert plan.kept == [KeptFile(b"B.MP4", "not yet confirmed in the central store")]
    assert len(plan_clearing(on_device, verified, central=False).delete) == 2


def test_a_copy_no_longer_in_the_store_frees_nothing() -> None:
    plan = plan_clearing(
        [SourceFile(b"A.MP4", 3, T)], [_verified(b"A.MP4", b"aaa", in_store=False)], False
    )
    assert plan.delete == []
    assert plan.kept == [KeptFile(b"A.MP4", "its copy is no longer in the store")]


def test_a_recording_another_station_copied_is_named_so() -> None:
    """A shared ledger knows recordings other stations copied: this station holds no
    copy of them, which is not the same as a copy it lost."""
    plan = plan_clearing(
        [SourceFile(b"A.MP4", 3, T)],
        [_verified(b"A.MP4", b"aaa", in_store=False, elsewhere=True)],
        False,
    )
    assert plan.delete == []
    assert plan.kept == [
        KeptFile(b"A.MP4", "copied by another station: this station's store holds no copy of it")
    ]


def test_recheck_just_before_deletion() -> None:
    candidate = _verified(b"A.MP4", b"aaa")
    assert recheck(candidate, SourceFile(b"A.MP4", 3, T)) is None
    assert recheck(candidate, None) == "gone or no longer a regular file"
    assert recheck(candidate, SourceFile(b"A.MP4", 4, T)) == (
        "changed since it was verified (size or time differ)"
    )
    assert recheck(candidate, SourceFile(b"A.MP4", 3, T + 1)) is not None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"pack_allows": False}, "the policy pack does not allow clearing recorders"),
        ({"enabled": False}, "clearing is off ([daemon] clear_after_offload)"),
        ({"session_state": "completed_with_problems"}, "the dock session is completed_with"),
        ({"fully_verified": False}, "the dock session is completed, not completed without"),
        ({"holds": 2}, "2 of the recorder's recordings are on hold"),
    ],
)
def test_every_condition_of_clearing_is_needed(changes: dict[str, object], reason: str) -> None:
    facts: dict[str, object] = {
        "pack_allows": True,
        "enabled": True,
        "session_state": "completed",
        "fully_verified": True,
        "holds": 0,
    }
    assert clearing_refusal(**facts) is None  # type: ignore[arg-type]
    refusal = clearing_refusal(**{**facts, **changes})  # type: ignore[arg-type]
    assert refusal is not None and refusal.startswith(reason)


def _clearing(
    volume: FakeVolume,
    records: FakeClearingRecords,
    files: FakeRecorderFiles,
    central: bool = False,
    store: FakeClearingStore | None = None,
) -> RecorderClearing:
    return RecorderClearing(
        volume,
        files,
        records,
        store if store is not None else FakeClearingStore.holding(records.candidates),
        FixedClock(),
        load_profiles(RULES),
        pack_allows=True,
        enabled=True,
        central=central,
    )


def test_each_deletion_is_in_the_custody_log_before_and_after_the_unlink() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"NEW.MP4": FakeFile(b"new", T)})
    order: list[str] = []
    records = FakeClearingRecords(candidates={"SN1": [_verified(b"A.MP4", b"aaa")]}, log=order)
    files = FakeRecorderFiles(volume, log=order)
    result = _clearing(volume, records, files).clear(Path("/mnt"), "generic", "SN1", "S1")
    assert order == ["recorder-file-clearing", "unlink A.MP4", "recorder-file-cleared"]
    assert sorted(volume.files) == [b"NEW.MP4"]
    assert result.deleted == 1
    assert result.kept == [KeptFile(b"NEW.MP4", "no verified copy of this file")]
    assert result.summary == (
        "cleared 1 file from the recorder; 1 kept: NEW.MP4 (no verified copy of this file)"
    )
    [(_, details), _] = records.events
    assert details == {
        "serial": "SN1",
        "path": "A.MP4",
        "size": 3,
        "mtime_ns": T,
        "recording": 5,
        "blake3": "ab" * 32,
    }


def test_files_kept_for_the_central_store_are_cleared_once_it_confirms_them() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"BB.MP4": FakeFile(b"bbb", T)})
    waiting = [_verified(b"A.MP4", b"aaa", confirmed=True), _verified(b"BB.MP4", b"bbb")]
    records = FakeClearingRecords(candidates={"SN1": waiting})
    clearing = _clearing(volume, records, FakeRecorderFiles(volume), central=True)
    first = clearing.clear(Path("/mnt"), "generic", "SN1", "S1")
    assert (first.deleted, first.awaiting_central) == (1, frozenset({6}))
    assert not clearing.confirmed_since("SN1", first.awaiting_central)
    records.candidates["SN1"] = [_verified(b"BB.MP4", b"bbb", confirmed=True)]
    assert clearing.confirmed_since("SN1", first.awaiting_central)
    later = clearing.clear(Path("/mnt"), "generic", "SN1", "S1")
    assert (later.deleted, later.kept, later.awaiting_central) == (1, [], frozenset())
    assert volume.files == {}
    kinds = [kind for kind, _ in records.events]
    assert kinds == ["recorder-file-clearing", "recorder-file-cleared"] * 2


def test_a_file_changed_after_the_plan_stays_and_is_named() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"B.MP4": FakeFile(b"bbb", T)})
    records = FakeClearingRecords(
        candidates={"SN1": [_verified(b"A.MP4", b"aaa"), _verified(b"B.MP4", b"bbb")]}
    )

    def recorder_appends(path: bytes) -> None:
        if path == b"B.MP4":
            volume.files[path] = FakeFile(b"bbbb", T)

    files = FakeRecorderFiles(volume, before_look=recorder_appends)
    result = _clearing(volume, records, files).clear(Path("/mnt"), "generic", "SN1", "S1")
    assert sorted(volume.files) == [b"B.MP4"]
    assert result.kept == [
        KeptFile(b"B.MP4", "changed since it was verified (size or time differ)")
    ]
    assert [kind for kind, _ in records.events] == [
        "recorder-file-clearing",
        "recorder-file-cleared",
    ]


def test_a_failed_deletion_is_recorded_and_the_others_go_on() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"B.MP4": FakeFile(b"bbb", T)})
    records = FakeClearingRecords(
        candidates={"SN1": [_verified(b"A.MP4", b"aaa"), _verified(b"B.MP4", b"bbb")]}
    )
    files = FakeRecorderFiles(volume, refuse={b"A.MP4"})
    result = _clearing(volume, records, files).clear(Path("/mnt"), "generic", "SN1", "S1")
    assert sorted(volume.files) == [b"A.MP4"]
    assert result.error is not None and result.error.code == "RECORDER_NOT_CLEARED"
    assert [kind for kind, _ in records.events] == [
        "recorder-file-clearing",
        "recorder-file-not-cleared",
        "recorder-file-clearing",
        "recorder-file-cleared",
    ]
    assert records.events[1][1]["error"] == "cannot delete A.MP4: Read-only file system"


def test_a_store_copy_missing_or_of_another_size_frees_nothing() -> None:
    """The ledger's word that the copy is in the store is checked on the disk before the
    deletion intent: a lost or truncated object keeps its recorder file."""
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"B.MP4": FakeFile(b"bbb", T)})
    records = FakeClearingRecords(
        candidates={"SN1": [_verified(b"A.MP4", b"aaa"), _verified(b"B.MP4", b"bbb")]}
    )
    store = FakeClearingStore({"b3/B.MP4": ("ab" * 32, 2)})
    result = _clearing(volume, records, FakeRecorderFiles(volume), store=store).clear(
        Path("/mnt"), "generic", "SN1", "S1"
    )
    assert result.deleted == 0 and sorted(volume.files) == [b"A.MP4", b"B.MP4"]
    assert result.kept == [
        KeptFile(b"A.MP4", "its copy is missing from the store"),
        KeptFile(b"B.MP4", "its copy in the store has 2 bytes, not 3"),
    ]
    assert records.events == []
    assert store.read_backs == []  # verified in this session: size is checked, not re-hashed


def test_a_copy_verified_at_an_earlier_dock_is_re_hashed_before_its_file_goes() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"B.MP4": FakeFile(b"bbb", T)})
    earlier = [
        _verified(b"A.MP4", b"aaa", session="S0"),
        _verified(b"B.MP4", b"bbb", session="S0"),
    ]
    records = FakeClearingRecords(candidates={"SN1": earlier})
    store = FakeClearingStore({"b3/A.MP4": ("ab" * 32, 3), "b3/B.MP4": ("cd" * 32, 3)})
    result = _clearing(volume, records, FakeRecorderFiles(volume), store=store).clear(
        Path("/mnt"), "generic", "SN1", "S2"
    )
    assert store.read_backs == ["b3/A.MP4", "b3/B.MP4"]
    assert sorted(volume.files) == [b"B.MP4"]
    assert result.kept == [
        KeptFile(b"B.MP4", "its copy in the store no longer reads back as verified")
    ]
    assert [details["path"] for _, details in records.events] == ["A.MP4", "A.MP4"]


def test_a_store_copy_that_cannot_be_read_back_keeps_its_file() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T)})
    records = FakeClearingRecords(candidates={"SN1": [_verified(b"A.MP4", b"aaa", session="S0")]})

    class Unreadable(FakeClearingStore):
        def read_back(self, key: str) -> ReadBack:
            raise StoreError(f"reading back {key}: Input/output error")

    store = Unreadable({"b3/A.MP4": ("ab" * 32, 3)})
    result = _clearing(volume, records, FakeRecorderFiles(volume), store=store).clear(
        Path("/mnt"), "generic", "SN1", "S2"
    )
    assert sorted(volume.files) == [b"A.MP4"]
    assert result.kept == [
        KeptFile(
            b"A.MP4",
            "its copy in the store cannot be read back: reading back b3/A.MP4: Input/output error",
        )
    ]


def test_a_hold_placed_while_the_clearing_runs_stops_it_before_the_next_file() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T), b"B.MP4": FakeFile(b"bbb", T)})
    records = FakeClearingRecords(
        candidates={"SN1": [_verified(b"A.MP4", b"aaa"), _verified(b"B.MP4", b"bbb")]}
    )

    def supervisor_holds(path: bytes) -> None:
        if path == b"B.MP4":  # while B is re-checked, after A went
            records.held["SN1"] = 1

    files = FakeRecorderFiles(volume, before_look=supervisor_holds)
    result = _clearing(volume, records, files).clear(Path("/mnt"), "generic", "SN1", "S1")
    assert sorted(volume.files) == [b"B.MP4"]
    assert result.kept == [
        KeptFile(b"B.MP4", "1 of the recorder's recordings were put on hold meanwhile")
    ]
    assert [details["path"] for _, details in records.events] == ["A.MP4", "A.MP4"]


def test_a_hold_placed_while_the_store_copy_is_re_hashed_keeps_the_file() -> None:
    """A re-hash of a large clip takes minutes: the holds are asked with the deletion
    intent, after it, not before."""
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T)})
    records = FakeClearingRecords(candidates={"SN1": [_verified(b"A.MP4", b"aaa", session="S0")]})

    class SupervisorHoldsDuringRehash(FakeClearingStore):
        def read_back(self, key: str) -> ReadBack:
            records.held["SN1"] = 1
            return super().read_back(key)

    store = SupervisorHoldsDuringRehash({"b3/A.MP4": ("ab" * 32, 3)})
    result = _clearing(volume, records, FakeRecorderFiles(volume), store=store).clear(
        Path("/mnt"), "generic", "SN1", "S2"
    )
    assert store.read_backs == ["b3/A.MP4"]
    assert sorted(volume.files) == [b"A.MP4"]
    assert result.kept == [
        KeptFile(b"A.MP4", "1 of the recorder's recordings were put on hold meanwhile")
    ]
    assert records.events == []


def test_holds_refuse_the_whole_recorder() -> None:
    volume = FakeVolume({b"A.MP4": FakeFile(b"aaa", T)})
    records = FakeClearingRecords(
        candidates={"SN1": [_verified(b"A.MP4", b"aaa")]}, held={"SN1": 1}
    )
    clearing = _clearing(volume, records, FakeRecorderFiles(volume))
    assert (
        clearing.refusal("SN1", "completed", True) == "1 of the recorder's recordings are on hold"
    )
    assert clearing.refusal("SN2", "completed", True) is None


def _qidong() -> dict[str, object]:
    return tomllib.loads((RULES / "policies" / "qidong.toml").read_text("utf-8"))


def test_no_shipped_pack_allows_clearing_and_allowing_it_needs_an_article() -> None:
    for pack in (RULES / "policies").glob("*.toml"):
        data = tomllib.loads(pack.read_text("utf-8"))
        policy = PolicyPack.model_validate(data)
        assert policy.clearing.allowed is False
        assert policy.clearing.dockd_own == ["allowed"]
    data = _qidong()
    data["clearing"] = {"allowed": True, "articles": ["002:16"]}
    assert PolicyPack.model_validate(data).clearing.allowed is True
    data["clearing"] = {"allowed": True, "articles": [], "dockd_own": ["allowed"]}
    with pytest.raises(ValidationError, match="needs the article that allows clearing"):
        PolicyPack.model_validate(data)
