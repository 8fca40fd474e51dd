"""The shipped dockd.service under a real PID-1 systemd, docking a real recorder.

`systemd-analyze verify` and `security` only read the unit; this runs it. systemd boots
as PID 1 of a fresh PID and mount namespace (this machine's own PID 1 is not systemd)
with a private /run, the host's udev database bound in, and /var/lib/dockd bound to a
test folder, so nothing of a real dock on this host is touched. The unit file is the
shipped one; one drop-in only keeps systemd from booting this host's sysinit
(systemd-tmpfiles would clean its /tmp), and the config is the shipped example with a
free port and a drop folder.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockd.adapters.journal import MESSAGE_IDS
from tests.conftest import REPO, unfreeze
from tests.e2e.harness import (
    SCOPED_PORT,
    Dock,
    fat32_recorder,
    require_scoped_port,
    require_udev,
    wait_for,
)
from tests.support.ntp import ResponderAddress
from tests.support.pid1 import (
    MASKED,
    SYSTEMD,
    USB_DEVICE_MAJOR,
    Booted,
    booted_systemd,
    expected_usb_refusal,
    free_port,
    free_usb_minor,
    need_pid1_tools,
    proc_devices_with_usb,
)

BOOT = """#!/bin/bash
set -euo pipefail
mount --make-rprivate /
mkdir -p {state} && mount --bind {state} /var/lib/dockd
mount --bind /run/udev {udev}
mount -t tmpfs tmpfs /run
mkdir -p /run/udev /run/lock /run/systemd/system/dockd.service.d
mount --bind {udev} /run/udev
mount -t tmpfs tmpfs /etc/dockd
cp -r {rules} /etc/dockd/rules
{dropin}
{proc}
cp {config} /etc/dockd/dockd.toml
sed "s|/opt/dockd/venv/bin/dockd|{dockd}|" {repo}/systemd/dockd.service \\
    > /run/systemd/system/dockd.service
cat > /run/systemd/system/dockd-boot.target <<'UNIT'
[Unit]
Description=dockd under a real systemd
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service dockd.service
UNIT
cat > /run/systemd/system/dockd.service.d/boot.conf <<'UNIT'
[Unit]
DefaultDependencies=no
After=systemd-journald.socket
UNIT
for unit in {masked}; do ln -sf /dev/null /run/systemd/system/$unit; done
exec env container=dockd-test {systemd} --system --unit=dockd-boot.target
"""


UNLOCK_RULE = Path("/etc/udev/rules.d/98-dockd-pid1-unlock-test.rules")
UNLOCK_RULE_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.pid1locked", '
    'ENV{DOCKD_UNLOCK}="pid1-locked"\n'
)
USB_STAND_IN = "/run/dockd/usb-stand-in"  # a node of usb_device's major, made by the test
# Stands in for a vendor's SetMSDC tool: it opens the USB device node as libusb would.
# There is no USB device behind it, so the kernel answers ENXIO or ENODEV: the tool got
# past the unit's device cgroup (which answers EPERM) to the driver.
UNLOCK_TOOL = """#!/usr/bin/python3
import errno, os, sys
try:
    os.close(os.open(sys.argv[2], os.O_RDWR))
except OSError as exc:
    print(f"{sys.argv[1]}: {exc.strerror}")
    sys.exit(0 if exc.errno in (errno.ENXIO, errno.ENODEV) else 1)
"""


def _rules_with_unlock(tmp_path: Path, tool: str) -> Path:
    """The shipped rules, and a profile whose unlock command is the stand-in tool."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / "recorders/pid1-locked.toml").write_text(
        'id = "pid1-locked"\ndescription = "locked until its vendor tool has run"\n'
        'timezone = "Asia/Shanghai"\nextensions = ["mp4"]\n'
        f'unlock = ["{tool}", "{{devnode}}", "{USB_STAND_IN}"]\nunlock_timeout_s = 20\n'
        '[[usb]]\nvendor_id = "2a3b"\nmodel_id = "0002"\n'
    )
    return rules


