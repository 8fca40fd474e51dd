"""Which model and recorder a volume is, from its content (pure)."""

from __future__ import annotations

from pathlib import Path

from dockd.adapters.rules import load_profiles
from dockd.core.detect import (
    SERIAL_MISMATCH,
    SERIAL_UNREADABLE,
    UNRECOGNISED,
    VolumeSample,
    choose_profile,
    volume_serial,
)
from dockd.core.profiles import ContentSignature, RecorderProfile
from dockd.core.unlock import UnlockResult, failure_message, unlock_argv

REPO = Path(__file__).resolve().parents[2]
PROFILES = load_profiles(REPO / "rules")
GAT = ("SN7_0042_20261101080000_0001.MP4", "SN7_0042_20261101090000_0002.MP4", "DEVCLOCK.TXT")


def sample(
    folders: tuple[str, ...] = (), files: tuple[str, ...] = (), names: tuple[str, ...] = ()
) -> VolumeSample:
    return VolumeSample(frozenset(folders), frozenset(files), names)


def test_content_decides_before_a_declared_usb_id() -> None:
    dcim = sample(("DCIM",), (), ("20261122_081500_0001.MP4", "20261122_091500_0002.MP4"))
    assert choose_profile(PROFILES, dcim, "generic") == ("dcim", "content", [])
    assert choose_profile(PROFILES, sample(names=GAT), None) == ("gat947", "content", [])


def test_a_dcim_folder_of_other_names_is_not_dcim() -> None:
    odd = sample(("DCIM",), (), ("A.MP4", "B.MP4", "20261122_081500_0001.MP4"))
    assert choose_profile(PROFILES, odd, "generic") == ("generic", "usb-id", [])


def test_no_match_and_no_usb_id_is_generic_and_flagged() -> None:
    profile, how, problems = choose_profile(PROFILES, sample(("VIDEO",), (), ("A.MP4",)), None)
    assert (profile, how) == ("generic", "fallback")
    assert [p.code for p in problems] == [UNRECOGNISED] and "VIDEO" in problems[0].message


def test_the_most_specific_vendor_layout_wins() -> None:
    vendor = RecorderProfile(
        id="acme",
        description="ACME",
        timezone="UTC",
        extensions=["mp4"],
        detect=ContentSignature(folders=["DCIM", "ACME"], files=["ACME.ID"]),
    )
    profiles = {**PROFILES, "acme": vendor}
    layout = sample(("dcim", "acme"), ("acme.id",), ("20261122_081500_0001.MP4",))
    assert choose_profile(profiles, layout, None)[0] == "acme"
    assert choose_profile(profiles, sample(("DCIM", "ACME")), None)[0] != "acme"


def test_serial_from_the_names_and_a_usb_serial_that_disagrees() -> None:
    gat = PROFILES["gat947"]
    assert volume_serial(gat, sample(names=GAT), None, "SN7", "usb-descriptor") == (
        "SN7",
        "file-names",
        [],
    )
    serial, source, problems = volume_serial(gat, sample(names=GAT), None, "X9", "usb-descriptor")
    assert (serial, source) == ("SN7", "file-names")
    assert [p.code for p in problems] == [SERIAL_MISMATCH] and "X9" in problems[0].message
    assert volume_serial(gat, sample(names=GAT), None, "UNKNOWN-loop0", "none")[:2] == (
        "SN7",
        "file-names",
    )


def test_a_local_rules_serial_stands_and_usb_profiles_keep_the_usb_serial() -> None:
    assert volume_serial(PROFILES["gat947"], sample(names=GAT), None, "CAM1", "dockd-rule") == (
        "CAM1",
        "dockd-rule",
        [],
    )
    assert volume_serial(PROFILES["generic"], sample(names=GAT), None, "U1", "usb-descriptor")[
        :2
    ] == ("U1", "usb-descriptor")


def test_serial_from_a_vendor_id_file() -> None:
    vendor = RecorderProfile(
        id="acme",
        description="ACME",
        timezone="UTC",
        extensions=["mp4"],
        serial_from="file",
        serial_file="DEVICE.ID",
        serial_regex=r"SN=(?P<serial>\w+)",
    )
    assert volume_serial(vendor, sample(), "MODEL=BC1\nSN=ACM123\n", "U1", "none")[:2] == (
        "ACM123",
        "id-file",
    )
    serial, _, problems = volume_serial(vendor, sample(), None, "U1", "usb-descriptor")
    assert serial == "U1" and [p.code for p in problems] == [SERIAL_UNREADABLE]


def test_unlock_command_line_and_failures() -> None:
    assert unlock_argv(["/usr/lib/dockd/unlock/acme", "{devnode}"], "/dev/bus/usb/1/4") == [
        "/usr/lib/dockd/unlock/acme",
        "/dev/bus/usb/1/4",
    ]
    assert UnlockResult(0, "").ok and not UnlockResult(None, "", timed_out=True).ok
    assert "exit status 3: bad password" in failure_message("acme", UnlockResult(3, "bad password"))
    assert "no answer within 5 s" in failure_message(
        "acme", UnlockResult(None, "no answer within 5 s", timed_out=True)
    )
