"""`dockd verify --central`: the central copies this station confirmed are still what the
ledger says, checked on the server itself.

Every confirmed object's stored version is HEADed (size, checksum, COMPLIANCE, the
retain-until and legal hold the ledger recorded); a random sample is read back in full
and hashed with SHA-256 against the ledger, so a server that answers HEADs from metadata
while the bytes rot is caught too. The sample is drawn fresh each run (not predictable by
whoever might tamper with the bucket).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime

from dockd.core.forwarding import Outgoing, confirmation_problems
from dockd.core.forwarding_views import CentralFinding, CentralVerifyReport
from dockd.errors import (
    CentralAuthError,
    CentralError,
    CentralUnavailableError,
    CentralUnreachableError,
)
from dockd.ports import CentralRecords, CentralStore, CustodyLog

_SERVER_WIDE = (CentralUnreachableError, CentralUnavailableError, CentralAuthError)

Choose = Callable[[Sequence[Outgoing], int], list[Outgoing]]
_RANDOM = random.SystemRandom()


def sample_size(confirmed: int, percent: float) -> int:
    """`percent` of the confirmed objects, rounded up, at least one when there are any."""
    if confirmed == 0:
        return 0
    return min(confirmed, max(1, math.ceil(confirmed * percent / 100)))


class CentralVerifier:
    def __init__(
        self,
        central: CentralStore,
        records: CentralRecords,
        clock: Callable[[], datetime],
        custody: CustodyLog,
        choose: Choose = _RANDOM.sample,
    ) -> None:
        self.central = central
        self.records = records
        self.clock = clock
        self.custody = custody
        self.choose = choose

    def verify(self, sample_percent: float) -> CentralVerifyReport:
        """Server-wide errors (unreachable, credentials) are raised: a check that could not
        run is not a clean report, and leaves no event."""
        confirmed = [i for i in self.records.outgoing() if i.copy and i.copy.state == "confirmed"]
        findings: list[CentralFinding] = []
        for item in confirmed:
            problem = self._head_problem(item)
            if problem:
                findings.append(
                    CentralFinding(
                        key=item.key, blake3=item.blake3, problem="not-confirmed", detail=problem
                    )
                )
        sample = self.choose(confirmed, sample_size(len(confirmed), sample_percent))
        for item in sample:
            detail = self._read_problem(item)
            if detail:
                findings.append(
                    CentralFinding(
                        key=item.key, blake3=item.blake3, problem="read-mismatch", detail=detail
                    )
                )
        report = CentralVerifyReport(
            checked=len(confirmed), read_back=len(sample), findings=findings, at=self.clock()
        )
        # on the chain, as a store verify is: the nightly report and the status page read
        # a scrub's findings from there
        self.custody.record_event(
            report.at,
            "central-verified",
            "central",
            {
                "checked": report.checked,
                "read_back": report.read_back,
                "findings": [f.model_dump(mode="json") for f in findings],
            },
        )
        return report

    def _head_problem(self, item: Outgoing) -> str | None:
        expected = item.recorded()
        if expected is None:
            return "the ledger's confirmed copy has no version, checksum or retain-until"
        try:
            head = self.central.head(item.key, expected.version_id)
        except _SERVER_WIDE:
            raise
        except CentralError as exc:  # this object's answer: the others are checked still
            return f"its HEAD failed: {exc.code}: {exc.message}"
        return "; ".join(confirmation_problems(expected, head)) or None

    def _read_problem(self, item: Outgoing) -> str | None:
        copy = item.copy
        if copy is None or copy.version_id is None:
            return "the ledger's confirmed copy has no version to read"
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in self.central.read(item.key, copy.version_id):
                digest.update(chunk)
                size += len(chunk)
        except _SERVER_WIDE:
            raise
        except CentralError as exc:
            return f"reading it failed: {exc.code}: {exc.message}"
        if size != item.size or digest.hexdigest() != item.sha256:
            found = f"{size} bytes, SHA-256 {digest.hexdigest()}"
            return f"read back {found}; the ledger says {item.size} bytes, {item.sha256}"
        return None
