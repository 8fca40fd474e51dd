"""The backlog as people see it: the status document, /metrics and the nightly report,
each from the same use cases over in-memory fakes; absent on a single box."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from dockd.adapters.rules import load_policy
from dockd.core.backlog import CentralCandidate
from dockd.core.policy import PolicyPack
from dockd.services.report import Reports
from dockd.services.status import StatusService
from dockd.ui.i18n import Locale
from dockd.ui.report import render_html, render_text
from dockd.web.metrics import render_metrics
from dockd.web.routes import environment
from tests.fakes.backlog import FakeBacklogRecords, HeldObject
from tests.fakes.report import FakeMail, FakeReportRecords
from tests.fakes.status import FakeStationClock, FakeStatusLedger, FakeStoreSpace

RULES = Path(__file__).resolve().parents[2] / "rules"
QIDONG = load_policy(RULES, "qidong")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MIB = 1 << 20


def records() -> FakeBacklogRecords:
    return FakeBacklogRecords(
        objects=[
            HeldObject(8 * MIB, NOW - timedelta(hours=30), None),
            HeldObject(3 * MIB, NOW - timedelta(hours=2), "failed", "CENTRAL_UNREACHABLE"),
            HeldObject(5 * MIB, NOW - timedelta(days=3), "confirmed"),
        ],
        recordings=[
            CentralCandidate(7, "SN1", "/DCIM/7.MP4", NOW - timedelta(hours=30), None, None, None),
            CentralCandidate(
                8,
                "SN1",
                "/DCIM/8.MP4",
                NOW - timedelta(hours=2),
                "failed",
                None,
                "CENTRAL_UNREACHABLE",
            ),
        ],
    )


def status(backlog: FakeBacklogRecords | None, pack: PolicyPack = QIDONG) -> StatusService:
    return StatusService(
        FakeStatusLedger(),
        board=None,
        station_clock=FakeStationClock,
        store_space=FakeStoreSpace(),
        store_root="/srv/dockd",
        policy=pack,
        host="dock-1",
        version="1.0",
        clock=lambda: NOW,
        backlog=backlog,
    )


def test_the_status_document_shows_the_backlog_and_what_is_late() -> None:
    doc = status(records()).document()
    assert doc.central is not None
    b = doc.central.backlog
    assert (b.objects, b.bytes, b.failed, b.unsent, b.confirmed) == (2, 11 * MIB, 1, 1, 1)
    assert b.oldest_s == 30 * 3600
    assert [(f.code, f.objects) for f in b.failed_codes] == [("CENTRAL_UNREACHABLE", 1)]
    assert doc.central.late_to_central == 1  # recording 8 is 2 h old: not due yet
    assert [a.text for a in doc.alerts if "central" in a.text] == [
        "Recordings not confirmed in the central store within 24 h of their offload: 1."
    ]


def test_a_single_box_has_no_central_section() -> None:
    doc = status(None).document()
    assert doc.central is None
    assert '"central":null' in status(None).document_json().decode()
    assert not [a for a in doc.alerts if "central" in a.text]


def test_the_pack_sets_how_long_forwarding_may_take() -> None:
    quick = QIDONG.model_copy(
        update={"forwarding": QIDONG.forwarding.model_copy(update={"confirm_within_hours": 1.0})}
    )
    central = status(records(), quick).document().central
    assert central is not None
    assert (central.late_to_central, central.confirm_within_hours) == (2, 1.0)


def test_the_default_is_dockds_own() -> None:
    assert QIDONG.forwarding.confirm_within_hours == 24.0
    assert QIDONG.forwarding.dockd_own == ["confirm_within_hours"]


def _metrics(service: StatusService) -> dict[str, float]:
    text = render_metrics(service).decode()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("dockd_central_")
    }


def test_metrics_gauge_the_backlog() -> None:
    assert _metrics(status(records())) == {
        "dockd_central_backlog_objects": 2.0,
        "dockd_central_backlog_bytes": float(11 * MIB),
        "dockd_central_backlog_oldest_seconds": 30 * 3600.0,
        "dockd_central_failed_objects": 1.0,
        "dockd_central_lock_upkeep_overdue_objects": 0.0,
        "dockd_central_lock_upkeep_oldest_seconds": 0.0,
        "dockd_central_late_recordings": 1.0,
    }
    assert _metrics(status(None)) == {}


def lagging() -> FakeBacklogRecords:
    """Two central locks lag the ledger (another station's, say): for 3 h and for 20 min."""
    held = records()
    held.lags = [NOW - timedelta(minutes=20), NOW - timedelta(hours=3)]
    return held


def test_lock_upkeep_overdue_is_counted_with_the_oldest_lag() -> None:
    central = status(lagging()).document().central
    assert central is not None
    b = central.backlog
    assert (b.lock_upkeep_overdue, b.lock_upkeep_oldest_s) == (2, 3 * 3600.0)
    assert b.lock_upkeep_oldest_since == NOW - timedelta(hours=3)
    metrics = _metrics(status(lagging()))
    assert metrics["dockd_central_lock_upkeep_overdue_objects"] == 2.0
    assert metrics["dockd_central_lock_upkeep_oldest_seconds"] == 3 * 3600.0


def test_the_status_page_shows_lock_upkeep_overdue_only_when_a_lock_lags() -> None:
    def page(backlog: FakeBacklogRecords) -> str:
        env = environment(Locale("en", UTC))
        return env.get_template("_parts.html").render(host="dock-1", doc=status(backlog).document())

    assert (
        "Lock upkeep overdue: 2 objects whose central lock lags the ledger, the oldest for 3 h"
        in page(lagging())
    )
    assert "central-lock-upkeep" not in page(records())


def test_the_nightly_report_tells_lock_upkeep_overdue() -> None:
    line = "Lock upkeep overdue: 2 objects whose central lock lags the ledger, the oldest for 3 h."
    report, _ = reports(lagging()).deadlines(timedelta(hours=24))
    assert line in render_text(report, "Qidong") and line in render_html(report, "Qidong")
    report, _ = reports(records()).deadlines(timedelta(hours=24))
    assert "Lock upkeep" not in render_text(report, "Qidong")
    everything_confirmed = FakeBacklogRecords(lags=[NOW - timedelta(hours=3)])
    report, _ = reports(everything_confirmed).deadlines(timedelta(hours=24))
    text = render_text(report, "Qidong")
    one = line.replace("2 objects", "1 objects")
    assert "Every object held here is confirmed centrally (0).\n  " + one in text


def reports(backlog: FakeBacklogRecords | None) -> Reports:
    return Reports(FakeReportRecords(), QIDONG, lambda: NOW, lambda: FakeMail(), backlog)


def test_the_nightly_report_lists_recordings_late_and_the_backlog() -> None:
    report, _ = reports(records()).deadlines(timedelta(hours=24))
    assert [r.recording for r in report.late_to_central] == [7]
    assert report.counts()["late_to_central"] == 1
    assert not report.empty
    assert report.central_backlog is not None and report.central_backlog.objects == 2
    text = render_text(report, "Qidong")
    assert "LATE TO THE CENTRAL STORE (1)\n  - SN1 /DCIM/7.MP4 (recording 7): late by 6 h;" in text
    assert (
        "CENTRAL STORE BACKLOG\n"
        "  Not confirmed centrally: 2 objects, 11.0 MiB (1 not sent, 0 pending, 1 failed); "
        "1 confirmed.\n"
        "  Oldest stored 2026-11-21 06:00 UTC (1 d 6 h before this report).\n"
        "  Failed by error: CENTRAL_UNREACHABLE × 1.\n"
    ) in text
    html = render_html(report, "Qidong")
    assert '8px 0;">Late to the central store (1)</h2>\n<table cellspacing="0"' in html
    assert "Central store backlog</h2>" in html
    assert "Failed by error: CENTRAL_UNREACHABLE × 1." in html


def test_a_single_box_report_has_no_central_section() -> None:
    report, _ = reports(None).deadlines(timedelta(hours=24))
    assert report.central_backlog is None and report.late_to_central == []
    text = render_text(report, "Qidong")
    assert "central" not in text.lower()
    assert "central" not in render_html(report, "Qidong").lower()


def test_a_pack_may_set_its_own_time_and_must_cite_it() -> None:
    data = tomllib.loads((RULES / "policies" / "qidong.toml").read_text("utf-8"))
    data["forwarding"] = {"articles": ["002:16"], "confirm_within_hours": 12}
    assert PolicyPack.model_validate(data).forwarding.confirm_within_hours == 12.0
    data["forwarding"] = {"articles": [], "confirm_within_hours": 12}
    with pytest.raises(ValidationError, match="list every key in dockd_own"):
        PolicyPack.model_validate(data)
    data["forwarding"] = {"articles": ["002:16"], "confirm_within_hours": 0}
    with pytest.raises(ValidationError, match="greater than 0"):
        PolicyPack.model_validate(data)
