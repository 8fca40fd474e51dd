"""`dockd run`: the service an officer never sees.

One worker per docked recorder, up to [daemon] max_parallel (the work of one slot is
`dockd.daemon.slots`). This loop turns device events and quiet drop folders into
slots, reconciles against what udev says is present, and keeps systemd informed.
SIGTERM stops new work, abandons the files in flight at the next chunk, unmounts and
exits.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import structlog

from dockd.core.devices import DeviceEvent, RecorderDevice, slot_name
from dockd.daemon.board import StatusBoard
from dockd.daemon.forwarding import BackgroundForwarder
from dockd.daemon.slots import Slot, Slots, SlotWorker
from dockd.daemon.unlock import Unlocker, board_slot
from dockd.errors import DockdError
from dockd.ports import DeviceSource, DropFolders

log = structlog.get_logger("dockd.daemon.loop")
Notify = Callable[[str], None]
SHUTDOWN_GRACE_S = 30.0
RESCAN_S = 2.0
SETTLE_S = 3.0


class WebService(Protocol):
    """The status pages (dockd.web.server.WebServer): up before the first recorder, down last."""

    def start(self) -> bool: ...

    def stop(self) -> None: ...


class Daemon:
    def __init__(
        self,
        devices: DeviceSource,
        worker: SlotWorker,
        slots: Slots,
        board: StatusBoard,
        notify: Notify,
        max_parallel: int,
        drops: DropFolders | None = None,
        drop_profile: str = "generic",
        web: WebService | None = None,
        unlocker: Unlocker | None = None,
        unplugged: Callable[[str, str | None], None] | None = None,
        forwarding: BackgroundForwarder | None = None,
    ) -> None:
        self.devices, self.worker, self.slots = devices, worker, slots
        self.board, self.notify = board, notify
        self.drops, self.drop_profile, self.web = drops, drop_profile, web
        self.unlocker = unlocker
        self.unplugged = unplugged
        self.forwarding = forwarding
        if forwarding is not None:
            forwarding.after_each_pass(self._clear_confirmed)
        self.stop = threading.Event()
        self._unformatted: dict[str, float] = {}
        self._unlocking: set[str] = set()
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="dockd-slot")

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._told_to_stop())
        if self.web is not None:
            self.web.start()
        if not self.devices.running():
            log.warning(
                "no-udevd",
                watching=[str(r) for r in self.drops.roots] if self.drops else [],
                message="udevd is not running: recorders will not be "
                "detected until it is (apt-get install udev; systemd-udevd)",
            )
        self._reconcile(self.devices.start())
        if self.drops is not None:
            self.drops.start()
        self.notify("READY=1")
        log.info("ready", slots=len(self.slots.by_name))
        if self.forwarding is not None:
            self.forwarding.start()
        last_scan = time.monotonic()
        while not self.stop.is_set():
            for event in self.devices.poll(timeout=1.0):
                self._handle(event)
            if self.drops is not None:
                for folder in self.drops.due():
                    self._dropped(folder)
            if time.monotonic() - last_scan >= RESCAN_S:
                self._reconcile(self.devices.present())
                last_scan = time.monotonic()
            self.notify("WATCHDOG=1\nSTATUS=" + self.board.summary())
        self._shutdown()
        return 0

    def _told_to_stop(self) -> None:
        """SIGTERM or SIGINT: a forwarding pass stops sending now, not after the loop's
        poll and the slots' shutdown."""
        self.stop.set()
        if self.forwarding is not None:
            self.forwarding.cancel()

    def _reconcile(self, present: list[RecorderDevice]) -> None:
        """Dock what udev says is present and we do not hold; release what has gone."""
        nodes = {r.devnode for r in present}
        gone = [
            s.device.devnode
            for s in self.slots.all()
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
        self._unlock(event)
        if event.action == "remove":
            self._removed(event.devnode)
        elif event.action == "change" and event.recorder is None:
            busy = any(
                s.device.devnode == event.devnode and s.job is not None and not s.job.done()
                for s in self.slots.all()
            )
            if not busy and event.devnode not in {r.devnode for r in self.devices.present()}:
                self._removed(event.devnode)
        elif event.action in ("add", "change") and event.recorder is not None:
            self._docked(event.recorder)

    def _unlock(self, event: DeviceEvent) -> None:
        """Once per appearance of a USB device a profile must unlock (udev may repeat
        'change' for it); its going away, or losing the tag, allows the next attempt."""
        if event.unlock_profile is None or event.action == "remove":
            if event.devnode in self._unlocking:
                self._unlocking.discard(event.devnode)
                self.board.clear(board_slot(event.devnode))
            return
        if self.unlocker is None or event.devnode in self._unlocking:
            return
        self._unlocking.add(event.devnode)
        self._pool.submit(self.unlocker.unlock, event.devnode, event.unlock_profile)

    def _removed(self, devnode: str) -> None:
        self._unformatted.pop(devnode, None)
        for slot in [s for s in self.slots.all() if s.device.devnode == devnode]:
            slot.cancel.set()
            if slot.job is None or slot.job.done():
                with self.slots.lock:
                    self.slots.by_name.pop(slot.device.slot, None)
                self.board.clear(slot.device.slot)
                if self.unplugged is not None and slot.session is not None:
                    self._note_unplug(slot.device.serial, slot.session)
            log.info("removed", serial=slot.device.serial, slot=slot.device.slot)

    def _note_unplug(self, serial: str, session: str) -> None:
        """The media-return clock (003/E:9) starts when a docked recorder is taken away; a
        ledger fault here is logged, never allowed to stop the dock."""
        assert self.unplugged is not None
        try:
            self.unplugged(serial, session)
        except DockdError as exc:
            log.error("unplug-not-recorded", serial=serial, code=exc.code, message=exc.message)

    def _settling(self, recorder: RecorderDevice) -> bool:
        """Media announce themselves in steps (loop attach, card readers): no filesystem
        yet may mean 'not yet'. Only one still without any after SETTLE_S is corrupt."""
        if recorder.fs_type is not None:
            self._unformatted.pop(recorder.devnode, None)
            return False
        first = self._unformatted.setdefault(recorder.devnode, time.monotonic())
        return time.monotonic() - first < SETTLE_S

    def _docked(self, recorder: RecorderDevice) -> None:
        if self._settling(recorder):
            return
        with self.slots.lock:
            current = self.slots.by_name.get(recorder.slot)
            if current is not None and current.device == recorder:
                return  # already docked: a repeated change event is not a new dock
            slot = Slot(recorder)
            self.slots.by_name[recorder.slot] = slot
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
        slot.job = self._pool.submit(self.worker.dock, slot)
        self._forward_after(slot)

    def _dropped(self, folder: Path) -> None:
        """A drop folder's serial subfolder went quiet: a slot of its own ingests it."""
        name = slot_name("drop-" + folder.name)
        with self.slots.lock:
            busy = name in self.slots.by_name
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
                self.slots.by_name[name] = slot
                self.board.set(name, state="copying", serial=device.serial, profile=device.profile)
        if busy:
            assert self.drops is not None
            self.drops.touch(folder)
            return
        slot.job = self._pool.submit(self.worker.ingest_drop, slot, folder)
        self._forward_after(slot)

    def _forward_after(self, slot: Slot) -> None:
        """A dock session's end starts a forwarding pass for what it copied."""
        if self.forwarding is not None and slot.job is not None:
            forwarding = self.forwarding
            slot.job.add_done_callback(lambda _: forwarding.kick())

    def _clear_confirmed(self) -> None:
        """After a forwarding pass: each recorder still docked whose clearing waited for the
        central confirmation gets a clearing job, which goes ahead once the confirmation is
        there. One unplugged meanwhile has left its slot, and is cleared at its next dock."""
        with self.slots.lock:
            for slot in self.slots.by_name.values():
                idle = slot.job is None or slot.job.done()
                if slot.late_clear is None or slot.cancel.is_set() or not idle:
                    continue
                if self.stop.is_set():
                    return
                slot.job = self._pool.submit(self.worker.clear_late, slot)

    def _shutdown(self) -> None:
        self.notify("STOPPING=1")
        log.info("stopping")
        slots = self.slots.all()
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
        if self.forwarding is not None:
            # an upload cut here is aborted by the next start (abort_unfinished)
            self.forwarding.stop(timeout=5.0)
        if self.web is not None:
            self.web.stop()
