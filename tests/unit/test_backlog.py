"""The forwarding backlog and recordings late to the central store: the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.backlog import (
    CentralCandidate,
    FailedCode,
    backlog,
    central_status,
    late_to_central,
)
from tests.fakes.backlog import HeldObject, grouped

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
MIB = 1 << 20

STATES = st.sampled_from([None, "pending", "failed", "confirmed"])
CODES = st.sampled_from([None, "CENTRAL_UNREACHABLE", "CENTRAL_AUTH", "CENTRAL_CHECKSUM"])
MOMENTS = st.integers(min_value=-10 * 86400, max_value=0).map(lambda s: NOW + timedelta(seconds=s))


@st.composite
def held_objects(draw: st.DrawFn) -> HeldObject:
    state = draw(STATES)
    code = draw(CODES) if state == "failed" else None
    return HeldObject(draw(st.integers(0, 1 << 34)), draw(MOMENTS), state, code)


def test_the_backlog_of_a_station_counts_everything_not_confirmed() -> None:
    objects = [
        HeldObject(8 * MIB, NOW - timedelta(hours=30), None),
        HeldObject(4 * MIB, NOW - timedelta(hours=2), "pending"),
        HeldObject(2 * MIB, NOW - timedelta(hours=5), "failed", "CENTRAL_UNREACHABLE"),
        HeldObject(1 * MIB, NOW - timedelta(hours=1), "failed", "CENTRAL_UNREACHABLE"),
        HeldObject(1 * MIB, NOW - timedelta(hours=3), "failed", "CENTRAL_AUTH"),
        HeldObject(64 * MIB, NOW - timedelta(days=9), "confirmed"),
    ]
    b = backlog(grouped(objects), NOW)
    assert (b.objects, b.bytes) == (5, 16 * MIB)
    assert b.oldest_stored_at == NOW - timedelta(hours=30)
    assert b.oldest_s == 30 * 3600
    assert (b.unsent, b.pending, b.failed, b.confirmed) == (1, 1, 3, 1)
    assert b.failed_codes == [
        FailedCode(code="CENTRAL_UNREACHABLE", objects=2),
        FailedCode(code="CENTRAL_AUTH", objects=1),
    ]


def test_no_backlog_has_no_oldest() -> None:
    b = backlog(grouped([HeldObject(MIB, NOW, "confirmed")]), NOW)
    assert (b.objects, b.bytes, b.oldest_stored_at, b.oldest_s, b.confirmed) == (
        0,
        0,
        None,
        None,
        1,
    )


@given(st.lists(held_objects(), max_size=40))
def test_the_backlog_is_that_of_the_objects_whatever_their_grouping(
    objects: list[HeldObject],
) -> None:
    groups = grouped(objects)
    open_ = [o for o in objects if o.state != "confirmed"]
    b = backlog(groups, NOW)
    assert b.objects == len(open_)
    assert b.bytes == sum(o.size for o in open_)
    assert b.oldest_stored_at == min((o.stored_at for o in open_), default=None)
    assert b.failed == sum(f.objects for f in b.failed_codes)
    assert b.objects == b.unsent + b.pending + b.failed
    assert b.confirmed == len(objects) - len(open_)
    assert backlog(reversed(groups), NOW) == b  # the ledger returns groups in no set order


def candidate(
    hours_ago: float, state: str | None, confirmed_after_h: float | None = None, n: int = 1
) -> CentralCandidate:
    offloaded = NOW - timedelta(hours=hours_ago)
    confirmed = (
        None if confirmed_after_h is None else offloaded + timedelta(hours=confirmed_after_h)
    )
    code = "CENTRAL_FULL" if state == "failed" else None
    return CentralCandidate(n, "SN1", f"/DCIM/{n}.MP4", offloaded, state, confirmed, code)


def test_late_to_the_central_store_in_a_period() -> None:
    since = NOW - DAY
    found = late_to_central(
        [
            candidate(30, None, n=1),  # due 6 h ago, never sent: late by 6 h
            candidate(26, "failed", n=2),  # due 2 h ago, failed: late by 2 h
            candidate(20, "pending", n=3),  # due in 4 h: not yet
            candidate(40, "confirmed", 10, n=4),  # in time
            candidate(40, "confirmed", 30, n=5),  # confirmed 10 h ago, 6 h late: this period
            candidate(80, "confirmed", 30, n=6),  # confirmed late before the period: reported then
        ],
        DAY,
        since,
        NOW,
    )
    assert [(x.recording, x.state, x.late_by_s, x.error_code) for x in found] == [
        (5, "confirmed", 6 * 3600, None),
        (1, "unsent", 6 * 3600, None),
        (2, "failed", 2 * 3600, "CENTRAL_FULL"),
    ]
    assert found[0].confirmed_at == NOW - timedelta(hours=10)
    assert found[1].deadline == NOW - timedelta(hours=6)
    assert found[1].confirmed_at is None


def test_confirmed_after_the_period_was_late_at_its_end() -> None:
    until = NOW - timedelta(hours=2)
    (x,) = late_to_central([candidate(30, "confirmed", 29)], DAY, until - DAY, until)
    assert (x.confirmed_at, x.late_by_s) == (None, 4 * 3600)


def test_the_status_counts_what_is_late_now() -> None:
    c = central_status(
        grouped([HeldObject(MIB, NOW - timedelta(hours=30), None)]),
        [candidate(30, None), candidate(40, "confirmed", 30, n=2)],
        DAY,
        NOW,
    )
    assert (c.backlog.objects, c.late_to_central, c.confirm_within_hours) == (1, 1, 24.0)


OFFLOADS = st.integers(0, 96 * 3600)


@given(
    OFFLOADS,
    st.one_of(st.none(), st.integers(0, 96 * 3600)),
    st.lists(st.integers(1, 12 * 3600), min_size=1, max_size=12),
)
def test_a_late_confirmation_is_reported_once_over_consecutive_periods(
    offload_s: int, confirm_after_s: int | None, lengths: list[int]
) -> None:
    """Nightly reports cover consecutive periods: a recording confirmed late appears as
    confirmed in exactly the period of its confirmation, as open in every earlier period
    past its deadline, and a recording confirmed in time never appears."""
    start = NOW - timedelta(days=10)
    offloaded = start + timedelta(seconds=offload_s)
    deadline = offloaded + DAY
    confirmed = None if confirm_after_s is None else offloaded + timedelta(seconds=confirm_after_s)
    c = CentralCandidate(
        1,
        "SN1",
        "/a.MP4",
        offloaded,
        "pending" if confirmed is None else "confirmed",
        confirmed,
        None,
    )
    bounds = [start]
    for n in lengths:
        bounds.append(bounds[-1] + timedelta(seconds=n))
    as_confirmed = 0
    for since, until in pairwise(bounds):
        found = late_to_central([c], DAY, since, until)
        done = confirmed is not None and confirmed < until
        settled = confirmed is not None and (confirmed <= deadline or confirmed < since)
        if deadline >= until or (done and settled):
            assert found == []
            continue
        (x,) = found
        assert x.late_by_s > 0
        if done:
            as_confirmed += 1
            assert x.confirmed_at == confirmed and x.state == "confirmed"
        else:
            assert x.confirmed_at is None
            assert x.late_by_s == (until - deadline).total_seconds()
    late_in_window = (
        confirmed is not None and deadline < confirmed and bounds[0] <= confirmed < bounds[-1]
    )
    assert as_confirmed == (1 if late_in_window else 0)


def test_confirmed_objects_whose_lock_update_failed_are_counted() -> None:
    objects = [
        HeldObject(MIB, NOW, "confirmed"),
        HeldObject(MIB, NOW, "confirmed", "CENTRAL_FAILED"),
        HeldObject(MIB, NOW, "failed", "CENTRAL_FAILED"),
    ]
    b = backlog(grouped(objects), NOW)
    assert (b.objects, b.failed, b.confirmed, b.lock_failed) == (1, 1, 2, 1)