def _rules_with_recorder_writes(tmp_path: Path) -> Path:
    """The shipped rules, with the default pack setting the clock and allowing clearing."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    pack = rules / "policies/dalian-jinpu-ocean.toml"
    text = pack.read_text().replace("set_recorder_clock = false", "set_recorder_clock = true")
    pack.write_text(text + '\n[clearing]\nallowed = true\narticles = ["000:30"]\n')
    return rules


@pytest.fixture
def booted(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    installed_dockd: Path,
    station_ntp: ResponderAddress,
) -> Iterator[Booted]:
    """`request.param` (indirect): "writes", the recorder writes on with the unit's
    recorder-writes drop-in; "writes-without-drop-in", the same writes on the shipped unit
    alone; "unlock", a profile with an unlock tool and the unlock drop-in;
    "unlock-without-drop-in", the same profile on the shipped unit alone."""
    feature = getattr(request, "param", None)
    writes = feature in ("writes", "writes-without-drop-in")
    require_udev()
    need_pid1_tools()
    # mount points for the namespace's own; left as they were found
    made = [d for d in (Path("/etc/dockd"), Path("/var/lib/dockd")) if not d.exists()]
    for folder in made:
        folder.mkdir(parents=True)
    state, udev = tmp_path / "state", tmp_path / "udev"
    udev.mkdir()
    port = free_port()
    config = tmp_path / "dockd.toml"
    example = (REPO / "systemd/dockd.toml.example").read_text()
    example = example.replace('listen = "127.0.0.1:8470"', f'listen = "127.0.0.1:{port}"')
    drop = 'watch_dirs = ["/var/lib/dockd/drop"]'
    if writes:  # this dockd clears: only this test's recorders, not other runs' on the host
        require_scoped_port()
        drop += f'\nports = ["{SCOPED_PORT}"]'
        example = example.replace("clear_after_offload = false", "clear_after_offload = true")
        example = example.replace("ntp_servers = []", f'ntp_servers = ["{station_ntp}"]')
    config.write_text(example.replace("watch_dirs = []", drop))
    dropins = "/run/systemd/system/dockd.service.d"
    rules, dropin, proc = REPO / "rules", ":", ":"
    if writes:
        rules = _rules_with_recorder_writes(tmp_path)
    if feature == "writes":
        dropin = f"cp {REPO}/systemd/dockd-recorder-writes.conf {dropins}/recorder-writes.conf"
    elif feature in ("unlock", "unlock-without-drop-in"):
        state.mkdir()  # the tool lives in the state folder: dockd's /tmp is private
        (state / "unlock-tool").write_text(UNLOCK_TOOL)
        (state / "unlock-tool").chmod(0o755)
        rules = _rules_with_unlock(tmp_path, "/var/lib/dockd/unlock-tool")
        if feature == "unlock":
            dropin = f"cp {REPO}/systemd/dockd-unlock.conf {dropins}/unlock.conf"
        proc = proc_devices_with_usb(tmp_path)
    script = tmp_path / "boot.sh"
    script.write_text(
        BOOT.format(
            state=state,
            udev=udev,
            repo=REPO,
            rules=rules,
            dropin=dropin,
            proc=proc,
            config=config,
            dockd=installed_dockd,
            masked=MASKED,
            systemd=SYSTEMD,
        )
    )
    try:
        with booted_systemd(script, tmp_path / "console.log") as system:
            yield Booted(system, state, port)
    finally:
        unfreeze(state)
        for folder in made:
            folder.rmdir()


def test_the_shipped_unit_docks_a_recorder_under_systemd(booted: Booted, tmp_path: Path) -> None:
    wait_for(
        lambda: booted.unit("ActiveState").get("ActiveState") == "active",
        60,
        "dockd to be active",
    )
    # Type=notify: systemd calls it started only after READY=1, and shows its STATUS=
    wait_for(
        lambda: booted.unit("StatusText").get("StatusText") == "waiting for recorders",
        30,
        "dockd's STATUS= in systemctl",
    )

    image = fat32_recorder(
        tmp_path / "SD1.dockrec",
        "SD1",
        {
            "DCIM/100MEDIA/SD1_007_20261123080000_0001.MP4": os.urandom(2_000_000),
            "DCIM/100MEDIA/SD1_007_20261123081000_0002.MP4": os.urandom(2_000_000),
        },
    )
    dock = Dock()
    try:
        dev = dock.plug(image)
        wait_for(lambda: booted.verified("SD1") == 2, 120, "both recordings to be verified")
        wait_for(
            lambda: any(e.get("DOCKD_EVENT") == "safe-to-unplug" for e in booted.journal()),
            60,
            "safe-to-unplug in the journal",
        )
        ro = subprocess.run(["blockdev", "--getro", dev], capture_output=True, text=True)
        assert ro.stdout.strip() == "1", "the recorder was not write-blocked"
        refused = booted.open_for_writing_as_dockd(dev)
        assert "Operation not permitted" in refused, refused
    finally:
        dock.close()
    objects = [p for p in (booted.state / "store/objects").rglob("*") if p.is_file()]
    assert len(objects) == 3  # two recordings and the session manifest
    flags = subprocess.run(["lsattr", *map(str, objects)], capture_output=True, text=True)
    assert all(line.split()[0][4] == "i" for line in flags.stdout.splitlines()), flags.stdout

    entries = booted.journal()
    docked = [e for e in entries if e.get("DOCKD_EVENT") == "docked"]
    assert docked and docked[0]["DOCKD_SERIAL"] == "SD1"
    restarts = booted.unit("NRestarts")["NRestarts"]
    assert restarts == "0", "the watchdog or a crash restarted dockd"

    booted.ctl("systemctl", "stop", "dockd")
    stopped = booted.unit("ActiveState", "Result", "ExecMainStatus")
    assert stopped == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}


@pytest.mark.parametrize("booted", ["writes"], indirect=True)
def test_with_the_drop_in_the_unit_lets_dockd_set_the_clock_and_clear(
    booted: Booted, tmp_path: Path
) -> None:
    """Both writes under PID-1 systemd with the shipped unit and its recorder-writes drop-in."""
    wait_for(
        lambda: booted.unit("ActiveState").get("ActiveState") == "active",
        60,
        "dockd to be active",
    )
    assert "DOCKD_RECORDER_DEVICES=rw" in booted.unit("Environment")["Environment"]
    clips = {
        "DCIM/100MEDIA/SD2_007_20261123080000_0001.AVI": os.urandom(500_000),
        "DCIM/100MEDIA/SD2_007_20261123080100_0002.AVI": os.urandom(500_000),
    }
    (tmp_path / "scoped").mkdir()
    image = tmp_path / "scoped/SD2.dockrec"
    fat32_recorder(image, "SD2", {**clips, "NOTES.TXT": b"notes"})
    dock = Dock()
    try:
        dev = dock.plug(image)
        wait_for(
            lambda: any(e.get("DOCKD_EVENT") == "safe-to-unplug" for e in booted.journal()),
            120,
            "safe-to-unplug in the journal",
        )
        assert booted.open_for_writing_as_dockd(dev) == "opened"
    finally:
        dock.close()
    journal = booted.journal()
    events = {e.get("DOCKD_EVENT") for e in journal}
    refused = [e for e in journal if e.get("DOCKD_EVENT") == "recorder-not-cleared"]
    assert {"recorder-clock-set", "recorder-cleared"} <= events, [e.get("MESSAGE") for e in refused]
    assert "recorder-writes-blocked" not in events
    listing = subprocess.run(
        ["mdir", "-/", "-b", "-i", str(image), "::/"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(listing) == [
        "::/DCIM/",
        "::/DCIM/100MEDIA/",
        "::/NOTES.TXT",
        "::/TIMESET.TXT",
    ], "clearing deleted other than the verified recordings, or the clock was not set"
    with sqlite3.connect(booted.state / "ledger.sqlite3") as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM custody_events ORDER BY seq")]
    assert kinds.count("recorder-file-cleared") == 2
    assert kinds.count("recorder-clock-set") == 1


@pytest.mark.parametrize("booted", ["writes-without-drop-in"], indirect=True)
def test_without_the_drop_in_the_writes_are_refused_named_and_the_recorder_untouched(
    booted: Booted, tmp_path: Path
) -> None:
    """The likely misconfiguration: clock set and clearing on, the unit as shipped. dockd
    says so at start and on the recorder's card, docks it all the same, and writes nothing."""
    wait_for(
        lambda: booted.unit("ActiveState").get("ActiveState") == "active",
        60,
        "dockd to be active",
    )
    assert "DOCKD_RECORDER_DEVICES=r" in booted.unit("Environment")["Environment"].split()
    clips = {
        "DCIM/100MEDIA/SD3_007_20261123080000_0001.AVI": os.urandom(500_000),
        "DCIM/100MEDIA/SD3_007_20261123080100_0002.AVI": os.urandom(500_000),
    }
    (tmp_path / "scoped").mkdir()
    image = tmp_path / "scoped/SD3.dockrec"
    fat32_recorder(image, "SD3", {**clips, "NOTES.TXT": b"notes"})
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    dock = Dock()
    try:
        dev = dock.plug(image)
        slot = f"test-{Path(dev).name}"
        wait_for(
            lambda: any(e.get("DOCKD_EVENT") == "safe-to-unplug" for e in booted.journal()),
            120,
            "safe-to-unplug in the journal",
        )
        card = booted.slot_card(slot)
        page = booted.page()
        refused = booted.open_for_writing_as_dockd(dev)
    finally:
        dock.close()
    # the offload is whole ("done", safe to unplug); the writes that did not happen are named
    assert (card["state"], card["code"], card["safe_to_unplug"]) == (
        "done",
        "RECORDER_WRITES_BLOCKED",
        True,
    ), card
    assert "dockd.service opens recorders read-only" in str(card["message"]), card
    assert "recorder-writes.conf" in str(card["hint"]), card
    assert '<code class="code">RECORDER_WRITES_BLOCKED</code>' in page
    assert "Operation not permitted" in refused, refused
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before, "the recorder was written"

    journal = booted.journal()
    blocked = [e for e in journal if e.get("DOCKD_EVENT") == "recorder-writes-blocked"]
    # once at start (no recorder yet), once for the recorder whose writes were skipped
    assert [e.get("DOCKD_SERIAL") for e in blocked] == [None, "SD3"], blocked
    assert {e.get("MESSAGE_ID") for e in blocked} == {MESSAGE_IDS["recorder-writes-blocked"]}
    events = {e.get("DOCKD_EVENT") for e in journal}
    assert not events & {"recorder-clock-set", "recorder-cleared"}, events
    assert booted.verified("SD3") == 2
    with sqlite3.connect(booted.state / "ledger.sqlite3") as db:
        states = [s for (s,) in db.execute("SELECT state FROM dock_sessions WHERE serial = 'SD3'")]
        kinds = {k for (k,) in db.execute("SELECT kind FROM custody_events")}
    assert states == ["completed"]
    assert not {k for k in kinds if k.startswith("recorder-") and "clear" in k}, kinds
    assert "recorder-clock-set" not in kinds


