"""Viewing footage by the pack's rules: who must approve, in which order, and whether a
request is open (000:28-29, 001:16-17, 002:17, 003/C:5-8, 004:24-25).

Every regime asks for two things: an approval by named roles before anyone views, and a
register of who viewed what, why and when. The decisions live here, over plain values,
so the CLI and the status page cannot disagree about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dockd.core.operators import Operator
from dockd.core.policy import ViewingPolicy
from dockd.errors import NotAuthorisedError, ViewingClosedError

Tier = Literal["own-unit", "outside-unit"]
State = Literal["requested", "approved", "refused", "viewed", "expired"]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Entry):
    badge: str
    name: str
    unit: str | None

    @classmethod
    def of(cls, operator: Operator) -> Person:
        return cls(badge=operator.badge, name=operator.name, unit=operator.unit)


class OperatorEntry(Person):
    """One operator of `dockd operators list --json`."""

    roles: list[str]
    disabled: bool

    @classmethod
    def of(cls, operator: Operator) -> OperatorEntry:
        return cls(
            badge=operator.badge,
            name=operator.name,
            unit=operator.unit,
            roles=list(operator.roles),
            disabled=operator.disabled,
        )


class Approval(_Entry):
    approver: Person
    role: str = Field(description="The required role this approval fills.")
    at: datetime


class Viewing(_Entry):
    viewer: Person
    opened_at: datetime
    until: datetime = Field(description="The end of the approval's window.")
    out: str = Field(description="Where the read-only copy was written.")
    files: int
    bytes: int


class ViewingRequest(_Entry):
    """A request as the ledger holds it; the roles it needs were fixed when it was made."""

    id: int
    viewer: Person
    recordings: list[int]
    reason: str
    requested_at: datetime
    pack: str
    tier: Tier
    required_roles: list[str] = Field(description="Each must approve once; empty: none.")
    ordered: bool = Field(description="The approvals must come in the listed order.")
    open_hours: float
    approvals: list[Approval] = Field(default_factory=list)
    refused_at: datetime | None = None
    refused_by: Person | None = None
    refusal_reason: str | None = None
    viewings: list[Viewing] = Field(default_factory=list)


class RegisterEntry(ViewingRequest):
    """One line of the viewing register (`dockd view register --json`)."""

    state: State
    approved_at: datetime | None
    open_until: datetime | None


class Requested(_Entry):
    """`dockd view request --json`."""

    id: int


def tier(policy: ViewingPolicy, viewer: Operator, units: Sequence[str | None]) -> Tier:
    """Own unit only when the viewer belongs to the unit of every recording asked for (and,
    where the pack names one, holds its officer role: 002:17 执法人员). A recording of no
    known unit is nobody's own: the stricter tier applies."""
    if not policy.approvers_outside_unit:
        return "own-unit"
    own = viewer.unit is not None and bool(units) and all(u == viewer.unit for u in units)
    if policy.officer_role is not None and not viewer.holds(policy.officer_role):
        own = False
    return "own-unit" if own else "outside-unit"


def required_roles(policy: ViewingPolicy, which: Tier) -> list[str]:
    if which == "outside-unit" and policy.approvers_outside_unit:
        return list(policy.approvers_outside_unit)
    return list(policy.approvers)


def missing_roles(request: ViewingRequest) -> list[str]:
    filled = [a.role for a in request.approvals]
    return [r for r in request.required_roles if r not in filled]


def role_to_fill(request: ViewingRequest, approver: Operator) -> str:
    """The required role this approver's decision fills; refused with the reason otherwise.

    Approval is by a person other than the viewer, once per request; under an ordered
    pack only the next role in the list may act (004:24: review, then approval)."""
    if request.refused_at is not None:
        raise NotAuthorisedError("viewing request {request_id} was refused", request_id=request.id)
    missing = missing_roles(request)
    if not missing:
        raise NotAuthorisedError(
            "viewing request {request_id} is already approved", request_id=request.id
        )
    if approver.badge == request.viewer.badge:
        raise NotAuthorisedError(
            "{badge} cannot approve their own viewing request {request_id}",
            hint="Another person holding a required role must approve it.",
            badge=approver.badge,
            request_id=request.id,
        )
    if any(a.approver.badge == approver.badge for a in request.approvals):
        raise NotAuthorisedError(
            "{badge} already approved viewing request {request_id}",
            hint="Each required role is filled by a different person.",
            badge=approver.badge,
            request_id=request.id,
        )
    candidates = missing[:1] if request.ordered else missing
    for role in candidates:
        if approver.holds(role):
            return role
    if request.ordered and any(approver.holds(r) for r in missing):
        raise NotAuthorisedError(
            "viewing request {request_id} needs {missing!r} first ({pack}: the approvals come "
            "in order)",
            hint="Ask a {missing} to act first; then approve.",
            request_id=request.id,
            missing=missing[0],
            pack=request.pack,
        )
    raise NotAuthorisedError(
        "{badge} holds none of the roles viewing request {request_id} still needs "
        "({candidates}; {tier} viewer under {pack})",
        hint="See `dockd policy show` for who approves which viewer.",
        badge=approver.badge,
        request_id=request.id,
        candidates=", ".join(candidates),
        tier=request.tier,
        pack=request.pack,
    )


def approved_at(request: ViewingRequest) -> datetime | None:
    """When the last required approval came (the request itself when none is needed)."""
    if request.refused_at is not None or missing_roles(request):
        return None
    if not request.approvals:
        return request.requested_at
    return max(a.at for a in request.approvals)


def open_until(request: ViewingRequest) -> datetime | None:
    start = approved_at(request)
    return None if start is None else start + timedelta(hours=request.open_hours)


def state(request: ViewingRequest, now: datetime) -> State:
    if request.refused_at is not None:
        return "refused"
    until = open_until(request)
    if until is None:
        return "requested"
    if request.viewings:
        return "viewed"
    return "approved" if now < until else "expired"


def check_open(request: ViewingRequest, viewer: str, now: datetime) -> datetime:
    """The end of the window a viewing may be opened in; refused before anything is shown."""
    if viewer != request.viewer.badge:
        raise NotAuthorisedError(
            "viewing request {request_id} is {badge}'s, not {viewer}'s",
            hint="Only the person the request names may view; make a request of your own.",
            request_id=request.id,
            badge=request.viewer.badge,
            viewer=viewer,
        )
    if request.refused_at is not None:
        raise ViewingClosedError("viewing request {request_id} was refused", request_id=request.id)
    until = open_until(request)
    if until is None:
        raise ViewingClosedError(
            f"viewing request {request.id} is not approved: it still needs "
            + ", then ".join(missing_roles(request))
        )
    if now >= until:
        raise ViewingClosedError(
            "the approval of viewing request {request_id} ended at {until}",
            hint="Make a new request (dockd view request) and have it approved again.",
            request_id=request.id,
            until=until.isoformat(),
        )
    return until


def register_entry(request: ViewingRequest, now: datetime) -> RegisterEntry:
    return RegisterEntry(
        **dict(request),
        state=state(request, now),
        approved_at=approved_at(request),
        open_until=open_until(request),
    )
