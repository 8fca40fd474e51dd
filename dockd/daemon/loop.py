"""`dockd run`: the service an officer never sees.

One worker per docked recorder, up to [daemon] max_parallel. Each worker
write-blocks, mounts read-only, ingests, unmounts and says when it is safe to
unplug. A recorder removed mid-copy cancels its own session only. SIGTERM stops
new work, abandons the files in flight at the next chunk, unmounts and exits.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog

from dockd.adapters.blockdev import set_read_only
from dockd.adapters.dropfolder import DropFolders
from dockd.adapters.mount import Mounter, MountError, UnknownFilesystemError
from dockd.adapters.udev import DeviceEvent, UdevSource, udevd_running
from dockd.core.devices import RecorderDevice, slot_name
from dockd.daemon.board import SlotProgress, SlotState, StatusBoard
from dockd.errors import DockdError, InternalError
from dockd.services.dock_session import Ingestor

log = structlog.get_logger("dockd.daemon.loop")
Notify = Callable[[str], None]
SHUTDOWN_GRACE_S = 30.0
RESCAN_S = 2.0
SETTLE_S = 3.0
MOUNT_RETRY_S = 1.0


class WebService(Protocol):
    """The status pages (dockd.web.server.WebServer): up before the first recorder, down last."""

    def start(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass
class Slot:
    """A docked recorder (or a drop folder) and its worker; what it shows is on the board."""

    device: RecorderDevice
    drop_folder: Path | None = None
    session: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    job: Future[None] | None = None


class Daemon:
    def __init__(
        self,
        ingestor: Ingestor,
        mounter: Mounter,
        max_parallel: int,
        notify: Notify,
        board: StatusBoard,
        drops: DropFolders | None = None,
        drop_profile: str = "generic",
    ) -> None:
        self.ingestor = ingestor
        self.mounter = mounter
        self.board = board
        self.drops = drops
        self.drop_profile = drop_profile
        self.notify = notify
        self.stop = threading.Event()
        self.slots: dict[str, Slot] = {}
        self._unformatted: dict[str, float] = {}
        self._lock = threading.Lock()
        self.web: WebService | None = None
        self._present: Callable[[], list[RecorderDevice]] = list
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="dockd-slot")

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        if self.web is not None:
            self.web.start()
        source = UdevSource()
        self._present = source.present
        if not udevd_running():
            log.warning(
                "no-udevd",
                watching=[str(r) for r in self.drops.roots] if self.drops else [],
                message="udevd is not running: recorders will not be "
                "detected until it is (apt-get install udev; systemd-udevd)",
            )
        self._reconcile(source.start())
        if self.drops is not None:
            self.drops.start()
        self.notify("READY=1")
        log.info("ready", slots=len(self.slots))
        last_scan = time.monotonic()
        while not self.stop.is_set():
            for event in source.poll(timeout=1.0):
                self._handle(event)
            if self.drops is not None:
                for folder in self.drops.due():
                    self._dropped(folder)
            if time.monotonic() - last_scan >= RESCAN_S:
                self._reconcile(source.present())
                last_scan = time.monotonic()
            self.notify("WATCHDOG=1\nSTATUS=" + self.board.summary())
        self._shutdown()
        return 0

    def _reconcile(self, present: list[RecorderDevice]) -> None:
        """Dock what udev says is present and we do not hold; release what has gone."""
        nodes = {r.devnode for r in present}
        with self._lock:
            gone = [
                s.device.devnode
                for s in self.slots.values()
                if s.drop_folder is None and s.device.devnode not in nodes
            ]
        for devnode in gone:
            self._removed(devnode)
        for recorder in present:
            self._docked(recorder)

    def _handle(self, event: DeviceEvent) -> None:
        """'change' without the recorder tag may mean its media went away (loop detach, card
        pulled from a reader), or only that udev probed the device while we held it (our
        own mounts): it frees a finished slot once udev's database agrees it is gone. A
        running copy learns of a yank from its own I/O errors, or from 'remove'."""
        if event.action == "remove":
            self._removed(event.devnode)
        elif event.action == "change" and event.recorder is None:
            with self._lock:
                busy = any(
                    s.device.devnode == event.devnode and s.job is not None and not s.job.done()
                    for s in self.slots.values()
                )
            if not busy and event.devnode not in {r.devnode for r in self._present()}:
                self._removed(event.devnode)
        elif event.action in ("add", "change") and event.recorder is not None:
            self._docked(event.recorder)

    def _removed(self, devnode: str) -> None:
        self._unformatted.pop(devnode, None)
        with self._lock:
            gone = [s for s in self.slots.values() if s.device.devnode == devnode]
        for slot in gone:
            slot.cancel.set()
            if slot.job is None or slot.job.done():
                with self._lock:
                    self.slots.pop(slot.device.slot, None)
                self.board.clear(slot.device.slot)
            log.info("removed", serial=slot.device.serial, slot=slot.device.slot)

    def _docked(self, recorder: RecorderDevice) -> None:
        if recorder.fs_type is None:
            # Media announce themselves in steps (loop attach, card readers): no filesystem
            # yet may mean 'not yet'. Only one still without any after SETTLE_S is corrupt.
            first = self._unformatted.setdefault(recorder.devnode, time.monotonic())
            if time.monotonic() - first < SETTLE_S:
                return
        else:
            self._unformatted.pop(recorder.devnode, None)
        with self._lock:
            current = self.slots.get(recorder.slot)
            if current is not None and current.device == recorder:
                return  # already docked: a repeated change event is not a new dock
            slot = Slot(recorder)
            self.slots[recorder.slot] = slot
        self.board.set(
            recorder.slot,
            state="mounting",
            serial=recorder.serial,
            profile=recorder.profile,
            session=None,
            message=None,
            code=None,
            hint=None,
            files_total=0,
            files_done=0,
            bytes_total=0,
            bytes_done=0,
        )
        log.info(
            "docked",
            serial=recorder.serial,
            slot=recorder.slot,
            devnode=recorder.devnode,
            profile=recorder.profile,
            fs=recorder.fs_type,
            serial_source=recorder.serial_source,
        )
        slot.job = self._pool.submit(self._dock, slot)

    def _dropped(self, folder: Path) -> None:
        """A drop folder's serial subfolder went quiet: ingest what in it is complete."""
        name = slot_name("drop-" + folder.name)
        with self._lock:
            busy = name in self.slots
            if not busy:
                device = RecorderDevice(
                    devnode=str(folder),
                    serial=folder.name,
                    profile=self.drop_profile,
                    slot=name,
                    fs_type=None,
                    serial_source="drop-folder",
                )
                slot = Slot(device, drop_folder=folder)
                self.slots[name] = slot
                self.board.set(name, state="copying", serial=device.serial, profile=device.profile)
        if busy:
            assert self.drops is not None
            self.drops.touch(folder)
            return
        slot.job = self._pool.submit(self._ingest_drop, slot, folder)

    def _ingest_drop(self, slot: Slot, folder: Path) -> None:
        assert self.drops is not None
        device = slot.device
        try:
            outcome = self.ingestor.ingest(
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
            with self._lock:
                self.slots.pop(device.slot, None)
            self.board.clear(device.slot)

    def _dock(self, slot: Slot) -> None:
        device = slot.device
        bound = log.bind(serial=device.serial, slot=device.slot)
        mountpoint: Path | None = None
        state: SlotState = "error"
        try:
            set_read_only(device.devnode)
            mountpoint = self._mount(device)
            bound.info("copy-started", mountpoint=str(mountpoint))
            outcome = self.ingestor.ingest(
                mountpoint,
                device.serial,
                device.profile,
                slot=device.slot,
                cancel=slot.cancel,
                local_file_times=device.fs_type == "vfat",
                progress=SlotProgress(self.board, device.slot),
            )
            slot.session = outcome.session_id
            state = "interrupted" if outcome.state in ("interrupted", "failed") else "done"
            if outcome.error is not None:
                self._show_error(device.slot, state, outcome.error)
            if (
                state == "done"
                and outcome.fully_verified
                and self.ingestor.may_set_clock(device.profile)
            ):
                self.mounter.unmount(mountpoint)
                mountpoint = None
                self._set_recorder_clock(slot, outcome.session_id)
        except DockdError as exc:
            session = self.ingestor.record_failed_dock(
                device.serial, device.profile, device.slot, device.devnode, exc
            )
            slot.session = session
            self._show_error(device.slot, "error", exc)
            bound.error(
                "problem", session=session, code=exc.code, message=exc.message, hint=exc.hint
            )
        except Exception as exc:
            self._show_error(device.slot, "error", InternalError(f"{type(exc).__name__}: {exc}"))
            bound.exception("internal-error")
        finally:
            if mountpoint is not None:
                self.mounter.unmount(mountpoint)
        self.board.set(device.slot, state=state, session=slot.session)
        if state == "done":
            bound.info("safe-to-unplug", session=slot.session)
        elif state == "interrupted":
            bound.warning("interrupted", session=slot.session)
        if slot.cancel.is_set():
            with self._lock:
                if self.slots.get(device.slot) is slot:
                    del self.slots[device.slot]
            self.board.clear(device.slot)

    def _mount(self, device: RecorderDevice) -> Path:
        """Media that has just appeared may not be readable yet (size still 0 while a loop
        device or card reader settles): one retry a second later before calling it broken."""
        zone = self._zone(device)
        try:
            return self.mounter.mount(device.devnode, device.fs_type, device.slot, zone)
        except UnknownFilesystemError:
            raise
        except MountError:
            time.sleep(MOUNT_RETRY_S)
            return self.mounter.mount(device.devnode, device.fs_type, device.slot, zone)

    def _zone(self, device: RecorderDevice) -> str:
        """The recorder's time zone; an unknown profile is reported by the ingest itself."""
        profile = self.ingestor.profiles.get(device.profile)
        return profile.timezone if profile is not None else "UTC"

    def _show_error(self, slot: str, state: SlotState, error: DockdError) -> None:
        self.board.set(slot, state=state, message=error.message, code=error.code, hint=error.hint)

    def _set_recorder_clock(self, slot: Slot, session_id: str) -> None:
        """The only write dockd ever makes to a recorder: its clock-set file, after the whole
        session is verified, on a separate read-write mount that touches nothing else."""
        device = slot.device
        set_read_only(device.devnode, False)
        try:
            mountpoint = self.mounter.mount(
                device.devnode, device.fs_type, device.slot, self._zone(device), writable=True
            )
            try:
                self.ingestor.write_clock_set_file(
                    mountpoint, device.profile, device.serial, session_id
                )
            finally:
                self.mounter.unmount(mountpoint)
        finally:
            set_read_only(device.devnode, True)

    def _shutdown(self) -> None:
        self.notify("STOPPING=1")
        log.info("stopping")
        with self._lock:
            slots = list(self.slots.values())
        for slot in slots:
            slot.cancel.set()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        for slot in slots:
            if slot.job is not None:
                try:
                    slot.job.exception(timeout=max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    log.error("stop-timeout", serial=slot.device.serial, slot=slot.device.slot)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.web is not None:
            self.web.stop()
