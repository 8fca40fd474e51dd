"""Where activities get matched without anyone asking (after a dock session, before a
report) and where the report's trends come from, over in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from dockd.adapters.rules import load_policy
from dockd.core.trends import OffloadFact, UnitEvent
from dockd.errors import LedgerError
from dockd.services.report import Reports
from tests.conftest import REPO
from tests.fakes.activities import FakeActivityRecords
from tests.fakes.dock import FakeFile
from tests.fakes.report import FakeMail, FakeReportRecords
from tests.unit.test_dock_session import Dock, clip, name

NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)
DALIAN = load_policy(REPO / "rules", "dalian-jinpu-ocean")


class FakeTrends:
    def __init__(self) -> None:
        self.asked: list[tuple[datetime, datetime]] = []

    def trend_facts(
        self, since: datetime, until: datetime
    ) -> tuple[list[OffloadFact], list[UnitEvent], list[UnitEvent]]:
        self.asked.append((since, until))
        late = OffloadFact("Harbour", NOW - timedelta(hours=1), NOW - timedelta(hours=3), True)
        return [late], [UnitEvent("Harbour", NOW - timedelta(days=2))], []


def service(activities: FakeActivityRecords, trends: FakeTrends) -> Reports:
    records = FakeReportRecords(last_until=NOW - timedelta(hours=30))
    return Reports(
        records, DALIAN, lambda: NOW, FakeMail, None, trends=trends, activities=activities
    )


def test_the_report_matches_its_period_first_and_a_page_view_does_not() -> None:
    activities, trends = FakeActivityRecords(), FakeTrends()
    reports = service(activities, trends)
    reports.deadlines(None)
    assert activities.calls == [("rematch", NOW - timedelta(hours=30), None, "dockd-report")]
    reports.deadlines(timedelta(hours=24), match=False)
    assert len(activities.calls) == 1


def test_the_report_carries_thirty_days_of_trends_per_unit() -> None:
    trends = FakeTrends()
    report, _ = service(FakeActivityRecords(), trends).deadlines(timedelta(hours=24))
    [(since, until)] = trends.asked
    assert until - since == timedelta(days=30)
    assert since <= NOW - timedelta(days=29) and until > NOW
    assert report.trends is not None and report.trends.days == 30
    [harbour] = report.trends.units
    assert harbour.unit == "Harbour" and harbour.deadline_h == DALIAN.offload.deadline_hours
    assert len(harbour.days) == 30
    assert sum(d.late_offloads for d in harbour.days) == 1
    assert sum(d.drift_violations for d in harbour.days) == 1
    # its deadline's clock started 3 h + 24 h before it was due, it came 1 h before: 26 h
    assert max(d.worst_delay_h or 0 for d in harbour.days) == 26.0


def test_a_dock_session_matches_the_span_of_what_it_copied() -> None:
    dock = Dock(DALIAN, {name(i): FakeFile(clip(i)) for i in range(1, 3)})
    dock.service.activities = activities = FakeActivityRecords()
    outcome = dock.ingest()
    assert outcome.state == "completed"
    [(kind, since, until, by)] = activities.calls
    assert (kind, by) == ("match_window", "dockd")
    starts = [r.times.start for r in outcome.copied]
    ends = [r.times.end for r in outcome.copied]
    assert (since, until) == (min(starts), max(ends))


def test_a_failed_match_is_logged_and_the_session_stands() -> None:
    dock = Dock(DALIAN, {name(1): FakeFile(clip(1))})
    dock.service.activities = FakeActivityRecords(fail=LedgerError("ledger busy"))
    with capture_logs() as logs:
        outcome = dock.ingest()
    assert outcome.state == "completed" and len(outcome.copied) == 1
    [failed] = [e for e in logs if e["event"] == "activities-match-failed"]
    assert (failed["code"], failed["message"]) == ("LEDGER_FAILED", "ledger busy")


def test_nothing_copied_nothing_matched() -> None:
    dock = Dock(DALIAN, {})
    dock.service.activities = activities = FakeActivityRecords()
    dock.ingest()
    assert activities.calls == []
