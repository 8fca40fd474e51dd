"""A vendor unlock tool that hangs: killed with everything it started, on time, on record.

Vendor tools are often shell wrappers around a helper: killing only the wrapper at the
timeout would leave the helper holding the USB device (and the output pipe, so the
daemon's unlock thread would wait for it too).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from dockd.adapters.clock import utc_now
from dockd.adapters.unlock import run_unlock
from dockd.app import build, load_config
from dockd.core.profiles import RecorderProfile
from dockd.daemon.board import StatusBoard
from dockd.daemon.unlock import Unlocker
from tests.conftest import unfreeze, write_config

HANGS = """#!/bin/sh
# a vendor wrapper whose helper never answers
echo "switching $1"
sleep 60 &
echo $! > {pid_file}
wait
"""


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or dead and waiting for its (new) parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_hung_unlock_tool_is_killed_with_its_children_at_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "helper.pid"
    tool = tmp_path / "hangs.sh"
    tool.write_text(HANGS.format(pid_file=pid_file))
    tool.chmod(0o755)
    profile = RecorderProfile.model_validate(
        {
            "id": "acme-hangs",
            "description": "a vendor tool that hangs",
            "timezone": "Asia/Shanghai",
            "extensions": ["mp4"],
            "unlock": [str(tool), "{devnode}"],
            "unlock_timeout_s": 1,
            "usb": [{"vendor_id": "2a3b", "model_id": "0003"}],
        }
    )
    store = tmp_path / "store"
    config = write_config(tmp_path / "dockd.toml", store, f"sqlite:///{tmp_path / 'ledger.db'}")
    app = build(load_config(config))
    board = StatusBoard()
    try:
        unlocker = Unlocker({profile.id: profile}, run_unlock, app.ledger, utc_now, board)
        started = time.monotonic()
        assert not unlocker.unlock("/dev/bus/usb/003/007", profile.id)
        took = time.monotonic() - started
    finally:
        app.close()
        unfreeze(store)
    assert took < 3, f"the unlock took {took:.1f} s with a 1 s timeout"
    helper = int(pid_file.read_text())
    assert not _alive(helper), "the tool's helper outlived the timeout"
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        query = "SELECT kind, subject, details FROM custody_events WHERE kind LIKE 'recorder-unl%'"
        rows = db.execute(query).fetchall()
    [(kind, subject, details)] = rows
    assert (kind, subject) == ("recorder-unlock-failed", "/dev/bus/usb/003/007")
    recorded = json.loads(details)
    assert (recorded["timed_out"], recorded["returncode"]) == (True, None)
    assert recorded["output"] == "no answer within 1 s: switching /dev/bus/usb/003/007"
    [slot] = board.snapshot()
    assert slot.code == "unlock-failed"
