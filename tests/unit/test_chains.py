"""One custody chain per station: genesis per station, attribution of findings, key checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.audit import AuditReport, RowDifference
from dockd.core.chain_report import ChainBreak, ChainReport
from dockd.core.chains import (
    KEY_MISMATCH,
    RegisteredStation,
    attributed,
    chain_report,
    replay_vouched,
)
from dockd.core.custody import (
    GENESIS,
    LEGACY_STATION,
    CustodyEvent,
    by_station,
    event_hash,
    first_break,
    genesis,
    interleaved,
)
from dockd.core.signing import CHECKPOINT, checkpoint_body
from tests.fakes.signing import FakeSigner

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
STATION_IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)


def station_chain(
    station: str, kinds: list[tuple[str, dict[str, Any]]], minutes: list[int] | None = None
) -> list[CustodyEvent]:
    events, prev = [], genesis(station)
    for seq, (kind, details) in enumerate(kinds, start=1):
        offset = minutes[seq - 1] if minutes is not None else seq
        at = (T0 + timedelta(minutes=offset)).isoformat()
        digest = event_hash(prev, seq, at, kind, "s", "dockd", details)
        events.append(CustodyEvent(seq, at, kind, "s", "dockd", details, prev, digest, station))
        prev = digest
    return events


def signed(station: str, signer: FakeSigner) -> list[CustodyEvent]:
    """A session end, then its checkpoint signed by `signer`."""
    head = station_chain(station, [("session-finished", {})])[0]
    checkpoint = {
        "seq": 1,
        "hash": head.hash,
        "at": head.at,
        "key": signer.fingerprint,
        "signature": signer.sign(checkpoint_body(1, head.hash, head.at)).hex(),
    }
    return station_chain(station, [("session-finished", {}), (CHECKPOINT, checkpoint)])


def registration(station: str, signer: FakeSigner, pem: str | None = None) -> RegisteredStation:
    return RegisteredStation(
        station=station,
        fingerprint=signer.fingerprint,
        pem_fingerprint=pem or signer.fingerprint,
        registered_at=T0.isoformat(),
        host="h",
    )


def test_the_legacy_chain_keeps_the_all_zero_genesis_and_others_are_bound_to_their_id() -> None:
    assert genesis(LEGACY_STATION) == GENESIS
    assert genesis("dock-a") != GENESIS
    assert first_break(station_chain(LEGACY_STATION, [("a", {})])) is None


@given(STATION_IDS, STATION_IDS)
def test_a_chain_relabelled_as_another_stations_breaks_at_its_first_event(
    mine: str, other: str
) -> None:
    chain = station_chain(mine, [("a", {"n": 1}), ("b", {"n": 2})])
    assert first_break(chain, mine) is None
    if mine != other:
        assert genesis(mine) != genesis(other)
        relabelled = [replace(e, station=other) for e in chain]
        assert first_break(relabelled, other) == (
            1,
            f"does not link to the genesis of station {other!r}",
        )


def test_an_event_of_another_station_inside_a_chain_is_a_break() -> None:
    chain = station_chain("dock-a", [("a", {}), ("b", {})])
    mixed = [chain[0], replace(chain[1], station="dock-b")]
    assert first_break(mixed, "dock-a") == (2, "event of station 'dock-b' in the chain of 'dock-a'")


@given(st.lists(st.lists(st.integers(0, 50), max_size=6), min_size=1, max_size=4))
def test_interleaving_orders_by_time_and_keeps_each_chains_order(
    offsets: list[list[int]],
) -> None:
    chains = [
        station_chain(f"dock-{n}", [("k", {"i": i}) for i in range(len(o))], sorted(o))
        for n, o in enumerate(offsets)
    ]
    merged = list(interleaved(chains))
    assert len(merged) == sum(len(c) for c in chains)
    times = [datetime.fromisoformat(e.at) for e in merged]
    assert times == sorted(times)
    assert by_station(merged) == {c[0].station: c for c in chains if c}


def test_the_latest_fact_wins_across_chains_and_names_its_station() -> None:
    def fact(n: int) -> dict[str, Any]:
        return {"rows": [{"table": "recorders", "id": "1", "row": {"id": 1, "n": n}}]}

    east = station_chain("dock-east", [("docked", fact(1)), ("docked", fact(3))], [1, 30])
    west = station_chain("dock-west", [("docked", fact(2))], [10])
    state, vouched = replay_vouched([east[:1], west])
    assert (state[("recorders", "1")]["n"], vouched[("recorders", "1")]) == (2, "dock-west")
    state, vouched = replay_vouched([east, west])
    assert (state[("recorders", "1")]["n"], vouched[("recorders", "1")]) == (3, "dock-east")


def test_a_difference_is_named_after_the_voucher_or_for_an_inserted_row_its_station() -> None:
    edited = RowDifference(table="t", id="1", problem="edited", field="x", vouched=1, row=2)
    inserted = RowDifference(
        table="t", id="2", problem="inserted", field=None, vouched=None, row={}
    )
    agency = RowDifference(table="u", id="3", problem="inserted", field=None, vouched=None, row={})
    rows = {("t", "2"): {"station": "dock-b"}, ("u", "3"): {"badge": "7"}}
    out = attributed([edited, inserted, agency], {("t", "1"): "dock-a"}, rows)
    assert [d.station for d in out] == ["dock-a", "dock-b", None]


def test_a_stations_chain_holds_against_its_registered_key_and_no_other() -> None:
    key, other = FakeSigner(), FakeSigner()
    keys = {key.fingerprint: key.verify, other.fingerprint: other.verify}
    chain = signed("dock-a", key)
    report = chain_report("dock-a", chain, keys, registration("dock-a", key))
    assert report.ok and report.key == key.fingerprint
    forged = chain_report("dock-a", signed("dock-a", other), keys, registration("dock-a", key))
    assert forged.findings == [
        f"checkpoint event 2 (head 1) is signed by key {other.fingerprint}, this station's "
        f"key is {key.fingerprint}"
    ]


def test_a_key_change_and_an_edited_registry_row_are_findings() -> None:
    key, other = FakeSigner(), FakeSigner()
    keys = {key.fingerprint: key.verify}
    changed = station_chain(
        "dock-a",
        [(KEY_MISMATCH, {"registered": key.fingerprint, "presented": other.fingerprint})],
    )
    report = chain_report(
        "dock-a", changed, keys, registration("dock-a", key), presented=other.fingerprint
    )
    assert len(report.findings) == 2
    assert f"this station's key {other.fingerprint} is not the key" in report.findings[0]
    assert "not its registered key" in report.findings[1]
    edited = chain_report(
        "dock-a", signed("dock-a", key), keys, registration("dock-a", key, pem="sha256:00")
    )
    assert edited.findings == [
        f"station dock-a's registered public key has fingerprint sha256:00, its registry row "
        f"says {key.fingerprint} (the row was edited)"
    ]


def test_checkpoints_need_a_registered_key_except_on_the_legacy_chain() -> None:
    key, stranger = FakeSigner(), FakeSigner()
    keys = {key.fingerprint: key.verify}
    unregistered = chain_report("dock-a", signed("dock-a", key), keys, None)
    assert unregistered.findings == [
        "station dock-a has no registered key to check its checkpoints"
    ]
    assert chain_report(LEGACY_STATION, signed(LEGACY_STATION, key), keys, None).ok
    unknown = chain_report(LEGACY_STATION, signed(LEGACY_STATION, stranger), keys, None)
    assert unknown.findings == [
        f"checkpoint event 2 (head 1) is signed by key {stranger.fingerprint}, which no "
        "station registered"
    ]
    emptied = chain_report("dock-a", [], keys, registration("dock-a", key))
    assert emptied.findings == ["station dock-a is registered but its chain is empty (deleted?)"]


def test_a_station_audit_fails_on_its_own_findings_and_the_agency_audit_on_any() -> None:
    broken = ChainReport(
        station="dock-b", events=3, broken=ChainBreak(seq=2, reason="x"), key=None, findings=[]
    )
    theirs = RowDifference(
        table="t", id="1", problem="edited", field="x", vouched=1, row=2, station="dock-b"
    )
    base = {
        "station": "dock-a",
        "events": 1,
        "broken": None,
        "rows_checked": 1,
        "manifests_checked": 0,
        "differences": [theirs],
        "chains": [broken],
    }
    assert AuditReport.model_validate(base).ok
    assert not AuditReport.model_validate({**base, "scope": "agency"}).ok
    ours = theirs.model_copy(update={"station": LEGACY_STATION})
    assert not AuditReport.model_validate({**base, "differences": [ours]}).ok
    nobodys = theirs.model_copy(update={"station": None})
    assert not AuditReport.model_validate({**base, "differences": [nobodys]}).ok