@pytest.fixture
def unlock_rule() -> Iterator[None]:
    """The host's udevd tags this test's `*.pid1locked` loop device as a locked recorder."""
    require_udev()
    UNLOCK_RULE.write_text(UNLOCK_RULE_TEXT)
    subprocess.run(["udevadm", "control", "--reload"], check=True)
    try:
        yield
    finally:
        UNLOCK_RULE.unlink(missing_ok=True)
        subprocess.run(["udevadm", "control", "--reload"], check=True)


def _unlock_the_stand_in(booted: Booted, tmp_path: Path, refusal: str) -> str:
    """Opens the USB stand-in node from dockd's cgroup (expecting `refusal`), then plugs
    the locked device: its unlock's kind of custody event, the tool having seen the same."""
    wait_for(
        lambda: booted.unit("ActiveState").get("ActiveState") == "active",
        60,
        "dockd to be active",
    )
    made = booted.ctl("mknod", USB_STAND_IN, "c", str(USB_DEVICE_MAJOR), str(free_usb_minor()))
    assert made.returncode == 0, made.stderr
    opened = booted.open_for_writing_as_dockd(USB_STAND_IN)
    assert opened.endswith(f"{refusal}: '{USB_STAND_IN}'"), opened
    locked = tmp_path / "usb.pid1locked"
    subprocess.run(["truncate", "-s", "1M", str(locked)], check=True)
    kinds = ("recorder-unlocked", "recorder-unlock-failed")
    dock = Dock()
    try:
        usb = dock.plug(locked)
        wait_for(lambda: booted.custody(kinds), 60, "the unlock on the custody chain")
    finally:
        dock.close()
    [(kind, subject, details)] = booted.custody(kinds)
    assert subject == usb
    assert details["command"] == ["/var/lib/dockd/unlock-tool", usb, USB_STAND_IN]
    assert details["output"] == f"{usb}: {refusal}", details
    return kind


