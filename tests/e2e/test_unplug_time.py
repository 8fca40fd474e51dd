"""Media return (003/E:9: "采集结束后24小时内应返还" — the media back within 24 h): the real
daemon records when a docked recorder is taken off the dock, through udevd and a loop
device, and Mingshan's pack reports a recorder kept off longer. The report's dates are
written out by hand."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dockd.adapters.ledger.report import LedgerReport
from dockd.adapters.ledger.supervision import LedgerSupervision
from dockd.adapters.rules import load_config, load_policy
from dockd.app import open_ledger
from tests.e2e.harness import (
    REPO,
    Daemon,
    Dock,
    fat32_recorder,
    wait_for,
)

pytestmark = pytest.mark.root

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERIAL = "SNUNPLUG"


@pytest.fixture
def daemon(daemon: Daemon) -> Daemon:
    daemon.write_config('[policy]\npack = "mingshan-emergency"\n')
    return daemon


def unplugs(daemon: Daemon) -> list[dict[str, Any]]:
    """This recorder's `recorder-unplugged` custody events, read from the ledger itself
    (the daemon sees every loop device on the machine, other tests' too)."""
    with sqlite3.connect(f"file:{daemon.home / 'ledger.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT subject, actor, details FROM custody_events "
            "WHERE kind = 'recorder-unplugged' AND subject = ? ORDER BY seq",
            (SERIAL,),
        ).fetchall()
    return [{"subject": s, "actor": a, "details": json.loads(d)} for s, a, d in rows]


def test_the_unplug_time_is_recorded_and_a_recorder_kept_off_is_reported(
    dock: Dock, daemon: Daemon, tmp_path: Path
) -> None:
    files = {f"DCIM/{SERIAL}_007_20261122080000_0001.AVI": b"clip" * 50_000}
    image = fat32_recorder(tmp_path / f"{SERIAL}.dockrec", SERIAL, files)
    daemon.start()
    dev = dock.plug(image)
    [session] = wait_for(lambda: daemon.finished(SERIAL), 60, "the session")
    assert session["state"] == "completed", session["problems"]
    wait_for(lambda: "safe-to-unplug" in daemon.log.read_text(), 20, "safe to unplug")
    assert unplugs(daemon) == [], "docked, not yet taken away"

    before = datetime.now(UTC)
    dock.unplug(dev)
    [event] = wait_for(lambda: unplugs(daemon), 20, "the unplug in the ledger")
    after = datetime.now(UTC)
    assert (event["subject"], event["actor"]) == (SERIAL, "dockd")
    [row] = event["details"]["rows"]
    assert row["table"] == "recorder_unplugs"
    assert row["row"]["serial"] == SERIAL and row["row"]["session_id"] == session["id"]
    unplugged = datetime.fromisoformat(row["row"]["unplugged_at"])
    assert before <= unplugged <= after + timedelta(seconds=1)

    # docked again within minutes: back in time, nothing to report
    dock.plug(image)
    wait_for(lambda: daemon.finished(SERIAL, 2), 60, "the second session")
    assert daemon.stop() == 0
    report = daemon.cli("report", "deadlines", "--since", "24h", "--json")
    held_here = [m for m in json.loads(report.stdout)["media_held"] if m["serial"] == SERIAL]
    assert held_here == [], report.stderr

    # a recorder taken off at 08:00 on 20 November 2026 (Shanghai) and not docked again
    ledger = open_ledger(load_config(daemon.config))
    try:
        LedgerSupervision(ledger).record_unplug(
            "SNAWAY", None, datetime(2026, 11, 20, 8, 0, tzinfo=SHANGHAI)
        )
        pack = load_policy(REPO / "rules", "mingshan-emergency")
        assert pack.media_return is not None and pack.media_return.hours == 24
        since = datetime(2026, 11, 20, 0, 0, tzinfo=SHANGHAI)

        def held(now: datetime) -> list[tuple[str, float]]:
            made = LedgerReport(ledger).deadline_report(since, now, pack, now, False)
            return [(m.serial, m.held_over_s) for m in made.media_held]

        assert held(datetime(2026, 11, 21, 8, 0, tzinfo=SHANGHAI)) == [], "24 h: in time"
        assert held(datetime(2026, 11, 21, 8, 1, tzinfo=SHANGHAI)) == [("SNAWAY", 60.0)]
        assert held(datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)) == [("SNAWAY", 91800.0)]
    finally:
        ledger.close()
    assert daemon.cli("audit", "verify").returncode == 0
