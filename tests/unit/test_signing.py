"""The pure rules of signing: what a checkpoint covers, when one is due, and how a head
copied outside the ledger or a checkpoint is checked against the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dockd.core.custody import GENESIS, CustodyEvent, event_hash
from dockd.core.signing import (
    CHECKPOINT,
    checkpoint_body,
    checkpoint_due,
    checkpoint_findings,
    fingerprint,
    head_findings,
    parse_head,
    signature_key,
)
from tests.fakes.signing import FakeSigner

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def chain(kinds: list[tuple[str, dict[str, Any]]]) -> list[CustodyEvent]:
    events, prev = [], GENESIS
    for seq, (kind, details) in enumerate(kinds, start=1):
        at = (T0 + timedelta(minutes=seq)).isoformat()
        digest = event_hash(prev, seq, at, kind, "s", "dockd", details)
        events.append(CustodyEvent(seq, at, kind, "s", "dockd", details, prev, digest))
        prev = digest
    return events


def signed_chain(signer: FakeSigner) -> list[CustodyEvent]:
    """Two events, then a checkpoint of event 2 signed by `signer`."""
    events = chain([("session-started", {}), ("session-finished", {})])
    head = events[-1]
    checkpoint = {
        "seq": head.seq,
        "hash": head.hash,
        "at": head.at,
        "key": signer.fingerprint,
        "signature": signer.sign(checkpoint_body(head.seq, head.hash, head.at)).hex(),
    }
    return chain([("session-started", {}), ("session-finished", {}), (CHECKPOINT, checkpoint)])


def test_a_checkpoint_is_due_after_each_session_end_and_hourly_otherwise() -> None:
    assert checkpoint_due("session-finished", T0, T0)
    assert checkpoint_due("session-interrupted", T0, T0)
    assert checkpoint_due("hold-placed", T0, None)
    assert not checkpoint_due("hold-placed", T0 + timedelta(minutes=59), T0)
    assert checkpoint_due("hold-placed", T0 + timedelta(hours=1), T0)
    assert not checkpoint_due(CHECKPOINT, T0 + timedelta(days=1), T0)


def test_the_checkpoint_body_covers_head_and_time_canonically() -> None:
    body = checkpoint_body(12, "ab" * 32, "2026-06-01T08:00:00+00:00")
    assert body == (
        b'{"at":"2026-06-01T08:00:00+00:00","hash":"' + b"ab" * 32 + b'","kind":"chain-checkpoint",'
        b'"seq":12}'
    )
    assert checkpoint_body(13, "ab" * 32, "2026-06-01T08:00:00+00:00") != body


def test_heads_parse_as_seq_colon_hash_and_nothing_else() -> None:
    assert parse_head(f" 12:{'0f' * 32}\n") == (12, "0f" * 32)
    for bad in ("12", f"x:{'0f' * 32}", f"12:{'0F' * 32}", f"12:{'0f' * 31}", f"-1:{'0f' * 32}"):
        with pytest.raises(ValueError, match="SEQ:HASH"):
            parse_head(bad)


def test_a_recorded_head_is_found_changed_or_cut_off() -> None:
    events = chain([("a", {}), ("b", {}), ("c", {})])
    assert head_findings(events, 2, events[1].hash) == []
    (changed,) = head_findings(events, 2, events[0].hash)
    assert changed.startswith(f"event 2 has hash {events[1].hash}")
    (cut,) = head_findings(events[:2], 3, events[2].hash)
    assert "no event 3" in cut and "cut off" in cut


def test_checkpoints_verify_and_an_edited_one_is_named() -> None:
    signer = FakeSigner()
    events = signed_chain(signer)
    assert (
        checkpoint_findings(events, {signer.fingerprint: signer.verify}, signer.fingerprint) == []
    )
    cp = events[-1]
    edited = CustodyEvent(
        cp.seq,
        cp.at,
        cp.kind,
        cp.subject,
        cp.actor,
        {**cp.details, "at": T0.isoformat()},
        cp.prev_hash,
        cp.hash,
    )
    (finding,) = checkpoint_findings(
        [*events[:-1], edited], {signer.fingerprint: signer.verify}, signer.fingerprint
    )
    assert finding == "checkpoint event 3 (head 2): the signature does not match its head (edited?)"


def test_a_checkpoint_of_another_key_or_of_a_head_the_chain_lacks_is_a_finding() -> None:
    signer, other = FakeSigner(), FakeSigner()
    events = signed_chain(signer)
    (finding,) = checkpoint_findings(events, {other.fingerprint: other.verify}, other.fingerprint)
    assert f"signed by key {signer.fingerprint}" in finding
    rewritten = chain([("session-started", {"x": 1}), ("session-finished", {})]) + events[2:]
    (finding,) = checkpoint_findings(
        rewritten, {signer.fingerprint: signer.verify}, signer.fingerprint
    )
    assert finding.startswith("checkpoint event 3 (head 2) names hash")


def test_after_the_first_checkpoint_every_session_end_needs_its_own() -> None:
    signer = FakeSigner()
    events = signed_chain(signer)
    later = chain([*((e.kind, e.details) for e in events), ("session-finished", {})])
    assert checkpoint_findings(later, {signer.fingerprint: signer.verify}, signer.fingerprint) == [
        "session end event 4 is not followed by a signed checkpoint of it "
        "(checkpoints removed, or events written without the station key)"
    ]
    legacy = chain([("session-finished", {}), *((e.kind, e.details) for e in events)])
    (finding,) = checkpoint_findings(
        legacy, {signer.fingerprint: signer.verify}, signer.fingerprint
    )
    assert finding.startswith("checkpoint event 4 (head 2) names hash")  # not the legacy end


def test_a_malformed_checkpoint_is_a_finding() -> None:
    signer = FakeSigner()
    events = chain([("a", {}), (CHECKPOINT, {"seq": 1, "hash": "x"})])
    assert checkpoint_findings(events, {signer.fingerprint: signer.verify}, signer.fingerprint) == [
        "checkpoint event 2 is malformed"
    ]


def test_signatures_live_beside_objects_and_fingerprints_hash_the_raw_key() -> None:
    digest = "0123456789abcdef" * 4
    assert signature_key(digest) == f"signatures/blake3/01/{digest}.sig"
    with pytest.raises(ValueError):
        signature_key("../etc/passwd")
    assert fingerprint(bytes(32)) == (
        "sha256:66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    )