@pytest.mark.parametrize("booted", ["unlock"], indirect=True)
def test_with_the_unlock_drop_in_the_vendor_tool_reaches_the_usb_device(
    booted: Booted, unlock_rule: None, tmp_path: Path, installed_dockd: Path
) -> None:
    """The tool runs in dockd's device cgroup: with the drop-in, the USB device node is
    allowed (the kernel's own answer, not the cgroup's EPERM), and the run is custody."""
    kind = _unlock_the_stand_in(booted, tmp_path, expected_usb_refusal())
    assert kind == "recorder-unlocked"
    journal = booted.journal()
    unlocked = [e for e in journal if e.get("DOCKD_EVENT") == "unlocked"]
    assert [e.get("DOCKD_PROFILE") for e in unlocked] == ["pid1-locked"], unlocked
    assert "unlock-blocked" not in {e.get("DOCKD_EVENT") for e in journal}
    chain = booted.ctl(str(installed_dockd), "audit", "verify")
    assert chain.returncode == 0, chain.stdout + chain.stderr


@pytest.mark.parametrize("booted", ["unlock-without-drop-in"], indirect=True)
def test_without_the_unlock_drop_in_dockd_says_why_unlocks_fail(
    booted: Booted, unlock_rule: None, tmp_path: Path
) -> None:
    """The likely misconfiguration: an unlock profile, and the unit as shipped."""
    kind = _unlock_the_stand_in(booted, tmp_path, os.strerror(errno.EPERM))
    assert kind == "recorder-unlock-failed"
    blocked = [e for e in booted.journal() if e.get("DOCKD_EVENT") == "unlock-blocked"]
    assert [(e.get("MESSAGE_ID"), e.get("DOCKD_PROFILES")) for e in blocked] == [
        (MESSAGE_IDS["unlock-blocked"], "pid1-locked")
    ], blocked
