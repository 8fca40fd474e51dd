"""Proving the store and the ledger after the fact: `dockd verify` and `dockd audit verify`.

Neither repairs anything: a mismatch is evidence in itself and must be looked
at by a person before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dockd.core.custody import first_break, unaccounted
from dockd.core.views import IntegrityFinding, VerifyReport
from dockd.ports import IntegrityRecords, RehashingStore


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
