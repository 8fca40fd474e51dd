"""Proving the store and the ledger after the fact: `dockd verify` and `dockd audit verify`.

Neither repairs anything: a mismatch is evidence in itself and must be looked
at by a person before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dockd.core.custody import first_break, unaccounted
from dockd.core.signing import checkpoint_findings, head_findings
from dockd.core.views import IntegrityFinding, VerifyReport
from dockd.ports import IntegrityRecords, RehashingStore, Signer


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


def audit_chain(ledger: IntegrityRecords) -> tuple[int, tuple[int, str] | None, list[str]]:
    """(events checked, first break of the chain or None, ledger rows no event vouches for)."""
    events = ledger.custody_events()
    closed, recordings = ledger.custody_facts()
    return len(events), first_break(events), unaccounted(events, closed, recordings)


def audit_anchors(
    ledger: IntegrityRecords, signer: Signer, head: tuple[int, str] | None
) -> list[str]:
    """What the chain alone cannot prove: each checkpoint is the station key's signature
    over a head the chain still holds, and a head copied outside the ledger (the journal,
    a nightly report) is still there, unchanged."""
    events = ledger.custody_events()
    findings = checkpoint_findings(events, signer.verify, signer.fingerprint)
    if head is not None:
        findings += head_findings(events, *head)
    return findings
