"""udev: recorders appearing and disappearing, and those already present at start-up.

The monitor is started *before* the enumeration of present devices, so a
recorder plugged in during start-up is seen by one or the other, never neither.
It also hears USB devices (not disks) that a profile's unlock command must switch to
mass storage (DOCKD_UNLOCK, set by udev/99-dockd.rules). Those already present (a
locked recorder left in a bay over a reboot or a dockd restart) have no event to come:
the enumerations announce them as 'add' events of their own, as `udevadm trigger` would.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

import pyudev

from dockd.core.devices import (
    DeviceEvent,
    DeviceScope,
    RecorderDevice,
    disks_beneath,
    recorder_from_properties,
    unlock_profile,
)

UDEV_CONTROL = Path("/run/udev/control")


def _disk(device: pyudev.Device) -> str | None:
    """The whole disk a block device is on: itself, or a partition's parent."""
    if device.device_type == "partition":
        parent = device.find_parent("block", "disk")
        return parent.device_node if parent is not None else None
    return str(device.device_node) if device.device_node else None


def _built_on(context: pyudev.Context, devnode: str) -> list[str]:
    """The whole disks a dm (LVM, LUKS) or md device is built on: sysfs `slaves/`."""
    slaves = Path("/sys/class/block", Path(devnode).name, "slaves")
    disks = []
    for slave in sorted(slaves.iterdir()) if slaves.is_dir() else ():
        disk = _disk(pyudev.Devices.from_path(context, str(slave.resolve())))
        if disk is not None:
            disks.append(disk)
    return disks


def _unescaped(field: str) -> str:
    """A mountinfo path: spaces, tabs and backslashes are written as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda code: chr(int(code.group(1), 8)), field)


def _mount_source(path: Path) -> str | None:
    """The device named by the mount that holds `path`. btrfs gives each subvolume an
    anonymous st_dev (major 0) that is no block device and not even the one mountinfo
    shows, so the mount is found by its mount point: the deepest one above `path`, the
    last mounted there."""
    target = os.path.realpath(path)
    best: tuple[int, str | None] = (-1, None)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = _unescaped(fields[4])
        if os.path.commonpath([point, target]) == point and len(point) >= best[0]:
            source = _unescaped(fields[fields.index("-") + 2])
            best = (len(point), source if source.startswith("/dev/") else None)
    return best[1]


def _btrfs_members(context: pyudev.Context, device: pyudev.Device) -> list[pyudev.Device]:
    """All devices of the btrfs `device` belongs to (/sys/fs/btrfs/FSID/devices): a
    multi-device btrfs names only one of them as its mount source."""
    for members in Path("/sys/fs/btrfs").glob("*/devices"):
        names = {member.name for member in members.iterdir()}
        if device.sys_name in names:
            return [pyudev.Devices.from_name(context, "block", name) for name in sorted(names)]
    return [device]


def _block_devices(context: pyudev.Context, path: Path) -> list[pyudev.Device]:
    number = os.stat(path).st_dev
    if os.major(number) != 0:
        return [pyudev.Devices.from_device_number(context, "block", number)]
    source = _mount_source(path)
    if source is None:  # tmpfs, overlay, NFS: on no block device
        return []
    device = pyudev.Devices.from_device_file(context, source)
    return _btrfs_members(context, device) if device.subsystem == "block" else []


def system_disks(context: pyudev.Context, paths: Iterable[Path]) -> frozenset[str]:
    """The disks holding these paths (/ and the store), down to the physical ones under
    dm, md and btrfs: never recorders, whatever udev says. Paths on no block device
    (tmpfs, overlay) hold none."""
    disks: set[str] = set()
    for path in paths:
        try:
            devices = _block_devices(context, path)
        except (OSError, ValueError, pyudev.DeviceNotFoundError):  # ValueError: no device file
            continue
        for device in devices:
            disk = _disk(device)
            if disk is not None:
                disks.update(disks_beneath(disk, partial(_built_on, context)))
    return frozenset(disks)


def udevd_running() -> bool:
    """Connect to udevd's control socket: a udevd that died leaves the socket file behind."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as control:
        try:
            control.connect(str(UDEV_CONTROL))
        except OSError:
            return False
    return True


class UdevSource:
    def __init__(self, ports: list[str], own_paths: Iterable[Path]) -> None:
        self._context = pyudev.Context()
        self._monitor = pyudev.Monitor.from_netlink(self._context)
        self._monitor.filter_by(subsystem="block")
        self._monitor.filter_by(subsystem="usb", device_type="usb_device")
        self._scope = DeviceScope(tuple(ports), system_disks(self._context, own_paths))
        self._present_locked: list[DeviceEvent] = []

    def _recorder(self, device: pyudev.Device) -> RecorderDevice | None:
        partitioned = device.device_type == "disk" and any(
            child.device_type == "partition" for child in device.children
        )
        return recorder_from_properties(
            device.device_node, dict(device.properties), partitioned, self._scope, _disk(device)
        )

    def running(self) -> bool:
        return udevd_running()

    def start(self) -> list[RecorderDevice]:
        """Listen, then list the recorders already docked (the cold-plug scan)."""
        self._monitor.start()
        return self.present()

    def present(self) -> list[RecorderDevice]:
        """Recorders in udev's database now: the truth that events only announce.

        Events can be missed or arrive before udev has finished tagging a device
        (loop devices and card readers announce media with several 'change'
        events), so the daemon also reconciles against this list periodically.
        """
        found = []
        for device in self._context.list_devices(subsystem="block", DOCKD_RECORDER="1"):
            recorder = self._recorder(device)
            if recorder is not None:
                found.append(recorder)
        self._present_locked = list(self._locked())
        return found

    def _locked(self) -> Iterator[DeviceEvent]:
        """Devices tagged for unlock now, of the kinds the monitor hears (the daemon unlocks
        each once per appearance, however often it is announced)."""
        for device in self._context.list_devices(DOCKD_UNLOCK="*"):
            heard = device.subsystem == "block" or (
                device.subsystem == "usb" and device.device_type == "usb_device"
            )
            profile = unlock_profile(dict(device.properties))
            if heard and profile is not None:
                yield DeviceEvent("add", str(device.device_node), None, profile)

    def poll(self, timeout: float) -> Iterator[DeviceEvent]:
        while self._present_locked:
            yield self._present_locked.pop(0)
        device = self._monitor.poll(timeout=timeout)
        while device is not None:
            node = device.device_node
            if node is not None:
                props = dict(device.properties)
                yield DeviceEvent(
                    device.action or "change",
                    node,
                    recorder_from_properties(node, props, False, self._scope, _disk(device))
                    if device.subsystem == "block"
                    else None,
                    unlock_profile(props),
                )
            device = self._monitor.poll(timeout=0)
