"""The pure forwarding decisions: the lock each central copy needs, what confirms it,
and when the dock may let its own copy go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.forwarding import (
    CentralCopy,
    CentralHead,
    Expected,
    ObjectLock,
    Outgoing,
    Step,
    adoptable,
    confirmation_problems,
    may_free_local,
    needed_lock,
    step,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FALLBACK = NOW + timedelta(days=180)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(st.lists(st.one_of(st.none(), moments)), st.integers(0, 3), st.one_of(st.none(), moments))
def test_the_lock_is_the_latest_date_never_shorter_than_confirmed(
    dates: list[datetime | None], holds: int, confirmed: datetime | None
) -> None:
    lock = needed_lock(dates, holds, FALLBACK, confirmed)
    effective = [d if d is not None else FALLBACK for d in dates] or [FALLBACK]
    assert lock.retain_until >= max(effective)
    assert lock.retain_until - max(effective + ([confirmed] if confirmed else [])) < timedelta(
        seconds=1
    )
    assert lock.retain_until.microsecond == 0
    if confirmed is not None:
        assert lock.retain_until >= confirmed
    assert lock.legal_hold is (holds > 0)


def test_a_manifest_without_dated_recordings_gets_the_fallback() -> None:
    assert needed_lock([], 0, FALLBACK, None) == ObjectLock(FALLBACK, False)


def head(**changes: object) -> CentralHead:
    values: dict[str, object] = {
        "key": "k",
        "version_id": "v1",
        "size": 10,
        "checksum": "abc=",
        "checksum_type": "FULL_OBJECT",
        "lock_mode": "COMPLIANCE",
        "retain_until": FALLBACK,
        "legal_hold": False,
    }
    values.update(changes)
    return CentralHead(**values)  # type: ignore[arg-type]


EXPECTED = Expected("v1", 10, "abc=", FALLBACK, False)


def test_a_matching_head_confirms() -> None:
    assert confirmation_problems(EXPECTED, head()) == []
    assert confirmation_problems(EXPECTED, head(retain_until=FALLBACK + timedelta(days=1))) == []


def test_each_difference_is_named() -> None:
    assert confirmation_problems(EXPECTED, None) == ["no stored version v1"]
    cases = {
        "size 11, expected 10": head(size=11),
        "checksum xyz=, expected abc=": head(checksum="xyz="),
        "lock mode GOVERNANCE, expected COMPLIANCE": head(lock_mode="GOVERNANCE"),
        "lock mode None, expected COMPLIANCE": head(lock_mode=None),
        "legal hold ON, expected OFF": head(legal_hold=True),
        "version v2, expected v1": head(version_id="v2"),
    }
    for problem, shown in cases.items():
        assert confirmation_problems(EXPECTED, shown) == [problem]
    short = confirmation_problems(EXPECTED, head(retain_until=FALLBACK - timedelta(seconds=1)))
    assert len(short) == 1 and short[0].startswith("retain-until ")


def test_only_same_size_and_checksum_is_adopted() -> None:
    assert adoptable(head(), 10, "abc=")
    assert not adoptable(head(), 11, "abc=")
    assert not adoptable(head(), 10, "other=")
    assert not adoptable(None, 10, "abc=")


def copy(
    state: str = "confirmed", confirmed_at: datetime | None = NOW, **kw: object
) -> CentralCopy:
    values: dict[str, object] = {
        "blake3": "b" * 64,
        "key": "k",
        "state": state,
        "version_id": "v1",
        "checksum": "abc=",
        "retain_until": FALLBACK,
        "legal_hold": False,
        "confirmed_at": confirmed_at,
        "attempts": 1,
        "error_code": None,
    }
    values.update(kw)
    return CentralCopy(**values)  # type: ignore[arg-type]


@given(st.integers(0, 60), st.integers(0, 90), st.integers(0, 2), st.booleans())
def test_freeing_waits_for_the_days_and_for_a_central_hold(
    days: int, after: int, holds: int, central_hold: bool
) -> None:
    now = NOW + timedelta(days=after)
    allowed = may_free_local(copy(legal_hold=central_hold), now, days, holds)
    assert allowed is (after >= days and (holds == 0 or central_hold))


def test_nothing_unconfirmed_is_freed() -> None:
    later = NOW + timedelta(days=400)
    assert not may_free_local(None, later, 0, 0)
    assert not may_free_local(copy("failed"), later, 0, 0)
    assert not may_free_local(copy("pending"), later, 0, 0)
    assert not may_free_local(copy(confirmed_at=None), later, 0, 0)


def outgoing(lock: ObjectLock, known: CentralCopy | None) -> Outgoing:
    return Outgoing("b" * 64, "s" * 64, 10, "objects/x", "p/objects/x", lock, known, True)


def test_the_step_per_object() -> None:
    lock = ObjectLock(FALLBACK, False)
    assert step(outgoing(lock, None)) is Step.SEND
    assert step(outgoing(lock, copy("failed"))) is Step.SEND
    assert step(outgoing(lock, copy())) is Step.NOTHING
    longer = ObjectLock(FALLBACK + timedelta(days=1), False)
    assert step(outgoing(longer, copy())) is Step.UPDATE_LOCK
    assert step(outgoing(ObjectLock(FALLBACK, True), copy())) is Step.UPDATE_LOCK
    assert step(outgoing(lock, copy(legal_hold=True))) is Step.UPDATE_LOCK
