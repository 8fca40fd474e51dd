"""Detection under a real udevd: a USB disk recognised by its content, and a vendor unlock.

Loop devices stand in for USB hardware through a rule of this test's own: a backing
file `*.anyusb` is tagged as the shipped rule tags any USB disk (DOCKD_RECORDER, no
profile, no serial), and `*.locked` as a USB device a profile must unlock
(DOCKD_UNLOCK). The unlock "vendor tool" is a script that attaches the recorder.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.harness import Dock, fat32_recorder, require_udev, running_daemon, wait_for
from tests.integration.test_web import dump_dom, require_chromium, visible_text

RULE = Path("/etc/udev/rules.d/98-dockd-detect-test.rules")
RULE_TEXT = (
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.anyusb", '
    'ENV{DOCKD_RECORDER}="1", ENV{DOCKD_SLOT}="detect-%k", ENV{UDISKS_IGNORE}="1"\n'
    'SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*.locked", '
    'ENV{DOCKD_UNLOCK}="acme-locked"\n'
)
GAT = {
    "SN7_0042_20261101080000_0001.MP4": b"first clip",
    "SN7_0042_20261101090000_0002.MP4": b"second clip",
}
UNLOCK_SCRIPT = """#!/bin/sh
# stands in for a vendor's SetMSDC tool: the recorder's disk appears when it is called
echo "unlock $1" >> {calls}
[ -e {fail} ] && {{ echo "wrong password" >&2; exit 3; }}
losetup -f --show {recorder} >> {attached}
"""


@pytest.fixture
def dock() -> Iterator[Dock]:
    require_udev()
    RULE.write_text(RULE_TEXT)
    subprocess.run(["udevadm", "control", "--reload"], check=True)
    plugged = Dock()
    try:
        yield plugged
    finally:
        plugged.close()
        RULE.unlink(missing_ok=True)
        subprocess.run(["udevadm", "control", "--reload"], check=True)


def _events(home: Path, kind: str) -> list[dict[str, object]]:
    with sqlite3.connect(f"file:{home / 'ledger.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT details FROM custody_events WHERE kind = ?", (kind,))
        return [json.loads(r[0]) for r in rows]


def test_a_usb_disk_is_recognised_by_its_content_and_serial_from_its_names(
    tmp_path: Path, dock: Dock
) -> None:
    gat = fat32_recorder(tmp_path / "cam.anyusb", "CAM", GAT)
    odd = fat32_recorder(tmp_path / "odd.anyusb", "ODD", {"VIDEO/A.MP4": b"a"})
    (tmp_path / "home").mkdir()
    with running_daemon(tmp_path / "home") as daemon:
        daemon.start()
        dock.plug(gat)
        dock.plug(odd)
        wait_for(
            lambda: len([s for s in daemon.sessions() if s["state"] != "running"]) == 2,
            90,
            "both sessions",
        )
        by_profile = {s["profile"]: s for s in daemon.sessions() if s["state"] != "running"}
        assert by_profile["gat947"]["serial"] == "SN7"
        codes = {p["code"] for p in by_profile["gat947"]["problems"]}
        assert not codes & {"profile-unrecognised", "serial-mismatch"}, codes
        flagged = by_profile["generic"]
        assert flagged["state"] == "completed_with_problems"
        assert "profile-unrecognised" in {p["code"] for p in flagged["problems"]}
        daemon.stop()


@dataclass(frozen=True)
class Locked:
    """A locked recorder: the USB device to plug, and its vendor tool's traces."""

    rules: Path  # the shipped rules and the `acme-locked` profile
    usb: Path  # the backing file of the USB device the rule tags DOCKD_UNLOCK
    calls: Path  # one line per run of the tool
    attached: Path  # the recorder disk(s) it attached


