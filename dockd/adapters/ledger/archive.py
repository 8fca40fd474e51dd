"""The ledger's archive labels: each recording's classification (密级), subject and matter,
and the facts the archive index files it by (its cases, long-term reasons, retention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import RecordingRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.archive import ArchiveItem, Footage
from dockd.core.model import Digests
from dockd.errors import LedgerError


class LedgerArchive:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def items(self) -> list[ArchiveItem]:
        """Every recording whose footage is still stored, in ledger order."""

        def load(s: Session) -> list[ArchiveItem]:
            rows = s.scalars(
                select(RecordingRow)
                .where(RecordingRow.expired_at.is_(None))
                .order_by(RecordingRow.id)
            )
            return [_item(r) for r in rows]

        return self.ledger.read(load)

    def label(
        self,
        recording: int,
        level: str | None,
        subject: str | None,
        matter: str | None,
        at: datetime,
        by: str,
    ) -> None:
        with self.ledger.transaction() as s:
            row = s.get(RecordingRow, recording, with_for_update=True)
            if row is None:
                raise LedgerError(
                    "no recording {recording}",
                    hint="See `dockd recordings` for recording ids.",
                    recording=recording,
                )
            before = {
                "classification": row.classification,
                "subject": row.archive_subject,
                "matter": row.archive_matter,
            }
            if level is not None:
                row.classification = level
            if subject is not None:
                row.archive_subject = subject
            if matter is not None:
                row.archive_matter = matter
            after = {
                "classification": row.classification,
                "subject": row.archive_subject,
                "matter": row.archive_matter,
            }
            s.flush()
            details = {"before": before, "after": after, **facts(row)}
            self.ledger.append_custody(
                s, at, "recording-classified", str(recording), details, actor=by
            )

    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, object], by: str
    ) -> None:
        with self.ledger.transaction() as s:
            self.ledger.append_custody(s, at, kind, subject, dict(details), actor=by)


def _item(r: RecordingRow) -> ArchiveItem:
    active = [h for h in r.holds if h.released_at is None]
    return ArchiveItem(
        footage=Footage(r.id, r.path, r.object_key, Digests(r.blake3, r.sha256), r.size),
        serial=r.serial,
        start=r.corrected_start or r.start,
        classification=r.classification,
        subject=r.archive_subject,
        matter=r.archive_matter,
        cases=tuple(h.reference for h in active if h.kind == "case"),
        long_term=tuple(h.reference for h in active if h.kind == "long-term"),
        retain_until=r.retain_until,
    )
