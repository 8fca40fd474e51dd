"""The status document assembled from plain facts, without a ledger, a board or a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dockd.core.status import (
    Assignment,
    LedgerFacts,
    StatusFacts,
    StoreSpace,
    VerifyRun,
    assemble,
    assigned_at,
    live_verdict,
    totals,
)
from dockd.core.status_document import ClockState, SessionLine
from dockd.core.views import DeadlineReport, DriftViolation, LateOffload
from dockd.daemon.board import SlotStatus

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
GIB = 1 << 30

COPYING = SlotStatus(
    slot="bay1",
    state="copying",
    serial="SN0002",
    profile="generic",
    session="S-COPY",
    files_total=8,
    files_done=3,
    bytes_total=800,
    bytes_done=300,
    started=100.0,
    updated=110.0,
    drift_s=-45.0,
)
DONE = SlotStatus(slot="bay2", state="done", serial="SN0001", session="S-DONE", files_total=3)

LINE = SessionLine(
    id="S-DONE",
    serial="SN0001",
    profile="generic",
    slot="bay2",
    state="completed",
    started_at=SINCE + timedelta(hours=9),
    finished_at=SINCE + timedelta(hours=10),
    recordings=3,
    already_verified=0,
    bytes_copied=7 * GIB,
    problems=0,
    error_code=None,
    drift_s=12.0,
    drift_verdict="warn",
)
DRIFT = DriftViolation(
    session="S-DONE",
    serial="SN0001",
    drift_s=12.0,
    method="clock-file",
    verdict="warn",
    at=SINCE + timedelta(hours=9),
    unit=None,
    custodian=None,
)
LEDGER = LedgerFacts(
    sessions_today=[LINE],
    drift_today=[DRIFT],
    verdicts={"S-DONE": "warn"},
    week_bytes=7 * GIB,
    recordings=40,
    bytes=90 * GIB,
    by_state={"completed": 9, "running": 1},
)
SYNCED = ClockState(
    synchronised=True,
    offset_s=0.001,
    server="127.0.0.1:123",
    stratum=2,
    method="ntp",
    measured_at=NOW,
    detail="ok",
)
VERIFIED = VerifyRun(at=SINCE - timedelta(days=1), checked=10, ok=None, findings=[])
FACTS = StatusFacts(
    live=True,
    summary="1 copying, 1 done",
    started_at=NOW - timedelta(hours=2),
    slots=[COPYING, DONE],
    since=SINCE,
    ledger=LEDGER,
    report=None,
    verifies=[VERIFIED],
    assignments={
        "SN0002": [
            Assignment("Li Wei", "012", "Night shift", NOW - timedelta(days=30), NOW),
            Assignment("Wang Fang", "007", "Harbour patrol", NOW, None),
        ]
    },
    clock=SYNCED,
    store=StoreSpace("/srv/dockd", 1000 * GIB, 500 * GIB),
    store_error=None,
    host="dock-1",
    version="1.0",
    policy_id="qidong",
    policy_name="Qidong",
    drift_warn_s=10.0,
    drift_violation_s=30.0,
)


def _report(**lists: object) -> DeadlineReport:
    empty: dict[str, object] = {
        k: []
        for k in (
            "late_offloads",
            "overdue_recorders",
            "drift_violations",
            "interruptions",
            "unsealed_sessions",
            "verify_failures",
        )
    }
    return DeadlineReport.model_validate(
        {"pack": "qidong", "since": SINCE, "until": NOW, **empty, **lists}
    )


def test_slot_cards_come_from_the_board_the_registry_and_the_ledger() -> None:
    doc = assemble(FACTS, NOW)
    copying, done = doc.slots
    assert (copying.slot, copying.state, copying.files_done, copying.bytes_done) == (
        "bay1",
        "copying",
        3,
        300,
    )
    assert copying.rate_bps == pytest.approx(30.0)
    assert copying.eta_s == pytest.approx(500 / 30)
    assert copying.drift_verdict == "violation"  # 45 s off is past 30 s even as a lower bound
    assert (copying.custodian, copying.unit) == ("Wang Fang (007)", "Harbour patrol")  # as of now
    assert not copying.safe_to_unplug
    assert done.safe_to_unplug and done.rate_bps is None
    assert done.drift_verdict == "warn"  # the finished session's verdict, from the ledger
    assert (done.custodian, done.unit) == (None, None)  # not registered
    assert doc.live and doc.summary == "1 copying, 1 done"
    assert doc.station.uptime_s == 7200.0 and doc.station.policy == "qidong"


def test_a_drift_below_the_limits_is_not_judged_while_copying() -> None:
    assert live_verdict(None, 10.0, 30.0) is None
    assert live_verdict(5.0, 10.0, 30.0) is None  # never "ok": not known how it was measured
    assert live_verdict(-12.0, 10.0, 30.0) == "warn"
    assert live_verdict(30.0, 10.0, 30.0) == "violation"


def test_who_was_responsible_at_a_moment() -> None:
    history = FACTS.assignments["SN0002"]
    assert assigned_at(history, NOW - timedelta(days=31)) is None
    found = assigned_at(history, NOW - timedelta(seconds=1))
    assert found is not None and found.who == "Li Wei (012)"
    found = assigned_at(history, NOW)
    assert found is not None and found.who == "Wang Fang (007)"


def test_today_from_the_deadline_report() -> None:
    late = LateOffload(
        recording=1,
        serial="SN0001",
        path="A.AVI",
        end=SINCE,
        deadline=SINCE + timedelta(hours=8),
        offloaded_at=SINCE + timedelta(hours=9),
        late_by_s=3600.0,
        unit=None,
        custodian=None,
    )
    doc = assemble(replace(FACTS, report=_report(late_offloads=[late])), NOW)
    today = doc.today
    assert today.deadline_report and today.late_offloads == [late]
    assert today.drift_violations == []  # the report's, not the sessions'
    assert (today.since, today.until, today.sessions) == (SINCE, NOW, [LINE])


def test_without_the_report_today_is_partial_and_says_so() -> None:
    failed = VerifyRun(at=SINCE + timedelta(hours=1), checked=10, ok=9, findings=[("o/1", "bad")])
    doc = assemble(replace(FACTS, verifies=[VERIFIED, failed]), NOW)
    today = doc.today
    assert not today.deadline_report
    assert today.late_offloads is None and today.overdue_recorders is None
    assert today.interruptions is None and today.unsealed_sessions is None
    assert today.drift_violations == [DRIFT]
    assert [(f.object, f.problem) for f in today.verify_failures] == [("o/1", "bad")]
    last = doc.station.last_verify
    assert last is not None and (last.result, last.ok, last.findings) == ("failed", 9, 1)


def test_store_space_and_how_long_it_lasts() -> None:
    store = assemble(FACTS, NOW).station.store
    assert store is not None
    assert store.ingest_bytes_per_day == GIB
    assert store.days_left == 500.0
    idle = assemble(replace(FACTS, ledger=replace(LEDGER, week_bytes=0)), NOW).station.store
    assert idle is not None and idle.days_left is None


def test_alerts_worst_first() -> None:
    assert assemble(FACTS, NOW).alerts == []
    error = SlotStatus(slot="bay3", state="error", code="MOUNT_FAILED", message="no")
    trouble = replace(
        FACTS,
        slots=[error],
        clock=None,
        store=StoreSpace("/srv/dockd", 1000 * GIB, 10 * GIB),  # 10 days at 1 GiB a day
        verifies=[VerifyRun(at=SINCE, checked=4, ok=3, findings=[("o/1", "corrupt")])],
    )
    alerts = assemble(trouble, NOW).alerts
    assert [a.level for a in alerts] == ["bad", "bad", "warn", "warn"]
    assert "1 of 4 objects" in alerts[0].text
    assert alerts[1].text == "Slot bay3: MOUNT_FAILED: no"
    assert alerts[2].text == "The station clock could not be read."
    assert "fills up in about 10.0 days" in alerts[3].text
    unreadable = replace(FACTS, store=None, store_error="cannot read /srv/dockd: gone")
    unsynced = replace(unreadable, clock=SYNCED.model_copy(update={"synchronised": False}))
    texts = [a.text for a in assemble(unsynced, NOW).alerts]
    assert texts == [
        "The station clock is not synchronised: ok",
        "The evidence store cannot be read: cannot read /srv/dockd: gone",
    ]


def test_from_the_ledger_alone_the_slots_are_unknown() -> None:
    offline = replace(FACTS, live=False, summary="daemon not running", started_at=None, slots=[])
    doc = assemble(offline, NOW)
    assert not doc.live and doc.slots == [] and doc.station.uptime_s is None


def test_totals_for_metrics() -> None:
    runs = [VERIFIED, VerifyRun(at=SINCE, checked=4, ok=2, findings=[("a", "x"), ("b", "y")])]
    found = totals(LEDGER, runs)
    assert (found.recordings, found.bytes, found.verify_failures) == (40, 90 * GIB, 2)
    assert found.sessions_by_state == {"completed": 9, "running": 1}
