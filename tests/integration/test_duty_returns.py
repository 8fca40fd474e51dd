"""Two returns from remote duty recorded for one officer, the later one first.

001:13 (as 000:24, 003/D:14, 004:21): "应当在返回单位后24小时内" — within 24 h of returning
to the unit. The officer returned at the earlier time, so that return sets the deadline,
whatever order the admin enters them in. The dates are written out by hand.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dockd.adapters.ledger.schema import RecordingRow
from tests.conftest import Dockd
from tests.integration.test_policy_packs_e2e import (
    ingest,
    ledger_api,
    name,
    recorder,
    recordings,
    use_pack,
    when,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The officer's last recording of 3 March 2026 ends at 17:30; the recorder docked at 12:00
#: on 5 March: late by 18 h 30 min against 17:30 on 4 March.
DAY_END = datetime(2026, 3, 3, 17, 30, tzinfo=SHANGHAI)
DOCKED = datetime(2026, 3, 5, 12, 0, tzinfo=SHANGHAI)


def backdate(dockd: Dockd, end: datetime = DAY_END) -> str:
    """The clock cannot be moved: ingest now, then set the recording's times to the hand-
    written day in the ledger (so no `audit verify` here: that edit is what it catches)."""
    ledger = ledger_api(dockd)
    try:
        with ledger.transaction() as s:
            row = s.scalars(select(RecordingRow)).one()
            row.start = row.end = end
            row.day_end = DAY_END
            row.corrected_start = row.corrected_end = None
            row.verified_at = DOCKED
            row.deadline = datetime(2026, 3, 4, 17, 30, tzinfo=SHANGHAI)
            row.late, row.late_by_s = True, 18.5 * 3600
            return row.path
    finally:
        ledger.close()


def excuse(dockd: Dockd, returned: datetime) -> str:
    result = dockd.run(
        "excuse", "--badge", "4107", "--returned-at", returned.isoformat(), "--reason", "away"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_earlier_second_return_brings_the_deadline_back(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "luoyang-water")
    clip = name("LY01", "4107", datetime(2026, 3, 3, 17, 0, tzinfo=SHANGHAI))
    ingest(dockd, recorder(tmp_path / "rec", {clip: b"away"}), "LY01")
    path = backdate(dockd)

    # entered first: back at 09:00 on 5 March, due 09:00 on 6 March: on time
    assert "1 earlier recording(s) changed verdict" in excuse(
        dockd, datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI)
    )
    rec = recordings(dockd)[path]
    assert when(rec["deadline"]) == datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI)
    assert rec["late"] is False

    # then the real return: 08:00 on 4 March, due 08:00 on 5 March; docked 12:00: 4 h late
    assert "1 earlier recording(s) changed verdict" in excuse(
        dockd, datetime(2026, 3, 4, 8, 0, tzinfo=SHANGHAI)
    )
    rec = recordings(dockd)[path]
    assert when(rec["deadline"]) == datetime(2026, 3, 5, 8, 0, tzinfo=SHANGHAI)
    assert rec["late"] is True
    assert rec["late_by_s"] == 4 * 3600


def test_a_return_before_the_day_ended_leaves_the_day_end_deadline(
    dockd: Dockd, tmp_path: Path
) -> None:
    """A clip ends at 10:00 on 3 March, the day's last at 17:30; back at 12:00 that day:
    due 17:30 on 4 March (the day's work ends last, 001:13), even after a later return
    had moved the deadline to 09:00 on 6 March."""
    use_pack(dockd, "luoyang-water")
    clip = name("LY01", "4107", datetime(2026, 3, 3, 9, 50, tzinfo=SHANGHAI))
    ingest(dockd, recorder(tmp_path / "rec", {clip: b"away"}), "LY01")
    path = backdate(dockd, end=datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    excuse(dockd, datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    assert when(recordings(dockd)[path]["deadline"]) == datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI)
    excuse(dockd, datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI))
    rec = recordings(dockd)[path]
    assert when(rec["deadline"]) == datetime(2026, 3, 4, 17, 30, tzinfo=SHANGHAI)
    assert rec["late"] is True
    assert rec["late_by_s"] == 18.5 * 3600
