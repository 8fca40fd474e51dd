"""Which udev devices are recorders (pure), and the shipped udev rules agree with the profiles."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from dockd.adapters.rules import load_profiles
from dockd.core.devices import (
    DeviceScope,
    disks_beneath,
    recorder_from_properties,
    slot_name,
    unlock_profile,
)
from dockd.core.profiles import RecorderProfile, UsbId
from dockd.core.udev_rules import render_rules

REPO = Path(__file__).resolve().parents[2]
USB = {
    "DOCKD_RECORDER": "1",
    "DEVTYPE": "disk",
    "ID_FS_TYPE": "vfat",
    "ID_SERIAL_SHORT": "A1B2C3",
    "ID_PATH": "pci-0000:00:14.0-usb-0:3:1.0-scsi-0:0:0:0",
    "DOCKD_PROFILE": "dcim",
}


def test_untagged_devices_are_left_alone() -> None:
    assert recorder_from_properties("/dev/sda", {**USB, "DOCKD_RECORDER": "0"}) is None
    assert (
        recorder_from_properties(
            "/dev/sda", {k: v for k, v in USB.items() if k != "DOCKD_RECORDER"}
        )
        is None
    )
    assert recorder_from_properties(None, USB) is None


def test_usb_descriptor_serial_and_port_path_slot() -> None:
    rec = recorder_from_properties("/dev/sdb", USB)
    assert rec is not None
    assert (rec.serial, rec.serial_source, rec.profile, rec.fs_type) == (
        "A1B2C3",
        "usb-descriptor",
        "dcim",
        "vfat",
    )
    assert rec.slot == "pci-0000_00_14.0-usb-0_3_1.0-scsi-0_0_0_0"


def test_rule_given_serial_and_slot_win() -> None:
    rec = recorder_from_properties(
        "/dev/sdb", {**USB, "DOCKD_SERIAL": "CAM7", "DOCKD_SLOT": "bay 3"}
    )
    assert rec is not None and (rec.serial, rec.slot, rec.serial_source) == (
        "CAM7",
        "bay_3",
        "dockd-rule",
    )


def test_partitioned_disk_defers_to_its_partition_but_corrupt_media_is_docked() -> None:
    no_fs = {k: v for k, v in USB.items() if k != "ID_FS_TYPE"} | {"ID_PART_TABLE_TYPE": "dos"}
    assert recorder_from_properties("/dev/sdb", no_fs, has_partitions=True) is None
    corrupt = recorder_from_properties("/dev/sdb", no_fs, has_partitions=False)
    assert corrupt is not None and corrupt.fs_type is None
    part = recorder_from_properties("/dev/sdb1", {**USB, "DEVTYPE": "partition"})
    assert part is not None and part.devnode == "/dev/sdb1"


def test_no_serial_at_all_is_named_not_guessed() -> None:
    props = {k: v for k, v in USB.items() if k != "ID_SERIAL_SHORT"}
    rec = recorder_from_properties("/dev/sdc", props)
    assert rec is not None and rec.serial.startswith("UNKNOWN-") and rec.serial_source == "none"


@given(st.text(max_size=300))
def test_slot_names_are_one_safe_path_component(raw: str) -> None:
    name = slot_name(raw)
    assert name and "/" not in name and name not in (".", "..") and len(name) <= 64


def test_committed_udev_rules_match_the_profiles() -> None:
    profiles = load_profiles(REPO / "rules")
    committed = (REPO / "udev" / "99-dockd.rules").read_text()
    assert committed == render_rules(profiles), "run: dockd udev-rules > udev/99-dockd.rules"


def test_every_declared_usb_id_is_tagged_with_its_profile() -> None:
    profile = RecorderProfile(
        id="acme-bc1",
        description="ACME BC-1",
        timezone="UTC",
        extensions=["mp4"],
        usb=[UsbId(vendor_id="1d6b", model_id="0104")],
    )
    rules = render_rules({"acme-bc1": profile})
    assert (
        'ENV{ID_VENDOR_ID}=="1d6b", ENV{ID_MODEL_ID}=="0104", ENV{DOCKD_PROFILE}="acme-bc1"'
        in rules
    )
    assert rules.rstrip().endswith('LABEL="dockd_end"')


def test_every_usb_disk_is_tagged_without_vendor_ids_and_automounters_stay_off() -> None:
    rules = render_rules({})
    lines = rules.splitlines()
    tag = 'ENV{DOCKD_RECORDER}="1", ENV{UDISKS_IGNORE}="1", ENV{UDISKS_AUTO}="0"'
    assert tag in lines
    before = lines[: lines.index(tag)]
    assert 'ENV{ID_BUS}!="usb", GOTO="dockd_end"' in before
    assert 'SUBSYSTEM!="block", GOTO="dockd_end"' in before
    assert "ID_VENDOR_ID" not in rules


def test_a_profile_with_an_unlock_command_tags_its_usb_devices() -> None:
    profile = RecorderProfile(
        id="acme-bc2",
        description="ACME BC-2",
        timezone="UTC",
        extensions=["mp4"],
        usb=[UsbId(vendor_id="2a3b", model_id="0001")],
        unlock=["/usr/lib/dockd/unlock/acme", "{devnode}"],
    )
    rules = render_rules({"acme-bc2": profile}).splitlines()
    unlock = (
        'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="2a3b", '
        'ATTR{idProduct}=="0001", ENV{DOCKD_UNLOCK}="acme-bc2"'
    )
    # before the block-only part, which a USB device (not a disk) would never reach
    assert rules.index(unlock) < rules.index('SUBSYSTEM!="block", GOTO="dockd_end"')


def test_only_the_docks_ports_and_never_its_own_disks() -> None:
    bays = DeviceScope(ports=("pci-0000:00:14.0-usb-0:3:*",), system_disks=frozenset())
    assert recorder_from_properties("/dev/sdb", USB, scope=bays) is not None
    elsewhere = {**USB, "ID_PATH": "pci-0000:00:14.0-usb-0:4:1.0-scsi-0:0:0:0"}
    assert recorder_from_properties("/dev/sdb", elsewhere, scope=bays) is None
    no_path = {k: v for k, v in USB.items() if k != "ID_PATH"}
    assert recorder_from_properties("/dev/sdb", no_path, scope=bays) is None
    assert recorder_from_properties("/dev/sdb", no_path) is not None  # ports = ["*"]
    own = DeviceScope(system_disks=frozenset({"/dev/sdb"}))
    part = {**USB, "DEVTYPE": "partition"}
    assert recorder_from_properties("/dev/sdb1", part, scope=own, disk="/dev/sdb") is None
    assert recorder_from_properties("/dev/sdc1", part, scope=own, disk="/dev/sdc") is not None


def test_the_disks_under_a_stacked_store_are_all_the_docks_own() -> None:
    """LUKS (dm-2) on LVM (dm-1) on md0 mirrored over two USB disks; dm-1 is listed twice
    (two paths down), and a physical disk has nothing under it."""
    stack = {
        "/dev/dm-2": ["/dev/dm-1"],
        "/dev/dm-1": ["/dev/md0", "/dev/md0"],
        "/dev/md0": ["/dev/sdb", "/dev/sdc"],
    }
    found = list(disks_beneath("/dev/dm-2", lambda disk: stack.get(disk, [])))
    assert sorted(found) == ["/dev/dm-1", "/dev/dm-2", "/dev/md0", "/dev/sdb", "/dev/sdc"]
    assert list(disks_beneath("/dev/sda", lambda disk: [])) == ["/dev/sda"]


def test_usb_devices_to_unlock_are_named_by_their_profile() -> None:
    usb = {"DEVNAME": "/dev/bus/usb/001/004", "DEVTYPE": "usb_device"}
    assert unlock_profile({**usb, "DOCKD_UNLOCK": "acme-bc2"}) == "acme-bc2"
    assert unlock_profile(usb) is None
    assert recorder_from_properties("/dev/bus/usb/001/004", {**usb, "DOCKD_RECORDER": "1"}) is None
