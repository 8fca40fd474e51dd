"""The dock's slots, and the work done in one: write-block, mount, dock session, unmount.

A slot holds a docked recorder (or a drop folder) and its worker. The worker says
on the board when the recorder is safe to unplug; a recorder removed mid-copy
cancels its own session only. A recorder left docked whose clearing waited for the
central store's confirmation keeps that wait on its slot (`LateClear`) until the daemon
finds the confirmation arrived, or the recorder is taken away.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

import structlog

from dockd.core.completeness import INCOMPLETE_CODE
from dockd.core.devices import RecorderDevice
from dockd.core.fat import BootRegion
from dockd.core.model import Problem
from dockd.core.said import Said
from dockd.core.transfer import VolumeEvidence
from dockd.daemon.board import SlotProgress, SlotState, StatusBoard
from dockd.errors import (
    DockdError,
    InternalError,
    MountError,
    RecorderBusyError,
    RecorderClearError,
    RecorderWritesBlockedError,
    UnknownFilesystemError,
)
from dockd.ports import DropFolders, Mounter, RawVolumes, WriteBlocker
from dockd.services.clearing import ClearResult, RecorderClearing
from dockd.services.clocks import RecorderClockSetting
from dockd.services.detection import Detector
from dockd.services.dock_session import DockSession, SessionOutcome

log = structlog.get_logger("dockd.daemon.loop")
MOUNT_RETRY_S = 1.0


@dataclass(frozen=True)
class LateClear:
    """A clearing that kept files back until their central confirmation: the recorder as
    identified, the session whose outcome allowed clearing (asked again when it runs), and
    its volume's size and boot region then, to be found again before anything is deleted."""

    device: RecorderDevice
    session_id: str
    state: str
    fully_verified: bool
    awaiting: frozenset[int]
    device_bytes: int
    boot: BootRegion | None


@dataclass
class Slot:
    """A docked recorder (or a drop folder) and its worker; what it shows is on the board."""

    device: RecorderDevice
    drop_folder: Path | None = None
    session: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    job: Future[None] | None = None
    late_clear: LateClear | None = None