def _locked_recorder(tmp_path: Path, fails: bool) -> Locked:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    script = tmp_path / "unlock.sh"
    attached, calls, fail = tmp_path / "attached", tmp_path / "calls", tmp_path / "fail"
    if fails:
        fail.touch()
    recorder = fat32_recorder(tmp_path / "LOCKED1.dockrec", "LOCKED1", GAT)
    script.write_text(
        UNLOCK_SCRIPT.format(calls=calls, fail=fail, recorder=recorder, attached=attached)
    )
    script.chmod(0o755)
    (rules / "recorders" / "acme-locked.toml").write_text(
        'id = "acme-locked"\ndescription = "ACME, locked until SetMSDC"\n'
        'timezone = "Asia/Shanghai"\nextensions = ["mp4"]\n'
        f'unlock = ["{script}", "{{devnode}}"]\nunlock_timeout_s = 20\n'
        '[[usb]]\nvendor_id = "2a3b"\nmodel_id = "0001"\n'
    )
    locked = tmp_path / "usb.locked"
    subprocess.run(["truncate", "-s", "1M", str(locked)], check=True)
    return Locked(rules, locked, calls, attached)


def _daemon_config(rules: Path) -> str:
    # its own port: tests run side by side
    return f'\n[rules]\ndir = "{rules}"\n[web]\nlisten = "127.0.0.1:0"\n'


@pytest.mark.parametrize("fails", [False, True])
def test_a_locked_recorder_is_unlocked_by_its_vendor_command(
    tmp_path: Path, dock: Dock, fails: bool
) -> None:
    locked = _locked_recorder(tmp_path, fails)
    calls, attached = locked.calls, locked.attached
    home = tmp_path / "home"
    home.mkdir()
    with running_daemon(home) as daemon:
        daemon.write_config(_daemon_config(locked.rules))
        daemon.start()
        usb = dock.plug(locked.usb)
        try:
            wait_for(calls.exists, 30, "the unlock command to run")
            assert calls.read_text().split() == ["unlock", usb]
            if fails:
                kind = "recorder-unlock-failed"
                wait_for(lambda: _events(home, kind), 30, "the failed unlock on the ledger")
                [event] = _events(home, kind)
                assert event["returncode"] == 3 and event["output"] == "wrong password"
                assert "unlock-failed" in daemon.log.read_text()
                assert not attached.exists()
                # what the admin sees: the failure on the rendered status page
                require_chromium()
                url = re.search(
                    r"web-listening.*?url=(http://127\.0\.0\.1:\d+/)", daemon.log.read_text()
                )
                assert url is not None
                page = visible_text(dump_dom(tmp_path / "chromium", url.group(1)))
                assert (
                    "the 'acme-locked' unlock command failed (exit status 3: wrong password); "
                    "the recorder shows no disk"
                ) in page
            else:
                # the harness rule's DOCKD_SERIAL (a local rule) stands over the names' serial
                wait_for(lambda: daemon.finished("LOCKED1"), 90, "the unlocked recorder's session")
                [event] = _events(home, "recorder-unlocked")
                assert event["devnode"] == usb and event["returncode"] == 0
        finally:
            for dev in attached.read_text().split() if attached.exists() else []:
                dock.attached.append(dev)
        daemon.stop()


def test_a_locked_recorder_plugged_before_the_start_is_unlocked(tmp_path: Path, dock: Dock) -> None:
    """Left in its bay over a reboot or a restart: no udev event will come for it."""
    locked = _locked_recorder(tmp_path, fails=False)
    usb = dock.plug(locked.usb)
    home = tmp_path / "home"
    home.mkdir()
    with running_daemon(home) as daemon:
        daemon.write_config(_daemon_config(locked.rules))
        daemon.start()
        try:
            wait_for(locked.calls.exists, 30, "the unlock command to run")
            wait_for(lambda: daemon.finished("LOCKED1"), 90, "the unlocked recorder's session")
            [event] = _events(home, "recorder-unlocked")
            assert event["devnode"] == usb and event["returncode"] == 0
            # once per appearance, however many rescans have listed it since
            assert locked.calls.read_text().split() == ["unlock", usb]
        finally:
            attached = locked.attached
            for dev in attached.read_text().split() if attached.exists() else []:
                dock.attached.append(dev)
        daemon.stop()
