"""Which udev block devices are recorders, and what they are called.

Pure over the device's udev properties (see the contract in DESIGN.md). A dock is a
dedicated machine: the shipped rule tags every USB mass-storage disk and partition
DOCKD_RECORDER=1, and the daemon takes those on its ports ([daemon] ports, ID_PATH
globs, "*" = all), never the disks holding / or the store, down to the physical disks
under a dm, md or btrfs store (see `disks_beneath`). The serial comes from
DOCKD_SERIAL or the USB descriptor, the slot from DOCKD_SLOT or the USB port path;
DOCKD_PROFILE is the profile a declared USB id names (the volume's content decides
first, see dockd.core.detect). DOCKD_UNLOCK names the profile whose vendor command
switches a USB device to mass storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class RecorderDevice:
    devnode: str
    serial: str
    profile: str
    slot: str
    fs_type: str | None
    serial_source: str
    declared_profile: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A udev event as the daemon sees it: `recorder` is None when the device is not one."""

    action: str
    devnode: str
    recorder: RecorderDevice | None
    unlock_profile: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceScope:
    """Which tagged devices the dock takes: those on its ports, none of its own disks."""

    ports: Sequence[str] = ("*",)
    system_disks: frozenset[str] = frozenset()

    def takes(self, props: Mapping[str, str], disk: str | None) -> bool:
        if disk is not None and disk in self.system_disks:
            return False
        if "*" in self.ports:
            return True
        path = props.get("ID_PATH")
        return path is not None and any(fnmatchcase(path, glob) for glob in self.ports)


def disks_beneath(disk: str, built_on: Callable[[str], Iterable[str]]) -> Iterator[str]:
    """`disk` and every disk it is built on, however deep: LUKS on LVM on md on partitions
    of USB disks are all the dock's own when the store is on top. `built_on(disk)` names
    the whole disks directly under one (none for a physical disk)."""
    seen: set[str] = set()
    todo = [disk]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            yield current
            todo.extend(built_on(current))


def unlock_profile(props: Mapping[str, str]) -> str | None:
    """A USB device (not yet a disk) that a profile's vendor command must unlock."""
    if props.get("DOCKD_UNLOCK") and props.get("DEVNAME"):
        return props["DOCKD_UNLOCK"]
    return None


def slot_name(raw: str) -> str:
    """A slot id that is safe as one path component (it names the mount point)."""
    cleaned = _UNSAFE.sub("_", raw).strip("._") or "slot"
    return cleaned[:64]


def recorder_from_properties(
    devnode: str | None,
    props: Mapping[str, str],
    has_partitions: bool = False,
    scope: DeviceScope = DeviceScope(),
    disk: str | None = None,
) -> RecorderDevice | None:
    """The recorder a udev block device is, or None when dockd must leave it alone.

    A disk whose partitions the kernel found is left to those partitions; any
    other tagged device is docked even with no recognisable filesystem, so that
    a corrupt recorder is reported rather than silently ignored. `disk` is the whole
    disk the device is on (itself, or a partition's parent)."""
    if devnode is None or props.get("DOCKD_RECORDER") != "1":
        return None
    if props.get("DEVTYPE") not in (None, "disk", "partition"):
        return None
    if not scope.takes(props, disk or devnode):
        return None
    if props.get("DEVTYPE") == "disk" and has_partitions and not props.get("ID_FS_TYPE"):
        return None
    for key, source in (
        ("DOCKD_SERIAL", "dockd-rule"),
        ("ID_SERIAL_SHORT", "usb-descriptor"),
        ("ID_SERIAL", "usb-descriptor"),
    ):
        if props.get(key):
            serial, serial_source = props[key], source
            break
    else:
        serial, serial_source = "UNKNOWN-" + slot_name(devnode), "none"
    slot = props.get("DOCKD_SLOT") or props.get("ID_PATH") or devnode
    return RecorderDevice(
        devnode=devnode,
        serial=serial,
        profile=props.get("DOCKD_PROFILE") or "generic",
        slot=slot_name(slot),
        fs_type=props.get("ID_FS_TYPE") or None,
        serial_source=serial_source,
        declared_profile=props.get("DOCKD_PROFILE") or None,
    )
