"""Which udev block devices are recorders, and what they are called.

Pure over the device's udev properties (see the contract in DESIGN.md): the
daemon acts only on DOCKD_RECORDER=1, takes the serial from DOCKD_SERIAL or the
USB descriptor, and the slot from DOCKD_SLOT or the USB port path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class RecorderDevice:
    devnode: str
    serial: str
    profile: str
    slot: str
    fs_type: str | None
    serial_source: str


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A udev event as the daemon sees it: `recorder` is None when the device is not one."""

    action: str
    devnode: str
    recorder: RecorderDevice | None


def slot_name(raw: str) -> str:
    """A slot id that is safe as one path component (it names the mount point)."""
    cleaned = _UNSAFE.sub("_", raw).strip("._") or "slot"
    return cleaned[:64]


def recorder_from_properties(
    devnode: str | None, props: Mapping[str, str], has_partitions: bool = False
) -> RecorderDevice | None:
    """The recorder a udev block device is, or None when dockd must leave it alone.

    A disk whose partitions the kernel found is left to those partitions; any
    other tagged device is docked even with no recognisable filesystem, so that
    a corrupt recorder is reported rather than silently ignored."""
    if devnode is None or props.get("DOCKD_RECORDER") != "1":
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
    )
