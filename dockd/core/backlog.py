"""The forwarding backlog and recordings late to the central store, decided purely.

The ledger fetches candidates (`dockd.adapters.ledger.backlog`); the rules here decide
what counts: an object is in the backlog until its central copy is *confirmed* (a row
`pending` or `failed`, or no row at all, is not), and a recording is late to the central
store when its confirmation did not come within the pack's `[forwarding]
confirm_within_hours` of its offload. Beside them, "lock upkeep overdue": the objects, of
any station, whose confirmed central copy's lock lags what the ledger wants (a hold not
yet set, a retention not yet extended), and since when; past `[central]
upkeep_takeover_minutes` any station takes their upkeep over. The status page, `/metrics`,
`dockd status --json` and the nightly report all show these same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dockd.core.rfc3339 import Rfc3339

CentralState = Literal["unsent", "pending", "failed", "confirmed"]


@dataclass(frozen=True)
class HeldGroup:
    """Objects this station holds that share one central state and error code.

    `state` None: no `central_copies` row (never sent)."""

    state: str | None
    error_code: str | None
    objects: int
    bytes: int
    oldest: datetime | None  # the earliest `objects.stored_at` of the group


@dataclass(frozen=True)
class CentralCandidate:
    """A recording of this station whose central deadline may have passed."""

    recording: int
    serial: str
    path: str
    offloaded_at: datetime  # verified_at: the offload the deadline runs from
    state: str | None  # central_copies.state of its object; None: never sent
    confirmed_at: datetime | None
    error_code: str | None


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailedCode(_Doc):
    code: str = Field(description="The stable error code of the last failed attempt.")
    objects: int


class CentralBacklog(_Doc):
    """What this station holds that the central store has not confirmed."""

    objects: int = Field(description="Objects held here and not confirmed centrally.")
    bytes: int
    oldest_stored_at: Rfc3339 | None = Field(
        description="When the oldest of them was stored here; null: no backlog."
    )
    oldest_s: float | None = Field(description="Its age in seconds; null: no backlog.")
    unsent: int = Field(description="Of them: never sent.")
    pending: int = Field(description="Of them: sent, not yet confirmed.")
    failed: int = Field(description="Of them: the last attempt failed.")
    failed_codes: list[FailedCode] = Field(description="Failed objects by error code, most first.")
    confirmed: int = Field(description="Objects held here and confirmed centrally.")
    lock_failed: int = Field(
        0,
        description="Of the confirmed: the last update of their central lock (a longer "
        "retention, a hold) failed; the next pass tries again.",
    )
    lock_upkeep_overdue: int = Field(
        0,
        description="Objects of any station on the ledger whose confirmed central copy's lock "
        "lags what the ledger wants (a hold not yet set or released, a longer retention not "
        "yet extended); past [central] upkeep_takeover_minutes any station takes the upkeep "
        "over from the one that sent it.",
    )
    lock_upkeep_oldest_since: Rfc3339 | None = Field(
        None, description="When the longest of those lags began; null: none lags."
    )
    lock_upkeep_oldest_s: float | None = Field(
        None, description="Its age in seconds; null: none lags."
    )


class LateToCentral(_Doc):
    recording: int
    serial: str
    path: str
    offloaded_at: Rfc3339
    deadline: Rfc3339 = Field(description="offloaded_at + [forwarding] confirm_within_hours.")
    state: CentralState = Field(description="Its object's central state now.")
    confirmed_at: Rfc3339 | None = Field(description="Null: not confirmed by the period's end.")
    late_by_s: float = Field(description="Confirmation (or the period's end) − deadline.")
    error_code: str | None


@dataclass(frozen=True)
class LockUpkeep:
    """How many central locks lag the ledger, and the longest lag."""

    overdue: int
    oldest_since: datetime | None
    oldest_s: float | None


def lock_upkeep(lags: Iterable[datetime], now: datetime) -> LockUpkeep:
    """`lags`: when each lagging lock began to lag."""
    since = list(lags)
    oldest = min(since, default=None)
    age = None if oldest is None else max(0.0, (now - oldest).total_seconds())
    return LockUpkeep(len(since), oldest, age)


def backlog(
    groups: Iterable[HeldGroup], now: datetime, lags: Iterable[datetime] = ()
) -> CentralBacklog:
    """The backlog of these held objects; `confirmed` groups count only as confirmed.
    `lags`: when each lagging central lock (any station's) began to lag."""
    upkeep = lock_upkeep(lags, now)
    objects = nbytes = unsent = pending = failed = confirmed = lock_failed = 0
    oldest: datetime | None = None
    codes: dict[str, int] = {}
    for g in groups:
        if g.state == "confirmed":
            confirmed += g.objects
            lock_failed += g.objects if g.error_code else 0
            continue
        objects += g.objects
        nbytes += g.bytes
        if g.oldest is not None and (oldest is None or g.oldest < oldest):
            oldest = g.oldest
        if g.state is None:
            unsent += g.objects
        elif g.state == "failed":
            failed += g.objects
            code = g.error_code or "UNKNOWN"
            codes[code] = codes.get(code, 0) + g.objects
        else:
            pending += g.objects
    return CentralBacklog(
        objects=objects,
        bytes=nbytes,
        oldest_stored_at=oldest,
        oldest_s=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        unsent=unsent,
        pending=pending,
        failed=failed,
        failed_codes=[
            FailedCode(code=c, objects=n)
            for c, n in sorted(codes.items(), key=lambda i: (-i[1], i[0]))
        ],
        confirmed=confirmed,
        lock_failed=lock_failed,
        lock_upkeep_overdue=upkeep.overdue,
        lock_upkeep_oldest_since=upkeep.oldest_since,
        lock_upkeep_oldest_s=upkeep.oldest_s,
    )


def late_to_central(
    candidates: Iterable[CentralCandidate], within: timedelta, since: datetime, until: datetime
) -> list[LateToCentral]:
    """Recordings late to the central store as of `until`, for the period [since, until):
    every one whose deadline passed and that is still not confirmed (an open problem is
    reported every period until it is solved), and every one confirmed late within the
    period (reported once). Oldest deadline first."""
    late = []
    for c in candidates:
        deadline = c.offloaded_at + within
        if deadline >= until:
            continue
        confirmed = c.confirmed_at if c.state == "confirmed" and c.confirmed_at else None
        if confirmed is not None and confirmed >= until:
            confirmed = None  # not yet confirmed at the period's end
        if confirmed is not None and (confirmed <= deadline or confirmed < since):
            continue
        late.append(
            LateToCentral(
                recording=c.recording,
                serial=c.serial,
                path=c.path,
                offloaded_at=c.offloaded_at,
                deadline=deadline,
                state=_state(c.state),
                confirmed_at=confirmed,
                late_by_s=((confirmed or until) - deadline).total_seconds(),
                error_code=c.error_code if c.state == "failed" else None,
            )
        )
    return sorted(late, key=lambda x: (x.deadline, x.recording))


_STATES: dict[str | None, CentralState] = {
    None: "unsent",
    "pending": "pending",
    "failed": "failed",
    "confirmed": "confirmed",
}


def _state(state: str | None) -> CentralState:
    """A state this version does not know is shown as sent and not confirmed."""
    return _STATES.get(state, "pending")


class CentralStatus(_Doc):
    """The status document's `central`: present only with `[central]` configured."""

    backlog: CentralBacklog
    late_to_central: int = Field(
        description="Recordings past [forwarding] confirm_within_hours of their offload and "
        "not confirmed centrally."
    )
    confirm_within_hours: float


def central_status(
    groups: Iterable[HeldGroup],
    candidates: Iterable[CentralCandidate],
    within: timedelta,
    now: datetime,
    lags: Iterable[datetime] = (),
) -> CentralStatus:
    return CentralStatus(
        backlog=backlog(groups, now, lags),
        late_to_central=len(late_to_central(candidates, within, now, now)),
        confirm_within_hours=within.total_seconds() / 3600,
    )
