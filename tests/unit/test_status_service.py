"""The status service over in-memory fakes: what it asks the ledger, how long it keeps
what it read (one cache policy for every part), and what it shows when a part fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from structlog.testing import capture_logs

from dockd.adapters.rules import load_policy
from dockd.core.status import Assignment
from dockd.core.views import SessionView
from dockd.daemon.board import SlotStatus
from dockd.services.status import LEDGER_TTL_S, REPORT_TTL_S, Cached, StatusService
from tests.fakes.status import FakeBoard, FakeStationClock, FakeStatusLedger, FakeStoreSpace

RULES = Path(__file__).resolve().parents[2] / "rules"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _service(
    ledger: FakeStatusLedger, board: FakeBoard | None, ticks: Ticks, store: FakeStoreSpace
) -> StatusService:
    return StatusService(
        ledger,
        board=board,
        station_clock=FakeStationClock,
        store_space=store,
        store_root="/srv/dockd",
        policy=load_policy(RULES, "qidong"),
        host="dock-1",
        version="1.0",
        clock=lambda: NOW,
        monotonic=ticks,
    )


def test_one_cache_policy_a_value_lives_for_its_ttl_and_its_key() -> None:
    ticks = Ticks()
    cache: Cached[int] = Cached(10.0, ticks)
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.get("a", compute) == 1
    assert cache.get("a", compute) == 1
    assert cache.get("b", compute) == 2  # its key changed
    ticks.now = 10.0
    assert cache.get("b", compute) == 3  # its time is up


def test_pages_polling_cost_the_ledger_one_read_per_ttl() -> None:
    ledger, ticks = FakeStatusLedger(), Ticks()
    board = FakeBoard([SlotStatus(slot="bay1", state="copying", serial="SN1", session="S1")])
    service = _service(ledger, board, ticks, FakeStoreSpace())
    for _ in range(20):
        service.document()
        service.document_json()
        ticks.now += 0.1  # 20 polls in 2 s
    assert ledger.asked == {"facts": 1, "deadline_report": 1, "verify_runs": 1, "assignments": 1}
    ticks.now = LEDGER_TTL_S + 1
    service.document()
    assert ledger.asked["facts"] == 2 and ledger.asked["deadline_report"] == 1


def test_a_slot_change_rereads_the_sessions_and_an_ended_session_the_report() -> None:
    ledger, ticks = FakeStatusLedger(), Ticks()
    board = FakeBoard([SlotStatus(slot="bay1", state="copying", serial="SN1", session="S1")])
    service = _service(ledger, board, ticks, FakeStoreSpace())
    service.document()
    ticks.now += 1
    board.slots = [SlotStatus(slot="bay1", state="verifying", serial="SN1", session="S1")]
    service.document()
    assert (ledger.asked["facts"], ledger.asked["deadline_report"]) == (2, 1)
    ticks.now += 1
    board.slots = [SlotStatus(slot="bay1", state="done", serial="SN1", session="S1")]
    service.document()
    assert (ledger.asked["facts"], ledger.asked["deadline_report"]) == (3, 2)
    assert REPORT_TTL_S > 2


def test_a_failed_deadline_report_leaves_a_partial_picture() -> None:
    ledger = FakeStatusLedger(report_fails=True)
    with capture_logs() as logs:
        doc = _service(ledger, FakeBoard(), Ticks(), FakeStoreSpace()).document()
    assert not doc.today.deadline_report and doc.today.late_offloads is None
    assert [e["event"] for e in logs] == ["deadline-report-failed"]


def test_an_unreadable_store_and_no_board() -> None:
    doc = _service(FakeStatusLedger(), None, Ticks(), FakeStoreSpace(None)).document()
    assert not doc.live and doc.summary == "daemon not running" and doc.slots == []
    assert doc.station.store is None
    assert doc.station.store_error == "cannot read /srv/dockd: No such file or directory"
    assert doc.alerts[0].level == "bad"


def test_the_custodian_of_a_session_is_the_one_at_its_start() -> None:
    started = NOW - timedelta(days=1)
    view = SessionView(
        id="S1",
        serial="SN1",
        profile="generic",
        slot="bay1",
        source="/media/SN1",
        station="dock-1",
        state="completed",
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        files_seen=3,
        recordings=3,
        already_verified=0,
        bytes_copied=300,
        error_code=None,
        problems=[],
        manifest=None,
        station_clock=None,
        recorder_clock=None,
    )
    ledger = FakeStatusLedger(
        sessions={"S1": view},
        history={
            "SN1": [
                Assignment("Li Wei", "012", "Night shift", NOW - timedelta(days=9), NOW),
                Assignment("Wang Fang", "007", "Harbour patrol", NOW, None),
            ]
        },
    )
    service = _service(ledger, None, Ticks(), FakeStoreSpace())
    assert service.session("S-NONE") is None
    detail = service.session("S1")
    assert detail is not None and detail.session == view
    assert (detail.custodian, detail.unit) == ("Li Wei (012)", "Night shift")
