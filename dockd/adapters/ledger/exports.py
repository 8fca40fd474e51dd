"""The ledger's exports: each package is a row and a pair of custody events, the intent
written before the first byte so a crash mid-export still leaves its trace."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.activity_types import activity_types
from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.mapping import recording_view
from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.adapters.ledger.schema import (
    CustodyEventRow,
    DockSessionRow,
    ExportRow,
    ObjectRow,
    RecordingRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.custody import CustodyEvent
from dockd.core.export_description import ExportIntent
from dockd.core.registry import CustodyStretch
from dockd.core.views import ExportView, RecordingView
from dockd.errors import ExportUsageError, LedgerError


def export_view(row: ExportRow) -> ExportView:
    return ExportView(
        id=row.id,
        state=row.state,
        started_at=row.started_at,
        finished_at=row.finished_at,
        case=row.case_ref,
        purpose=row.purpose,
        maker=row.maker,
        operators=json.loads(row.operators),
        recordings=json.loads(row.recordings),
        path=row.path,
        iso=row.iso_path,
        bytes=row.bytes,
        tag_manifest_sha256=row.tag_sha256,
        error_code=row.error_code,
    )


class LedgerExports:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def recordings(self, ids: Sequence[int]) -> list[RecordingView]:
        def load(s: Session) -> list[RecordingView]:
            rows = {
                r.id: r for r in s.scalars(select(RecordingRow).where(RecordingRow.id.in_(ids)))
            }
            missing = [str(i) for i in ids if i not in rows]
            if missing:
                raise ExportUsageError(
                    "no recording {missing} in the ledger", missing=", ".join(missing)
                )
            types = activity_types(s, ids)
            return [recording_view(rows[i], activity_types=types.get(i, [])) for i in ids]

        return self.ledger.read(load)

    def session_recordings(self, session_id: str) -> list[RecordingView]:
        if self.ledger.session(session_id) is None:
            raise ExportUsageError("no dock session {session} in the ledger", session=session_id)
        return self.ledger.recordings(session_id)

    def session_manifest(self, session_id: str) -> tuple[str, str, str, int] | None:
        def load(s: Session) -> tuple[str, str, str, int] | None:
            row = s.execute(
                select(ObjectRow.blake3, ObjectRow.sha256, ObjectRow.key, ObjectRow.size)
                .join(DockSessionRow, DockSessionRow.manifest_blake3 == ObjectRow.blake3)
                .where(DockSessionRow.id == session_id)
            ).first()
            return (row[0], row[1], row[2], row[3]) if row else None

        return self.ledger.read(load)

    def custody_concerning(self, subjects: Collection[str]) -> list[CustodyEvent]:
        def load(s: Session) -> list[CustodyEvent]:
            rows = s.scalars(
                select(CustodyEventRow)
                .where(CustodyEventRow.subject.in_(list(subjects)))
                .order_by(CustodyEventRow.station, CustodyEventRow.seq)
            )
            return [
                CustodyEvent(
                    r.seq,
                    r.at,
                    r.kind,
                    r.subject,
                    r.actor,
                    json.loads(r.details),
                    r.prev_hash,
                    r.hash,
                    r.station,
                )
                for r in rows
            ]

        return self.ledger.read(load)

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        return LedgerRegistry(self.ledger).custodians_at(serial)

    def begin(self, intent: ExportIntent) -> None:
        with self.ledger.transaction() as s:
            export = ExportRow(
                id=intent.export_id,
                state="started",
                started_at=intent.at,
                case_ref=intent.case,
                purpose=intent.purpose,
                maker=intent.maker,
                operators=json.dumps(list(intent.operators)),
                recordings=json.dumps(list(intent.recordings)),
                path=intent.path,
            )
            s.add(export)
            s.flush()
            details = {
                "case": intent.case,
                "purpose": intent.purpose,
                "maker": intent.maker,
                "operators": list(intent.operators),
                "recordings": list(intent.recordings),
                "path": intent.path,
                **facts(export),
            }
            self.ledger.append_custody(
                s, intent.at, "export-started", intent.export_id, details, _actor(intent.operators)
            )

    def complete(
        self, export_id: str, at: datetime, nbytes: int, tag_sha256: str, iso: str | None
    ) -> None:
        with self.ledger.transaction() as s:
            row = self._started(s, export_id)
            row.state, row.finished_at = "completed", at
            row.bytes, row.tag_sha256, row.iso_path = nbytes, tag_sha256, iso
            s.flush()
            details = {
                "bytes": nbytes,
                "tag_manifest_sha256": tag_sha256,
                "iso": iso,
                **facts(row),
            }
            actor = _actor(json.loads(row.operators))
            self.ledger.append_custody(s, at, "export-completed", export_id, details, actor)

    def fail(self, export_id: str, at: datetime, code: str, message: str) -> None:
        with self.ledger.transaction() as s:
            row = self._started(s, export_id)
            row.state, row.finished_at, row.error_code = "failed", at, code
            actor = _actor(json.loads(row.operators))
            s.flush()
            details = {"error_code": code, "message": message, **facts(row)}
            self.ledger.append_custody(s, at, "export-failed", export_id, details, actor)

    def refused(self, at: datetime, details: dict[str, Any]) -> None:
        with self.ledger.transaction() as s:
            actor = _actor(details.get("operators", []))
            self.ledger.append_custody(s, at, "export-refused", "-", details, actor)

    def exports(self) -> list[ExportView]:
        query = select(ExportRow).order_by(ExportRow.started_at, ExportRow.id)
        return self.ledger.read(lambda s: [export_view(r) for r in s.scalars(query)])

    @staticmethod
    def _started(s: Session, export_id: str) -> ExportRow:
        row = s.get(ExportRow, export_id)
        if row is None or row.state != "started":
            raise LedgerError("export {export_id} is not a started export", export_id=export_id)
        return row


def _actor(badges: Sequence[str]) -> str:
    return ",".join(badges)[:128] or "dockd"
