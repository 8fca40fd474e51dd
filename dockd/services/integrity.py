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

from dockd.core.audit import AuditReport, ChainBreak, compare, manifest_differences, replay
from dockd.core.custody import first_break
from dockd.core.signing import checkpoint_findings, head_findings
from dockd.core.views import IntegrityFinding, VerifyReport
from dockd.errors import StoreError
from dockd.ports import AuditRecords, IntegrityRecords, ObjectReader, RehashingStore, Signer


def verify_store(
    ledger: IntegrityRecords, store: RehashingStore, clock: Callable[[], datetime]
) -> VerifyReport:
    """Re-hash every object the ledger knows (both digests, read from disk)."""
    findings: list[IntegrityFinding] = []
    objects = ledger.objects()
    for blake3, sha256, key, size in objects:
        found = store.rehash(key)
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
        checked=len(objects), ok=len(objects) - len(findings), findings=findings, at=clock()
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


def audit_ledger(ledger: AuditRecords, store: ObjectReader) -> AuditReport:
    """Prove the chain, then every evidence row against it, then every manifest against
    the rows. Each difference is named; nothing is repaired."""
    events = ledger.custody_events()
    broken = first_break(events)
    rows = ledger.evidence_rows()
    differences = compare(replay(events), rows, ledger.evidence_tables)
    sessions = [r for (table, _), r in rows.items() if table == "dock_sessions"]
    recordings: dict[str, list[Mapping[str, Any]]] = {}
    known: dict[str, str] = {}
    for (table, _), row in rows.items():
        if table == "recordings":
            recordings.setdefault(str(row["session_id"]), []).append(row)
            known[str(row["blake3"])] = str(row["sha256"])
    manifests = elsewhere = 0
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
        differences += manifest_differences(
            session, document, recordings.get(str(session["id"]), []), known
        )
    return AuditReport(
        events=len(events),
        broken=None if broken is None else ChainBreak(seq=broken[0], reason=broken[1]),
        rows_checked=len(rows),
        manifests_checked=manifests,
        manifests_not_here=elsewhere,
        differences=differences,
    )


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


def audit_anchors(ledger: AuditRecords, signer: Signer, head: tuple[int, str] | None) -> list[str]:
    """What the chain alone cannot prove: each checkpoint is the station key's signature
    over a head the chain still holds, and a head copied outside the ledger (the journal,
    a nightly report) is still there, unchanged."""
    events = ledger.custody_events()
    findings = checkpoint_findings(events, signer.verify, signer.fingerprint)
    if head is not None:
        findings += head_findings(events, *head)
    return findings
