"""Many stations on one ledger: whose chain vouches for what, and each chain proven.

Pure. Each station's chain is checked from its own genesis and against the key the
station registered in the ledger (`dockd.core.signing`); the rows are replayed from
every chain, interleaved by time, and each difference is named after the station
whose chain vouched for the row, so one station's broken chain is that station's
finding and not its neighbours'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockd.core.audit import RowDifference, RowKey, facts_of
from dockd.core.chain_report import ChainBreak, ChainReport
from dockd.core.custody import LEGACY_STATION, CustodyEvent, first_break, interleaved
from dockd.core.signing import CHECKPOINT, Verify, checkpoint_findings

#: The custody event a station writes in its own chain when it first registers its key.
REGISTERED = "station-registered"
#: The custody event a station writes when it signs with another key than it registered.
KEY_MISMATCH = "station-key-mismatch"


@dataclass(frozen=True, slots=True)
class RegisteredStation:
    """A station's row in the registry; `pem_fingerprint` is recomputed from its PEM."""

    station: str
    fingerprint: str
    pem_fingerprint: str | None
    registered_at: str
    host: str


def replay_vouched(
    chains: Iterable[Sequence[CustodyEvent]],
) -> tuple[dict[RowKey, dict[str, Any]], dict[RowKey, str]]:
    """The rows all chains say the ledger holds (the latest fact wins), and the station
    whose chain gave each row its latest fact."""
    state: dict[RowKey, dict[str, Any]] = {}
    vouched: dict[RowKey, str] = {}
    for event in interleaved(chains):
        for fact in facts_of(event):
            state[(fact.table, fact.id)] = fact.fields
            vouched[(fact.table, fact.id)] = event.station
    return state, vouched


def attributed(
    differences: Iterable[RowDifference],
    vouched: Mapping[RowKey, str],
    rows: Mapping[RowKey, Mapping[str, Any]],
) -> list[RowDifference]:
    """Each difference named after the station that answers for it: the one whose chain
    vouched for the row, or, for a row nothing vouches for, the station the row names."""
    out = []
    for difference in differences:
        key = (difference.table, difference.id)
        station = vouched.get(key)
        if station is None:
            named = (rows.get(key) or {}).get("station")
            station = None if named is None else str(named)
        out.append(difference.model_copy(update={"station": station}))
    return out


def chain_report(
    station: str,
    chain: Sequence[CustodyEvent],
    keys: Mapping[str, Verify],
    registered: RegisteredStation | None,
    presented: str | None = None,
) -> ChainReport:
    """`station`'s chain proven: continuity from its genesis, checkpoints signed by its
    registered key (the legacy chain: by any key in `keys`), no key change recorded,
    and, for the station running the audit, its own key (`presented`) the one it
    registered."""
    broken = first_break(chain, station)
    findings: list[str] = []
    required = registered.fingerprint if registered is not None else presented
    if registered is not None:
        if registered.pem_fingerprint != registered.fingerprint:
            findings.append(
                f"station {station}'s registered public key has fingerprint "
                f"{registered.pem_fingerprint}, its registry row says {registered.fingerprint} "
                "(the row was edited)"
            )
        if presented is not None and presented != registered.fingerprint:
            findings.append(
                f"this station's key {presented} is not the key {registered.fingerprint} "
                f"station {station} registered on {registered.registered_at} ({registered.host})"
            )
    if registered is not None and not chain:
        findings.append(f"station {station} is registered but its chain is empty (deleted?)")
    elif registered is None and any(e.kind == REGISTERED for e in chain):
        findings.append(f"station {station}'s registry row was removed (its chain registered it)")
    for event in chain:
        if event.kind == KEY_MISMATCH:
            findings.append(
                f"event {event.seq}: station {station} signed with key "
                f"{event.details.get('presented')} at {event.at}, not its registered key "
                f"{event.details.get('registered')}"
            )
    if station == LEGACY_STATION:
        required = None
    elif required is None and any(e.kind == CHECKPOINT for e in chain):
        findings.append(f"station {station} has no registered key to check its checkpoints")
    findings += checkpoint_findings(chain, keys, required)
    return ChainReport(
        station=station,
        events=len(chain),
        broken=None if broken is None else ChainBreak(seq=broken[0], reason=broken[1]),
        key=None if registered is None else registered.fingerprint,
        findings=findings,
    )
