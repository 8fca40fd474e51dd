"""The custody chains: each event's hash covers its content and the previous hash.

Pure, so that `audit verify` recomputes exactly what the ledger computed when
the event was written; any edited, removed or reordered row breaks the chain.
Each station keeps its own chain, so docks sharing one ledger never wait on each
other; a chain's first event links to that station's genesis, so a chain cannot be
relabelled as another station's. The event hash itself is unchanged from the days of
one chain ('local', whose genesis stays all zeros), so old ledgers verify as they are.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from blake3 import blake3

GENESIS = "0" * 64
#: The chain of every event written before stations had names (migration 0012).
LEGACY_STATION = "local"


def genesis(station: str) -> str:
    """What a station's first event links to: the legacy chain keeps the zeros it always
    had; any other station's is bound to its id, so its events chain to no other."""
    if station == LEGACY_STATION:
        return GENESIS
    return blake3(b"dockd custody genesis\n" + station.encode("utf-8")).hexdigest()


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
    station: str = LEGACY_STATION


def by_station(events: Iterable[CustodyEvent]) -> dict[str, list[CustodyEvent]]:
    """Each station's chain, in the order the events came (sequence order when read so)."""
    chains: dict[str, list[CustodyEvent]] = {}
    for event in events:
        chains.setdefault(event.station, []).append(event)
    return dict(sorted(chains.items()))


def _when(event: CustodyEvent) -> tuple[datetime, str]:
    try:
        at = datetime.fromisoformat(event.at)
    except ValueError:
        at = datetime.min  # an unreadable time is the chain check's finding, not a crash
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # dockd writes UTC
    return at, event.station


def interleaved(chains: Iterable[Sequence[CustodyEvent]]) -> Iterator[CustodyEvent]:
    """Every chain's events merged by time, each chain kept in its own order: the order
    in which facts about a row that several stations wrote (a recorder, an object) are
    replayed. Stations' clocks are kept by NTP; a tie goes to the station id."""
    return heapq.merge(*chains, key=_when)


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


def first_break(
    events: Iterable[CustodyEvent], station: str = LEGACY_STATION
) -> tuple[int, str] | None:
    """The sequence number and reason of the first event of `station`'s chain that does
    not chain, or None."""
    prev = genesis(station)
    expected_seq = 1
    for event in events:
        if event.station != station:
            return event.seq, f"event of station {event.station!r} in the chain of {station!r}"
        if event.seq != expected_seq:
            return event.seq, f"expected event {expected_seq}, found {event.seq} (removed rows?)"
        if event.prev_hash != prev:
            if expected_seq == 1:
                return event.seq, f"does not link to the genesis of station {station!r}"
            return event.seq, "prev_hash does not match the previous event's hash"
        recomputed = event_hash(
            prev, event.seq, event.at, event.kind, event.subject, event.actor, event.details
        )
        if recomputed != event.hash:
            return event.seq, "content does not match its hash (edited row?)"
        prev = event.hash
        expected_seq += 1
    return None
