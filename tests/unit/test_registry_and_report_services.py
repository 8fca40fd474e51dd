"""The registry and the report services over in-memory fakes: what the pack decides
is decided in the service, and every mail outcome is a custody record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dockd.adapters.rules import load_policy
from dockd.core.operators import Operator
from dockd.core.policy import PolicyPack
from dockd.core.registry import Custodian
from dockd.errors import (
    ConfigError,
    MailError,
    MailRecipientsRefused,
    NotAuthorisedError,
    WrongPassphraseError,
)
from dockd.services.registry import Registry
from dockd.services.report import Reports
from tests.conftest import REPO
from tests.fakes.operators import FakeOperatorAuth
from tests.fakes.registry import FakeHoldRecords, FakeRegistryRecords
from tests.fakes.report import FakeMail, FakeReportRecords

NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)
DALIAN = load_policy(REPO / "rules", "dalian-jinpu-ocean")  # long-term reasons, one-person seal
DANDONG = load_policy(REPO / "rules", "dandong-civil-affairs")  # two-person seal


def registry(pack: PolicyPack = DALIAN) -> tuple[Registry, FakeRegistryRecords, FakeHoldRecords]:
    records, holds = FakeRegistryRecords(), FakeHoldRecords()
    return Registry(records, holds, pack, lambda: NOW), records, holds


def test_a_hold_names_a_case_or_one_of_the_packs_long_term_reasons() -> None:
    service, _, holds = registry()
    assert service.place_hold(7, "  QD-88 ", None, "admin").reference == "QD-88"
    reason = DALIAN.retention.long_term_reasons[0]
    assert service.place_hold(8, None, reason, "admin").kind == "long-term"
    with pytest.raises(ConfigError, match="nonsense") as refused:
        service.place_hold(9, None, "nonsense", "admin")
    assert reason in refused.value.hint
    with pytest.raises(ConfigError, match="case number is empty"):
        service.place_hold(9, " ", None, "admin")
    assert [h.recording for h in service.holds()] == [7, 8]
    service.release_hold(1, "closed", "admin")
    assert [h.recording for h in service.holds()] == [8]
    assert len(holds.holds(active_only=False)) == 2


def test_an_excuse_rejudges_against_the_packs_offload_deadline() -> None:
    service, records, _ = registry()
    service.excuse("0421", NOW - timedelta(hours=2), "remote duty", "admin")
    assert records.calls == [("add_excuse", "0421", DALIAN.offload.deadline_hours)]


def test_the_seal_needs_as_many_operators_as_the_pack_asks() -> None:
    assert DANDONG.offload.two_person_seal and not DALIAN.offload.two_person_seal
    auth = FakeOperatorAuth()
    for badge in ("op1", "op2"):
        auth.add(Operator(badge, badge.upper(), "Office", ("office staff",)), f"pass-{badge}")
    single, _, _ = registry(DALIAN)
    assert single.attest("s1", [("op1", "pass-op1")], auth).sealed
    double, records, _ = registry(DANDONG)
    with pytest.raises(NotAuthorisedError, match="needs 2 distinct operators"):
        double.attest("s1", [("op1", "pass-op1")], auth)
    with pytest.raises(NotAuthorisedError, match="op1 given twice"):
        double.attest("s1", [("op1", "pass-op1"), ("op1", "pass-op1")], auth)
    with pytest.raises(WrongPassphraseError):
        double.attest("s1", [("op1", "pass-op1"), ("op2", "wrong")], auth)
    assert records.attested == {}, "a refused sitting records nothing"
    done = double.attest("s1", [("op1", "pass-op1"), ("op2", "pass-op2")], auth)
    assert done.sealed and done.operators == ["op1", "op2"] and done.needed == 2


def test_devices_and_custodians_pass_the_clock() -> None:
    service, records, _ = registry()
    service.add_device("SN1", "DSJ", "admin")
    service.assign("SN1", Custodian("007", "Wang Fang", "Patrol"), "admin")
    (device,) = service.devices()
    assert device.custodian == Custodian("007", "Wang Fang", "Patrol")
    assert records.calls[0] == ("add_device", "SN1", NOW, "admin")


def reports(mail: FakeMail, last: datetime | None = None) -> tuple[Reports, FakeReportRecords]:
    records = FakeReportRecords(last_until=last)
    return Reports(records, DALIAN, lambda: NOW, lambda: mail), records


def test_the_period_runs_from_the_last_mailed_report_or_24_hours() -> None:
    service, _ = reports(FakeMail())
    report, note = service.deadlines(None)
    assert report.since == NOW - timedelta(hours=24) and note is not None
    service, _ = reports(FakeMail(), last=NOW - timedelta(hours=30))
    report, note = service.deadlines(None)
    assert report.since == NOW - timedelta(hours=30) and note is None
    report, _ = service.deadlines(timedelta(hours=2))
    assert report.since == NOW - timedelta(hours=2)


def test_a_report_the_relay_refuses_is_kept_recorded_and_sent_first_next_time() -> None:
    mail = FakeMail(down=MailError("relay down", hint="start it"))
    service, records = reports(mail)
    report, _ = service.deadlines(timedelta(hours=24))
    mailed = service.mail(report, "timer")
    assert not mailed.delivered and "kept in outbox/1.eml" in mailed.problems[0]
    assert records.issued == [("kept in outbox/1.eml", "ops@example.org", "timer")]

    mail.down = None
    mailed = service.mail(report, "timer")
    assert mailed.delivered and mail.outbox == []
    assert len(mail.delivered) == 2, "the kept one first, then the new one"
    assert mailed.notes[0].startswith("sent kept report")
    assert records.issued[-1][0] == "sent"


def test_partial_delivery_and_a_quiet_day_are_recorded_too() -> None:
    mail = FakeMail(down=MailRecipientsRefused("b@x refused", {"b@x": "550 no such user"}))
    service, records = reports(mail)
    report, _ = service.deadlines(timedelta(hours=24))
    assert not service.mail(report, "timer").delivered
    assert records.issued[-1][0] == "partly delivered" and mail.outbox == []
    quiet = FakeMail(send_when_empty=False)
    service, records = reports(quiet)
    mailed = service.mail(report, "timer")
    assert mailed.delivered and quiet.delivered == []
    assert records.issued == [("nothing to send", "", "timer")]


def test_every_report_carries_the_chain_head_in_json_text_and_html() -> None:
    from dockd.ui.report import render_html, render_text

    service, _ = reports(FakeMail())
    report, _ = service.deadlines(None)
    between = service.deadlines_between(NOW - timedelta(hours=1), NOW)
    head = "7:" + "ab" * 32
    assert report.chain_head is not None and report.chain_head.text == head
    assert between.chain_head == report.chain_head
    assert report.model_dump(mode="json")["chain_head"] == {"seq": 7, "hash": "ab" * 32}
    assert f"Custody chain head: {head}" in render_text(report, DALIAN.name)
    assert f"<code>Custody chain head: {head}</code>" in render_html(report, DALIAN.name)
