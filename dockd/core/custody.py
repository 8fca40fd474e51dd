"""The custody chain: each event's hash covers its content and the previous hash.

Pure, so that `audit verify` recomputes exactly what the ledger computed when
the event was written; any edited, removed or reordered row breaks the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from blake3 import blake3

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    seq: int
    at: str
    kind: str
    subject: str
    actor: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def event_hash(
    prev_hash: str, seq: int, at: str, kind: str, subject: str, actor: str, details: dict[str, Any]
) -> str:
    body = {
        "seq": seq,
        "at": at,
        "kind": kind,
        "subject": subject,
        "actor": actor,
        "details": details,
    }
    return blake3(prev_hash.encode("ascii") + b"\n" + canonical_json(body)).hexdigest()


def first_break(events: Iterable[CustodyEvent]) -> tuple[int, str] | None:
    """The sequence number and reason of the first event that does not chain, or None."""
    prev = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            return event.seq, f"expected event {expected_seq}, found {event.seq} (removed rows?)"
        if event.prev_hash != prev:
            return event.seq, "prev_hash does not match the previous event's hash"
        recomputed = event_hash(
            prev, event.seq, event.at, event.kind, event.subject, event.actor, event.details
        )
        if recomputed != event.hash:
            return event.seq, "content does not match its hash (edited row?)"
        prev = event.hash
        expected_seq += 1
    return None
