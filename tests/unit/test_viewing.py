"""The viewing rules over plain values: tiers (002:17), ordered approvals (004:24), open
windows, and the register's states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.adapters.rules import load_policy
from dockd.core import viewing
from dockd.core.operators import Operator
from dockd.core.policy import ViewingPolicy
from dockd.core.viewing import Approval, Person, ViewingRequest
from dockd.errors import NotAuthorisedError, ViewingClosedError
from tests.conftest import REPO

NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)
QIDONG = load_policy(REPO / "rules", "qidong").viewing
DANDONG = load_policy(REPO / "rules", "dandong-civil-affairs").viewing
MINGSHAN = load_policy(REPO / "rules", "mingshan-emergency").viewing
DEPUTY, HEAD = "deputy leader in charge of enforcement", "head of enforcement department"
OFFICER = "enforcement officer"


def person(badge: str, unit: str | None = "Brigade 1", *roles: str) -> Operator:
    return Operator(badge, f"Name {badge}", unit, roles)


def request(policy: ViewingPolicy, viewer: Operator, units: list[str | None]) -> ViewingRequest:
    tier = viewing.tier(policy, viewer, units)
    return ViewingRequest(
        id=1,
        viewer=Person.of(viewer),
        recordings=[1],
        reason="complaint",
        requested_at=NOW,
        pack="test",
        tier=tier,
        required_roles=viewing.required_roles(policy, tier),
        ordered=policy.ordered,
        open_hours=policy.effective_open_hours,
    )


def approved(req: ViewingRequest, by: Operator, at: datetime = NOW) -> ViewingRequest:
    role = viewing.role_to_fill(req, by)
    approval = Approval(approver=Person.of(by), role=role, at=at)
    return req.model_copy(update={"approvals": [*req.approvals, approval]})


def test_qidong_own_officers_need_the_deputy_others_the_head() -> None:
    officer = person("V1", "Brigade 1", OFFICER)
    assert viewing.tier(QIDONG, officer, ["Brigade 1"]) == "own-unit"
    assert viewing.required_roles(QIDONG, "own-unit") == [DEPUTY]
    assert viewing.tier(QIDONG, person("V2", "Brigade 9", OFFICER), ["Brigade 1"]) == "outside-unit"
    assert viewing.tier(QIDONG, person("V3", "Brigade 1", "clerk"), ["Brigade 1"]) == (
        "outside-unit"
    ), "002:17: a person of the unit who is not an enforcement officer is another person"
    assert viewing.tier(QIDONG, officer, ["Brigade 1", None]) == "outside-unit"
    assert viewing.required_roles(QIDONG, "outside-unit") == [HEAD]


@given(st.lists(st.sampled_from(["A", "B", None]), min_size=1, max_size=5), st.sampled_from("AB"))
def test_own_unit_only_when_every_recording_is_the_viewers_units(
    units: list[str | None], unit: str
) -> None:
    got = viewing.tier(QIDONG, person("V", unit, OFFICER), units)
    assert (got == "own-unit") == all(u == unit for u in units)


def test_the_deputy_cannot_approve_an_outside_viewer_and_the_head_can() -> None:
    req = request(QIDONG, person("V2", "Brigade 9", OFFICER), ["Brigade 1"])
    with pytest.raises(NotAuthorisedError, match="holds none of the roles"):
        viewing.role_to_fill(req, person("D", "Brigade 1", DEPUTY))
    done = approved(req, person("H", "Brigade 1", HEAD))
    assert viewing.state(done, NOW) == "approved"


def test_dandong_approvals_come_in_order_by_two_people() -> None:
    req = request(DANDONG, person("V", "Office"), ["Office"])
    director, deputy = (
        person("O", "Office", "office director"),
        person("P", "Office", "deputy director in charge"),
    )
    with pytest.raises(NotAuthorisedError, match="needs 'office director' first"):
        viewing.role_to_fill(req, deputy)
    reviewed = approved(req, director)
    assert viewing.state(reviewed, NOW) == "requested"
    assert viewing.missing_roles(reviewed) == ["deputy director in charge"]
    both = person("B", "Office", "office director", "deputy director in charge")
    with pytest.raises(NotAuthorisedError, match="already approved"):
        viewing.role_to_fill(reviewed, director)
    done = approved(reviewed, both, NOW + timedelta(minutes=5))
    assert [a.role for a in done.approvals] == ["office director", "deputy director in charge"]
    assert viewing.approved_at(done) == NOW + timedelta(minutes=5)


def test_nobody_approves_their_own_request() -> None:
    viewer = person("V", "Brigade 1", OFFICER, DEPUTY)
    req = request(QIDONG, viewer, ["Brigade 1"])
    with pytest.raises(NotAuthorisedError, match="own viewing request"):
        viewing.role_to_fill(req, viewer)


def test_mingshan_handling_section_views_its_own_without_approval() -> None:
    req = request(MINGSHAN, person("V", "Section 2"), ["Section 2"])
    assert req.required_roles == []
    assert viewing.check_open(req, "V", NOW) == NOW + timedelta(hours=8)
    outside = request(MINGSHAN, person("W", "Section 5"), ["Section 2"])
    assert outside.required_roles == ["leader in charge of the handling section"]
    with pytest.raises(ViewingClosedError, match="not approved"):
        viewing.check_open(outside, "W", NOW)


def test_a_request_opens_only_for_its_viewer_within_its_window() -> None:
    req = approved(
        request(QIDONG, person("V", "Brigade 1", OFFICER), ["Brigade 1"]), person("D", None, DEPUTY)
    )
    until = NOW + timedelta(hours=8)
    assert viewing.check_open(req, "V", NOW) == until
    with pytest.raises(NotAuthorisedError, match="is V's, not X's"):
        viewing.check_open(req, "X", NOW)
    with pytest.raises(ViewingClosedError, match="ended at"):
        viewing.check_open(req, "V", until)
    assert viewing.state(req, until) == "expired"
    refused = req.model_copy(update={"refused_at": NOW, "refused_by": Person.of(person("D", None))})
    assert viewing.state(refused, NOW) == "refused"
    with pytest.raises(ViewingClosedError, match="refused"):
        viewing.check_open(refused, "V", NOW)


def test_a_pack_must_name_some_approver() -> None:
    with pytest.raises(ValueError, match="names no approver"):
        ViewingPolicy(approvers=[], articles=["000:28"])
    assert ViewingPolicy(approvers=["x"], articles=["000:28"]).effective_open_hours == 8
