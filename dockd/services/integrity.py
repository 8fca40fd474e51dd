"""Proving the store and the ledger after the fact: `dockd verify` and `dockd audit verify`.

Neither repairs anything: a mismatch is evidence in itself and must be looked
at by a person before anything is touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from blake3 import blake3 as blake3_of

from dockd.core.audit import (
    AuditReport,
    RowDifference,
    compare,
    manifest_differences,
)
from dockd.core.chain_report import ChainReport
from dockd.core.chains import attributed, chain_report, replay_vouched
from dockd.core.custody import CustodyEvent, by_station
from dockd.core.signing import head_findings
from dockd.core.views import IntegrityFinding, VerifyReport
from dockd.errors import StoreError
from dockd.ports import AuditRecords, IntegrityRecords, ObjectReader, RehashingStore, Signer


def verify_store(
    ledger: IntegrityRecords, store: RehashingStore, clock: Callable[[], datetime]
) -> VerifyReport:
    """Re-hash every object the ledger knows (both digests, read from disk). An object
    whose free is under way is read where it is set aside: it is not lost."""
    findings: list[IntegrityFinding] = []
    objects = ledger.objects()
    for blake3, sha256, key, size in objects:
        found = store.rehash(key)
        if found is None and (aside := store.set_aside_keys().get(key)) is not None:
            found = store.rehash(aside)
        if found is None:
            findings.append(
                IntegrityFinding(
                    object=key,
                    blake3=blake3,
                    problem="missing",
                    found_blake3=None,
                    found_sha256=None,
                )
            )
            continue
        digests, found_size = found
        if digests.blake3 != blake3 or digests.sha256 != sha256:
            findings.append(
                IntegrityFinding(
                    object=key,
                    blake3=blake3,
                    problem="corrupt",
                    found_blake3=digests.blake3,
                    found_sha256=digests.sha256,
                )
            )
        elif found_size != size:
            findings.append(
                IntegrityFinding(
                    object=key,
                    blake3=blake3,
                    problem="size-mismatch",
                    found_blake3=digests.blake3,
                    found_sha256=digests.sha256,
                )
            )
    report = VerifyReport(
        checked=len(objects),
        ok=len(objects) - len(findings),
        findings=findings,
        at=clock(),
        legacy_unowned=ledger.legacy_unowned(),
    )
    ledger.record_event(
        report.at,
        "store-verified",
        str(store.root),
        {
            "checked": report.checked,
            "ok": report.ok,
            "findings": [f.model_dump(mode="json") for f in findings],
        },
    )
    return report


def audit_ledger(
    ledger: AuditRecords,
    store: ObjectReader,
    signer: Signer,
    head: tuple[int, str] | None = None,
    *,
    all_stations: bool = False,
) -> AuditReport:
    """Prove every station's chain, then every evidence row against all chains, then every
    manifest this store holds against the rows, then the signed checkpoints and a head
    copied outside the ledger. Each difference is named, with the station that answers
    for it; nothing is repaired. Without `all_stations` only this station's findings
    (and those of no station) fail the audit: a neighbour's broken chain is reported as
    the neighbour's."""
    events = ledger.custody_events()
    chains = by_station(events)
    station = ledger.station
    rows = ledger.evidence_rows()
    state, vouched = replay_vouched(chains.values())
    differences = attributed(compare(state, rows, ledger.evidence_tables), vouched, rows)
    manifests, elsewhere, found = _manifests(store, rows)
    reports = _chain_reports(ledger, signer, chains)
    own = next((r for r in reports if r.station == station), None)
    anchors = [] if own is None else list(own.findings)
    if head is not None:
        anchors += head_findings(chains.get(station, []), *head)
    return AuditReport(
        station=station,
        scope="agency" if all_stations else "station",
        events=0 if own is None else own.events,
        broken=None if own is None else own.broken,
        rows_checked=len(rows),
        manifests_checked=manifests,
        manifests_not_here=elsewhere,
        differences=differences + found,
        anchors=anchors,
        chains=reports,
        legacy_own=ledger.owns_legacy(),
    )


def _chain_reports(
    ledger: AuditRecords, signer: Signer, chains: Mapping[str, list[CustodyEvent]]
) -> list[ChainReport]:
    """Every station's chain against its registered key; this station's also against the
    key it holds, which signs for the legacy chain too (before stations had names)."""
    station = ledger.station
    registry = {r.station: r for r in ledger.stations()}
    keys = {**ledger.verifiers(), signer.fingerprint: signer.verify}
    return [
        chain_report(
            name,
            chains.get(name, []),
            keys,
            registry.get(name),
            signer.fingerprint if name == station else None,
        )
        for name in sorted({*chains, *registry})
    ]


def _manifests(
    store: ObjectReader, rows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> tuple[int, int, list[RowDifference]]:
    """Every manifest this store holds against its session's rows: how many were checked,
    how many are in another station's store, and the differences (the session's)."""
    sessions = [r for (table, _), r in rows.items() if table == "dock_sessions"]
    recordings: dict[str, list[Mapping[str, Any]]] = {}
    known: dict[str, str] = {}
    for (table, _), row in rows.items():
        if table == "recordings":
            recordings.setdefault(str(row["session_id"]), []).append(row)
            known[str(row["blake3"])] = str(row["sha256"])
    manifests = elsewhere = 0
    differences: list[RowDifference] = []
    for session in sessions:
        digest = session.get("manifest_blake3")
        if digest is None:
            continue
        try:
            document = _manifest(store, rows.get(("objects", str(digest))), str(digest))
        except FileNotFoundError:
            elsewhere += 1  # another station's store, or deleted: `dockd verify` tells which
            continue
        manifests += 1
        station = session.get("station")
        differences += [
            d.model_copy(update={"station": None if station is None else str(station)})
            for d in manifest_differences(
                session, document, recordings.get(str(session["id"]), []), known
            )
        ]
    return manifests, elsewhere, differences


def _manifest(
    store: ObjectReader, stored: Mapping[str, Any] | None, digest: str
) -> dict[str, Any] | None:
    """The manifest object as stored, or None when it is unreadable or not that BLAKE3;
    FileNotFoundError when this store does not hold it."""
    if stored is None:
        return None
    try:
        with store.reader(str(stored["key"])) as read_at:
            data = read_at(0, int(stored["size"]))
    except StoreError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise exc.__cause__ from exc
        return None
    if blake3_of(data).hexdigest() != digest:
        return None
    try:
        document = json.loads(data)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