class Slots:
    """The slots in use, shared by the udev loop and the workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_name: dict[str, Slot] = {}

    def all(self) -> list[Slot]:
        with self.lock:
            return list(self.by_name.values())

    def release(self, slot: Slot) -> None:
        """Free the slot if it still holds this worker (a re-dock may have replaced it)."""
        with self.lock:
            if self.by_name.get(slot.device.slot) is slot:
                del self.by_name[slot.device.slot]


class SlotWorker:
    """What runs in a slot's thread."""

    def __init__(
        self,
        sessions: DockSession,
        clock_setting: RecorderClockSetting,
        clearing: RecorderClearing,
        mounter: Mounter,
        write_block: WriteBlocker,
        board: StatusBoard,
        slots: Slots,
        drops: DropFolders | None,
        raw: RawVolumes,
        detector: Detector,
        unit_read_only: bool = False,
    ) -> None:
        """`unit_read_only`: the service's device rule opens recorders read-only (see
        systemd/dockd.service): a write to one is refused here, with the fix, not by EPERM."""
        self.sessions, self.clock_setting, self.detector = sessions, clock_setting, detector
        self.clearing, self.unit_read_only = clearing, unit_read_only
        self.mounter, self.write_block, self.raw = mounter, write_block, raw
        self.board, self.slots, self.drops = board, slots, drops

    def ingest_drop(self, slot: Slot, folder: Path) -> None:
        """A drop folder's serial subfolder went quiet: ingest what in it is complete."""
        assert self.drops is not None
        device = slot.device
        try:
            outcome = self.sessions.ingest(
                folder,
                device.serial,
                device.profile,
                slot=device.slot,
                cancel=slot.cancel,
                ready=self.drops.ready_filter(folder),
                progress=SlotProgress(self.board, device.slot),
            )
            if outcome.deferred:
                self.drops.touch(folder)
        except DockdError as exc:
            log.error(
                "problem",
                serial=device.serial,
                slot=device.slot,
                code=exc.code,
                message=exc.message,
                hint=exc.hint,
            )
        except Exception:
            log.exception("internal-error", serial=device.serial, slot=device.slot)
        finally:
            self.slots.release(slot)
            self.board.clear(device.slot)

    def dock(self, slot: Slot) -> None:
        device = slot.device
        bound = log.bind(serial=device.serial, slot=device.slot)
        mountpoint: Path | None = None
        evidence: VolumeEvidence | None = None
        state: SlotState = "error"
        try:
            self.write_block(device.devnode, True)
            evidence = self._examine(device.devnode)
            mountpoint = self._mount(device)
            device, mountpoint, findings = self._identify(device, mountpoint)
            bound = bound.bind(serial=device.serial)
            bound.info("copy-started", mountpoint=str(mountpoint), profile=device.profile)
            outcome = self.sessions.ingest(
                mountpoint,
                device.serial,
                device.profile,
                slot=device.slot,
                cancel=slot.cancel,
                local_file_times=device.fs_type == "vfat",
                progress=SlotProgress(self.board, device.slot),
                evidence=evidence,
                findings=findings,
            )
            slot.session = outcome.session_id
            state = "interrupted" if outcome.state in ("interrupted", "failed") else "done"
            if outcome.error is not None:
                self.board.show_error(device.slot, outcome.error, state=state)
            elif outcome.incomplete:
                self._show_incomplete(device.slot, outcome.incomplete)
            set_clock, clear = (
                self._writes_after_offload(device, outcome) if state == "done" else (False, False)
            )
            if set_clock or clear:
                self.mounter.unmount(mountpoint)
                mountpoint = None
                cleared = self._write_recorder(device, outcome.session_id, set_clock, clear)
                if cleared is not None and cleared.awaiting_central:
                    slot.late_clear = LateClear(
                        device,
                        outcome.session_id,
                        outcome.state,
                        outcome.fully_verified,
                        cleared.awaiting_central,
                        evidence.device_bytes,
                        evidence.boot,
                    )
        except RecorderBusyError as exc:  # udev gave us a recorder already being copied
            self.board.show_error(device.slot, exc, state="error")
            bound.error("problem", session=exc.session_id, code=exc.code, message=exc.message)
        except DockdError as exc:
            session = self.sessions.record_failed_dock(
                device.serial, device.profile, device.slot, device.devnode, exc, evidence
            )
            slot.session = session
            self.board.show_error(device.slot, exc, state="error")
            bound.error(
                "problem", session=session, code=exc.code, message=exc.message, hint=exc.hint
            )
        except Exception as exc:
            self._show_internal(device.slot, "error", exc, bound)
        finally:
            if mountpoint is not None:
                self.mounter.unmount(mountpoint)
        self._done(slot, state, bound)

    def clear_late(self, slot: Slot) -> None:
        """A forwarding pass ended: clear the recorder still docked here if the recordings
        its clearing kept back are now confirmed centrally. The same use case and checks as
        after the dock: the pack, the station's switch and the holds are asked again (and
        before each file), each file is re-checked just before its deletion. Minutes or
        hours have passed since the dock: the volume is identified again, from its boot
        region and volume id before the write block is lifted, and as detection does
        (serial, model) on the read-write mount, before anything is deleted."""
        late = slot.late_clear
        if late is None or slot.cancel.is_set():
            return
        device = late.device
        bound = log.bind(serial=device.serial, slot=device.slot)
        try:
            if not self.clearing.confirmed_since(device.serial, late.awaiting):
                return
            slot.late_clear = None
            refusal = self.clearing.refusal(device.serial, late.state, late.fully_verified)
            if refusal is not None:
                bound.info("recorder-not-cleared", reason=refusal)
                self.board.show_not_cleared(device.slot, refusal)
                return
            bound.info("recorder-clearing-late", session=late.session_id)
            self.board.set(device.slot, state="mounting", message=Said("clearing the recorder"))
            self._same_volume(late)
            cleared = self._write_recorder(device, late.session_id, False, True, again=True)
            if cleared is not None and cleared.awaiting_central:
                slot.late_clear = replace(late, awaiting=cleared.awaiting_central)
        except DockdError as exc:
            self.board.show_error(device.slot, exc, state="done")
            bound.error("problem", code=exc.code, message=exc.message, hint=exc.hint)
        except Exception as exc:
            self._show_internal(device.slot, "done", exc, bound)
        self._done(slot, "done", bound)

    def _done(
        self, slot: Slot, state: SlotState, bound: structlog.typing.FilteringBoundLogger
    ) -> None:
        name = slot.device.slot
        self.board.set(name, state=state, session=slot.session)
        if state == "done":
            bound.info("safe-to-unplug", session=slot.session)
        elif state == "interrupted":
            bound.warning("interrupted", session=slot.session)
        if slot.cancel.is_set():
            self.slots.release(slot)
            self.board.clear(name)

    def _identify(
        self, device: RecorderDevice, mountpoint: Path
    ) -> tuple[RecorderDevice, Path, list[Problem]]:
        """Model and serial from the volume's content (remounted when the model's clock
        zone differs from the one it was mounted with: FAT file times depend on it)."""
        found = self.detector.detect(mountpoint, device)
        identified = replace(
            device, profile=found.profile, serial=found.serial, serial_source=found.serial_source
        )
        if self.sessions.zone_of(found.profile) != self.sessions.zone_of(device.profile):
            self.mounter.unmount(mountpoint)
            mountpoint = self._mount(identified)
        log.info(
            "identified",
            slot=device.slot,
            serial=found.serial,
            serial_source=found.serial_source,
            profile=found.profile,
            chosen_by=found.how,
        )
        self.board.set(device.slot, serial=found.serial, profile=found.profile)
        return identified, mountpoint, found.problems

    def _mount(self, device: RecorderDevice) -> Path:
        """Media that has just appeared may not be readable yet (size still 0 while a loop
        device or card reader settles): one retry a second later before calling it broken."""
        zone = self.sessions.zone_of(device.profile)
        try:
            return self.mounter.mount(device.devnode, device.fs_type, device.slot, zone)
        except UnknownFilesystemError:
            raise
        except MountError:
            time.sleep(MOUNT_RETRY_S)
            return self.mounter.mount(device.devnode, device.fs_type, device.slot, zone)

    def _examine(self, devnode: str) -> VolumeEvidence:
        """The recorder's filesystem from its own bytes, before a driver decides what it
        shows; a device that cannot even be read that far is the session's problem. Media
        that has just appeared may still show size 0: one retry a second later."""
        try:
            evidence = self.raw.examine(devnode)
            if evidence.device_bytes == 0:
                time.sleep(MOUNT_RETRY_S)
                evidence = self.raw.examine(devnode)
            return evidence
        except DockdError as exc:
            return VolumeEvidence(0, None, exc.message)

    def _show_incomplete(self, slot: str, problems: list[Problem]) -> None:
        codes = ", ".join(sorted({p.code for p in problems}))
        self.board.set(
            slot,
            message=Said(
                "the recorder may hold recordings that could not be copied ({codes})", codes=codes
            ),
            code=INCOMPLETE_CODE,
            hint=Said("Hand the recorder to the admin before it is used or wiped again."),
        )

    def _show_internal(
        self,
        slot: str,
        state: SlotState,
        exc: Exception,
        bound: structlog.typing.FilteringBoundLogger,
    ) -> None:
        """A fault dockd did not foresee: on the board as INTERNAL, in the journal whole."""
        error = InternalError("{kind}: {error}", kind=type(exc).__name__, error=exc)
        self.board.show_error(slot, error, state=state)
        bound.exception("internal-error")

    def _writes_after_offload(
        self, device: RecorderDevice, outcome: SessionOutcome
    ) -> tuple[bool, bool]:
        """Whether the verified recorder gets its clock set, and whether it is cleared.
        A clearing the station asked for and did not get says why on the board."""
        clock = outcome.fully_verified and self.clock_setting.allowed(device.profile)
        clear = False
        if self.clearing.enabled:
            refusal = self.clearing.refusal(device.serial, outcome.state, outcome.fully_verified)
            clear = refusal is None
            if refusal is not None:
                log.info("recorder-not-cleared", serial=device.serial, reason=refusal)
                if outcome.error is None and not outcome.incomplete:
                    self.board.show_not_cleared(device.slot, refusal)
        if (clock or clear) and self.unit_read_only:
            blocked = RecorderWritesBlockedError(
                "the recorder was not written to (clock set, clearing): dockd.service opens "
                "recorders read-only"
            )
            log.warning("recorder-writes-blocked", serial=device.serial, hint=blocked.hint)
            if outcome.error is None and not outcome.incomplete:
                self.board.show_error(device.slot, blocked)
            return False, False
        return clock, clear

    def _same_volume(self, late: LateClear) -> None:
        """The volume at the devnode, still write-blocked, is the one docked: same size,
        same boot region with the same volume id. Otherwise nothing is deleted."""
        device = late.device
        now = self.raw.examine(device.devnode)
        if (now.device_bytes, now.boot) != (late.device_bytes, late.boot):
            raise RecorderClearError(
                "{devnode} is no longer the volume docked as {serial} (its size, boot region "
                "or volume id changed): nothing was deleted from it",
                devnode=device.devnode,
                serial=device.serial,
            )

    def _same_recorder(self, device: RecorderDevice, mountpoint: Path) -> None:
        """On the read-write mount, detection finds the serial and model it found at the
        dock. Otherwise nothing is deleted."""
        found = self.detector.detect(mountpoint, device)
        if (found.serial, found.profile) != (device.serial, device.profile):
            raise RecorderClearError(
                "{devnode} now reads as serial {found} ({found_profile}), not {serial} "
                "({profile}) as docked: nothing was deleted from it",
                devnode=device.devnode,
                found=found.serial,
                found_profile=found.profile,
                serial=device.serial,
                profile=device.profile,
            )

    def _write_recorder(
        self,
        device: RecorderDevice,
        session_id: str,
        set_clock: bool,
        clear: bool,
        again: bool = False,
    ) -> ClearResult | None:
        """The only writes dockd ever makes to a recorder, after the whole session is
        verified, on a separate read-write mount: its clock-set file, and clearing.
        `again`: a late clearing, which first finds the recorder it docked on that mount."""
        result: ClearResult | None = None
        self.write_block(device.devnode, False)
        try:
            zone = self.sessions.zone_of(device.profile)
            mountpoint = self.mounter.mount(
                device.devnode, device.fs_type, device.slot, zone, writable=True
            )
            try:
                if again:
                    self._same_recorder(device, mountpoint)
                if set_clock:
                    self.clock_setting.write(mountpoint, device.profile, device.serial, session_id)
                if clear:
                    result = self.clearing.clear(
                        mountpoint, device.profile, device.serial, session_id
                    )
                    self.board.show_cleared(device.slot, result)
            finally:
                self.mounter.unmount(mountpoint)
        finally:
            self.write_block(device.devnode, True)
        return result
