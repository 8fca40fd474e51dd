"""A late clearing (`SlotWorker.clear_late`) over fakes: the recorder still docked when the
central store confirms what its clearing kept back. It is cleared then, with the holds
asked again and the recorder identified again, from its volume before the write block is
lifted and by detection on the read-write mount, before anything is deleted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import cast

from dockd.adapters.rules import load_profiles
from dockd.core.clearing import ClearCandidate
from dockd.core.devices import RecorderDevice
from dockd.core.fat import BootRegion
from dockd.core.transfer import VolumeEvidence
from dockd.daemon.board import StatusBoard
from dockd.daemon.slots import LateClear, Slot, Slots, SlotWorker
from dockd.services.clearing import RecorderClearing
from dockd.services.clocks import RecorderClockSetting
from dockd.services.detection import Detector
from dockd.services.dock_session import DockSession
from tests.fakes.clearing import (
    FakeClearingRecords,
    FakeClearingStore,
    FakeMounter,
    FakeRawVolumes,
    FakeRecorderFiles,
    FakeSampler,
)
from tests.fakes.dock import FakeFile, FakeVolume, FixedClock

RULES = Path(__file__).resolve().parents[2] / "rules"
T = 1_764_489_600 * 10**9
KEPT = b"DCIM/SN1_007_20261122081000_0002.AVI"  # kept at the dock for its confirmation
OTHER = b"DCIM/SN1_007_20261122082000_0003.AVI"  # recorded after the dock: never copied
BOOT = BootRegion(
    "FAT32", 512, 4096, 1 << 30, 262_000, 16_384, 2_097_152, 4_210_688, 2, volume_id=0x1234ABCD
)
DEVICE = RecorderDevice("/dev/sdx1", "SN1", "gat947", "bay1", "vfat", "file-names")


class Zones:
    """The one thing a slot's writes ask of the dock session: the recorder's time zone."""

    def zone_of(self, profile_id: str) -> str:
        return "Asia/Shanghai"


def _candidate(path: bytes, confirmed: bool) -> ClearCandidate:
    return ClearCandidate(7, path, 3, T, "ab" * 32, "b3/kept", "S1", True, confirmed)


class Bay:
    """A docked gat947 recorder whose clearing kept one file back for the central store."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.volume = FakeVolume({KEPT: FakeFile(b"aaa", T), OTHER: FakeFile(b"new", T)})
        self.records = FakeClearingRecords(
            candidates={"SN1": [_candidate(KEPT, confirmed=False)]}, log=self.log
        )
        self.raw = FakeRawVolumes(VolumeEvidence(1 << 30, BOOT, None))
        profiles = load_profiles(RULES)
        clearing = RecorderClearing(
            self.volume,
            FakeRecorderFiles(self.volume, log=self.log),
            self.records,
            FakeClearingStore.holding(self.records.candidates),
            FixedClock(),
            profiles,
            pack_allows=True,
            enabled=True,
            central=True,
        )
        self.board = StatusBoard()
        self.worker = SlotWorker(
            cast(DockSession, Zones()),
            cast(RecorderClockSetting, None),  # a late clearing never sets the clock
            clearing,
            FakeMounter(self.log),
            lambda devnode, blocked: self.log.append(f"write-block {blocked}"),
            self.board,
            Slots(),
            None,
            self.raw,
            Detector(FakeSampler(self.volume), self.volume, profiles),
        )
        late = LateClear(DEVICE, "S1", "completed", True, frozenset({7}), 1 << 30, BOOT)
        self.slot = Slot(DEVICE, late_clear=late)

    def confirm(self) -> None:
        self.records.candidates["SN1"] = [_candidate(KEPT, confirmed=True)]

    def message(self) -> str | None:
        return self.board.snapshot()[0].message


def test_the_kept_file_goes_once_the_central_store_confirms_it() -> None:
    bay = Bay()
    bay.worker.clear_late(bay.slot)
    assert bay.log == [] and bay.slot.late_clear is not None  # not confirmed yet: untouched
    bay.confirm()
    bay.worker.clear_late(bay.slot)
    assert bay.log == [
        "write-block False",
        "mount /dev/sdx1 rw",
        "recorder-file-clearing",
        f"unlink {KEPT.decode()}",
        "recorder-file-cleared",
        "unmount /mnt/bay1",
        "write-block True",
    ]
    assert sorted(bay.volume.files) == [OTHER]
    assert bay.slot.late_clear is None


def test_a_hold_placed_after_the_dock_refuses_the_late_clearing() -> None:
    bay = Bay()
    bay.confirm()
    bay.records.held["SN1"] = 1
    bay.worker.clear_late(bay.slot)
    assert bay.log == []
    assert KEPT in bay.volume.files
    assert bay.message() == "not cleared: 1 of the recorder's recordings are on hold"
    assert bay.slot.late_clear is None


def test_a_recorder_swapped_at_the_same_devnode_is_not_touched() -> None:
    """Another GA/T 947 recorder now answers at the devnode (same model, same card size):
    its names carry another serial, found on the read-write mount before any deletion."""
    bay = Bay()
    bay.confirm()
    bay.volume.files = {
        KEPT.replace(b"SN1", b"SN2"): FakeFile(b"aaa", T),
        KEPT: FakeFile(b"aaa", T),  # even a file of the same name and identity stays
        b"DCIM/SN2_007_20261122083000_0004.AVI": FakeFile(b"zzz", T),
    }
    bay.worker.clear_late(bay.slot)
    assert bay.log == [
        "write-block False",
        "mount /dev/sdx1 rw",
        "unmount /mnt/bay1",
        "write-block True",
    ]
    assert KEPT in bay.volume.files
    [status] = bay.board.snapshot()
    assert status.code == "RECORDER_NOT_CLEARED"
    assert status.message == (
        "/dev/sdx1 now reads as serial SN2 (gat947), not SN1 (gat947) as docked: "
        "nothing was deleted from it"
    )


def test_a_volume_with_another_volume_id_is_not_even_made_writable() -> None:
    """A card formatted like the docked one (same size and layout) is still another card."""
    bay = Bay()
    bay.confirm()
    bay.raw.evidence = VolumeEvidence(1 << 30, replace(BOOT, volume_id=0x5678), None)
    bay.worker.clear_late(bay.slot)
    assert bay.log == []
    assert KEPT in bay.volume.files
    [status] = bay.board.snapshot()
    assert status.code == "RECORDER_NOT_CLEARED"
    assert status.message == (
        "/dev/sdx1 is no longer the volume docked as SN1 (its size, boot region or volume id "
        "changed): nothing was deleted from it"
    )
