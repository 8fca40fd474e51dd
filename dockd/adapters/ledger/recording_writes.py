"""A batch of verified recordings into the ledger, in one transaction: their rows, their
objects and this station's locations of them, each recording with its custody event.

The hot path of a small-file dock: rows go in as bulk inserts through the tables (an ORM
object per row cost more than the rest of a small recording's copy), each row's chain
fact made from the very values inserted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import DeclarativeBase, Session

from dockd.adapters.ledger.custody import CustodyLedger
from dockd.adapters.ledger.facts import complete, facts, row_fact, values_fact
from dockd.adapters.ledger.schema import (
    DockSessionRow,
    ObjectLocationRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
)
from dockd.core.model import VerifiedRecording
from dockd.errors import LedgerError


@dataclass(frozen=True, slots=True)
class NewObject:
    blake3: str
    sha256: str
    size: int
    key: str
    protections: tuple[str, ...]
    kind: str
    at: datetime


class RecordingWrites(CustodyLedger):
    """The writes of a dock session's copies; `Ledger` is the rest of the session."""

    def add_recordings(
        self, session_id: str, serial: str, recordings: Sequence[VerifiedRecording]
    ) -> list[int]:
        """Record a batch of verified recordings in one transaction (one fsync, not one each);
        their ledger ids, in order."""
        if not recordings:
            return []
        with self.transaction() as session:
            recorder_id = session.scalars(
                select(RecorderRow.id).where(RecorderRow.serial == serial)
            ).one()
            dock = session.get_one(DockSessionRow, session_id)
            new_objects = self._ensure_objects(
                session,
                [
                    NewObject(
                        rec.digests.blake3,
                        rec.digests.sha256,
                        rec.source.size,
                        rec.object_key,
                        rec.protections,
                        "recording",
                        rec.verified_at,
                    )
                    for rec in recordings
                ],
            )
            # Core bulk inserts (the table, not the mapped class), each row's chain fact from
            # the very values inserted: an ORM object per row, and then the ORM's bulk path,
            # each cost more than the rest of a small recording's copy
            table = _table(RecordingRow)
            rows = [
                complete(table, _recording_row(session_id, recorder_id, serial, rec))
                for rec in recordings
            ]
            ids = (
                session.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            dock.copied += len(recordings)
            dock.bytes_copied += sum(rec.source.size for rec in recordings)
            session.flush()
            events: list[tuple[datetime, str, str, dict[str, Any]]] = []
            for index, (row, rid, rec) in enumerate(zip(rows, ids, recordings, strict=True)):
                # the object first stored by this recording, and the session's counts
                # with the batch's last one: each row changed here is on the chain
                row["id"] = rid
                changed = [values_fact(table, row), *new_objects.pop(rec.digests.blake3, [])]
                if index == len(rows) - 1:
                    changed.extend(facts(dock)["rows"])
                events.append(
                    (
                        rec.verified_at,
                        "recording-verified",
                        str(rid),
                        {
                            "session": session_id,
                            "serial": serial,
                            "path": rec.source.display,
                            "size": rec.source.size,
                            "blake3": rec.digests.blake3,
                            "sha256": rec.digests.sha256,
                            "object": rec.object_key,
                            "duplicate_content": rec.duplicate,
                            "rows": changed,
                        },
                    )
                )
            self.append_custody_many(session, events)
            return list(ids)

    def _ensure_objects(
        self, session: Session, objects: Sequence[NewObject]
    ) -> dict[str, list[dict[str, Any]]]:
        """Add the objects the ledger does not know yet, with one query for the batch, and
        this station's location of each; a known digest with another SHA-256 or size would
        mean a broken store. The chain facts of the rows added or changed, by BLAKE3."""
        table = _table(ObjectRow)
        known = {
            sha256_size[0]: sha256_size[1:]
            for sha256_size in session.execute(
                select(ObjectRow.blake3, ObjectRow.sha256, ObjectRow.size).where(
                    ObjectRow.blake3.in_({o.blake3 for o in objects})
                )
            )
        }
        rows: dict[str, dict[str, Any]] = {}
        for new in objects:
            existing = known.get(new.blake3)
            if existing is None:
                known[new.blake3] = (new.sha256, new.size)
                rows[new.blake3] = complete(
                    table,
                    {
                        "blake3": new.blake3,
                        "sha256": new.sha256,
                        "size": new.size,
                        "key": new.key,
                        "kind": new.kind,
                        "protections": ",".join(new.protections),
                        "stored_at": new.at,
                    },
                )
            elif existing != (new.sha256, new.size):
                raise LedgerError(
                    "object {blake3} is already in the ledger with another SHA-256 or size",
                    hint="This should be impossible; preserve the store and ledger and report it.",
                    blake3=new.blake3,
                )
        if rows:  # the objects before the locations that name them
            session.execute(insert(table), list(rows.values()))
        added = {blake3: [values_fact(table, row)] for blake3, row in rows.items()}
        for blake3, location in self._ensure_locations(session, objects).items():
            added.setdefault(blake3, []).append(location)
        return added

    def _ensure_locations(
        self, session: Session, objects: Sequence[NewObject]
    ) -> dict[str, dict[str, Any]]:
        """This station's store holds these objects (again, should one have expired here);
        the chain facts of the location rows added or reopened, by BLAKE3."""
        table = _table(ObjectLocationRow)
        located = {
            row.blake3: row
            for row in session.scalars(
                select(ObjectLocationRow).where(
                    ObjectLocationRow.blake3.in_({o.blake3 for o in objects}),
                    ObjectLocationRow.station == self.station,
                )
            )
        }
        added: dict[str, dict[str, Any]] = {}
        reopened: dict[str, ObjectLocationRow] = {}
        for new in objects:
            row = located.get(new.blake3)
            if row is None and new.blake3 not in added:
                added[new.blake3] = complete(
                    table, {"blake3": new.blake3, "station": self.station, "since": new.at}
                )
            elif row is not None and row.removed_at is not None:
                row.since, row.removed_at = new.at, None
                reopened[new.blake3] = row
        if added:
            session.execute(insert(table), list(added.values()))
        session.flush()
        changed = {blake3: values_fact(table, row) for blake3, row in added.items()}
        changed.update({blake3: row_fact(row).as_json() for blake3, row in reopened.items()})
        return changed


def _table(row: type[DeclarativeBase]) -> Table:
    table = row.__table__
    assert isinstance(table, Table)
    return table


def _recording_row(
    session_id: str, recorder_id: int, serial: str, rec: VerifiedRecording
) -> dict[str, Any]:
    return dict(
        session_id=session_id,
        recorder_id=recorder_id,
        serial=serial,
        path=rec.source.display,
        path_raw=rec.source.path,
        size=rec.source.size,
        mtime_ns=rec.source.mtime_ns,
        start=rec.times.start,
        end=rec.times.end,
        duration_s=rec.times.duration_s,
        time_source=rec.times.source,
        badge=rec.badge,
        name_serial=rec.name_serial,
        sequence=rec.sequence,
        important=rec.important,
        blake3=rec.digests.blake3,
        sha256=rec.digests.sha256,
        object_key=rec.object_key,
        protections=",".join(rec.protections),
        verified_at=rec.verified_at,
        verify_method=rec.verify_method,
        corrected_start=rec.corrected_start,
        corrected_end=rec.corrected_end,
        deadline=rec.deadline,
        day_end=rec.day_end,
        late=rec.late,
        late_by_s=rec.late_by_s,
        retention_class=rec.retention_class,
        retain_until=rec.retain_until,
    )
