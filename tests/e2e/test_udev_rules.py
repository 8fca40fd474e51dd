"""The shipped udev/99-dockd.rules, as is, under the real udevd: which disks it tags.

Every other e2e test tags its loop recorders with a rule of its own. Here a rule ordered
before the shipped one only makes a loop device look like what the kernel's USB storage
driver gives udev (ID_BUS=usb, and for one ID_CDROM=1 too); the shipped rule must then
tag the USB disk as a recorder and keep desktop automounters off it, and leave the
others untouched. Devices without a filesystem: no daemon here docks anything.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.harness import Dock, require_udev

RULES = Path("/run/udev/rules.d")
SHIPPED = RULES / "99-dockd.rules"
AS_USB = RULES / "98-dockd-test-as-usb.rules"
AS_USB_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.usbdisk", '
    'ENV{ID_BUS}="usb"\n'
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.usbcdrom", '
    'ENV{ID_BUS}="usb", ENV{ID_CDROM}="1"\n'
)
DOCKD_KEYS = ("DOCKD_RECORDER", "UDISKS_IGNORE", "UDISKS_AUTO")


@pytest.fixture
def shipped_rule() -> Iterator[None]:
    require_udev()
    if Path("/etc/udev/rules.d/99-dockd.rules").exists():
        pytest.skip("/etc/udev/rules.d/99-dockd.rules would shadow the shipped rule under test")
    RULES.mkdir(parents=True, exist_ok=True)
    SHIPPED.write_text((REPO / "udev/99-dockd.rules").read_text())
    AS_USB.write_text(AS_USB_TEXT)
    subprocess.run(["udevadm", "control", "--reload"], check=True)
    try:
        yield
    finally:
        SHIPPED.unlink(missing_ok=True)
        AS_USB.unlink(missing_ok=True)
        subprocess.run(["udevadm", "control", "--reload"], check=True)


def _dockd_properties(dev: str) -> dict[str, str]:
    shown = subprocess.run(
        ["udevadm", "info", "--query=property", f"--name={dev}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    props = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    return {key: props[key] for key in DOCKD_KEYS if key in props}


def test_the_shipped_rule_tags_usb_disks_and_nothing_else(
    shipped_rule: None, tmp_path: Path
) -> None:
    images = {}
    for name in ("stick.usbdisk", "internal.plaindisk", "drive.usbcdrom"):
        images[name] = tmp_path / name
        subprocess.run(["truncate", "-s", "1M", str(images[name])], check=True)
    dock = Dock()
    try:
        # the tags are read at once and the devices detached: a daemon of another test run
        # on this host (ports = ["*"]) would otherwise try to dock the USB one
        shown = {name: _dockd_properties(dock.plug(image)) for name, image in images.items()}
    finally:
        dock.close()
    assert shown == {
        "stick.usbdisk": {"DOCKD_RECORDER": "1", "UDISKS_IGNORE": "1", "UDISKS_AUTO": "0"},
        "internal.plaindisk": {},
        "drive.usbcdrom": {},
    }
