"""The ledger: every recorder, dock session, recording, object and custody event.

SQLite (WAL) by default, PostgreSQL by URL; the schema comes from Alembic
migrations only. Writes that extend the custody chain are serialised (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory lock) so concurrent slots and a CLI
running beside the daemon can never fork the chain. SQLAlchemy errors are
translated into LedgerError here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from dockd.adapters.ledger.mapping import recording_view as _recording_view
from dockd.adapters.ledger.mapping import session_view as _session_view
from dockd.adapters.ledger.schema import (
    CustodyEventRow,
    DockSessionRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
    SessionProblemRow,
)
from dockd.core.custody import GENESIS, CustodyEvent, canonical_json, event_hash
from dockd.core.model import Problem, StoredDocument, VerifiedRecording
from dockd.core.views import (
    RecorderClockView,
    RecordingView,
    SessionView,
    StationClockView,
)
from dockd.errors import LedgerError

_CHAIN_LOCK = 0x646F636B  # "dock": the PostgreSQL advisory lock of the custody chain
_MIGRATION_LOCK = 0x646F636D
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration (tests/integration/test_migrations.py keeps it equal to Alembic's
# head): a ledger already there is opened without importing Alembic at all.
SCHEMA_REVISION = "0005"


@dataclass(frozen=True, slots=True)
class _NewObject:
    blake3: str
    sha256: str
    size: int
    key: str
    protections: tuple[str, ...]
    kind: str
    at: datetime


T = TypeVar("T")
_READ_ONLY = "dockd_read_only"


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front so two of them never deadlock on an
        # upgrade; readers take a snapshot and never make a writer (the daemon) wait.
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def schema_revision(engine: Engine) -> str | None:
    """The ledger's Alembic revision; None for a new (empty) ledger."""
    with engine.connect() as connection:
        if not connection.dialect.has_table(connection, "alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Every CLI command opens the ledger, and importing Alembic costs a quarter of a
    second: it is imported only when there is something to migrate."""
    if schema_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # two dockd starting together on a new database must not both create tables
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Ledger:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite"):
                self.engine = _sqlite_engine(url)
            else:
                self.engine = create_engine(url, pool_pre_ping=True)
            self.dialect = self.engine.dialect.name
            migrate(self.engine)
        except SQLAlchemyError as exc:
            raise LedgerError(f"cannot open the ledger at {self._safe_url()}: {exc}") from exc
        except OSError as exc:
            raise LedgerError(f"cannot open the ledger at {self._safe_url()}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger write failed: {exc}") from exc

    def read(self, fn: Callable[[Session], T]) -> T:
        try:
            with self._sessions(bind=self._reader) as session:
                return fn(session)
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed: {exc}") from exc

    # custody chain -------------------------------------------------------

    def append_custody(
        self,
        session: Session,
        at: datetime,
        kind: str,
        subject: str,
        details: dict[str, Any],
        actor: str = "dockd",
    ) -> None:
        head: tuple[int, str] | None = session.info.get("custody_head")
        if head is None:
            if self.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
            last = session.execute(
                select(CustodyEventRow.seq, CustodyEventRow.hash)
                .order_by(CustodyEventRow.seq.desc())
                .limit(1)
            ).first()
            head = (last[0], last[1]) if last else (0, GENESIS)
        seq, prev = head[0] + 1, head[1]
        stamp = at.isoformat()
        digest = event_hash(prev, seq, stamp, kind, subject, actor, details)
        session.add(
            CustodyEventRow(
                seq=seq,
                at=stamp,
                kind=kind,
                subject=subject,
                actor=actor,
                details=canonical_json(details).decode("utf-8"),
                prev_hash=prev,
                hash=digest,
            )
        )
        session.info["custody_head"] = (seq, digest)

    def record_event(self, at: datetime, kind: str, subject: str, details: dict[str, Any]) -> None:
        with self.transaction() as session:
            self.append_custody(session, at, kind, subject, details)

    def custody_events(self) -> list[CustodyEvent]:
        def load(session: Session) -> list[CustodyEvent]:
            rows = session.scalars(select(CustodyEventRow).order_by(CustodyEventRow.seq))
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
                )
                for r in rows
            ]

        return self.read(load)

    # dock sessions -------------------------------------------------------

    def close_abandoned_sessions(
        self, host: str, boot_id: str, alive: Callable[[int], bool], at: datetime
    ) -> list[str]:
        """Sessions left 'running' by a dockd that died (killed, crashed, power cut)."""
        with self.transaction() as session:
            rows = session.scalars(
                select(DockSessionRow).where(
                    DockSessionRow.state == "running", DockSessionRow.host == host
                )
            ).all()
            closed = []
            for row in rows:
                if row.boot_id == boot_id and alive(row.pid):
                    continue
                row.state = "interrupted"
                row.finished_at = at
                row.error_code = "DOCKD_DIED"
                session.add(
                    SessionProblemRow(
                        session_id=row.id,
                        path="/",
                        code="session-abandoned",
                        message="dockd stopped during this session (killed, crashed, power lost); "
                        "re-dock the recorder to copy what is missing",
                    )
                )
                self.append_custody(
                    session,
                    at,
                    "session-interrupted",
                    row.id,
                    {"serial": row.serial, "reason": "dockd-died"},
                )
                closed.append(row.id)
            return closed

    def start_session(
        self,
        *,
        session_id: str,
        serial: str,
        profile: str,
        slot: str | None,
        source: str,
        host: str,
        pid: int,
        boot_id: str,
        at: datetime,
    ) -> None:
        with self.transaction() as session:
            recorder = session.scalars(
                select(RecorderRow).where(RecorderRow.serial == serial)
            ).first()
            if recorder is None:
                recorder = RecorderRow(serial=serial, profile=profile, first_seen=at, last_seen=at)
                session.add(recorder)
                session.flush()
            recorder.last_seen = at
            recorder.profile = profile
            session.add(
                DockSessionRow(
                    id=session_id,
                    recorder_id=recorder.id,
                    serial=serial,
                    profile=profile,
                    slot=slot,
                    source=source,
                    host=host,
                    pid=pid,
                    boot_id=boot_id,
                    started_at=at,
                    state="running",
                    files_seen=0,
                    copied=0,
                    already_verified=0,
                    bytes_copied=0,
                )
            )
            self.append_custody(
                session,
                at,
                "session-started",
                session_id,
                {
                    "serial": serial,
                    "profile": profile,
                    "slot": slot,
                    "source": source,
                    "host": host,
                },
            )

    def verified_identities(self, serial: str) -> set[tuple[bytes, int, int]]:
        def load(session: Session) -> set[tuple[bytes, int, int]]:
            rows = session.execute(
                select(RecordingRow.path_raw, RecordingRow.size, RecordingRow.mtime_ns).where(
                    RecordingRow.serial == serial
                )
            )
            return {(bytes(p), s, m) for p, s, m in rows}

        return self.read(load)

    def prior_recordings(self, serial: str) -> dict[tuple[bytes, int, int], RecordingView]:
        """The verified recordings of this recorder, by identity, for the manifest's inventory."""

        def load(session: Session) -> dict[tuple[bytes, int, int], RecordingView]:
            rows = session.scalars(select(RecordingRow).where(RecordingRow.serial == serial))
            return {(bytes(r.path_raw), r.size, r.mtime_ns): _recording_view(r) for r in rows}

        return self.read(load)

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
            self._ensure_objects(
                session,
                [
                    _NewObject(
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
            rows = []
            for rec in recordings:
                rows.append(_recording_row(session_id, recorder_id, serial, rec))
                dock.copied += 1
                dock.bytes_copied += rec.source.size
            session.add_all(rows)
            session.flush()
            for row, rec in zip(rows, recordings, strict=True):
                self.append_custody(
                    session,
                    rec.verified_at,
                    "recording-verified",
                    str(row.id),
                    {
                        "session": session_id,
                        "serial": serial,
                        "path": rec.source.display,
                        "size": rec.source.size,
                        "blake3": rec.digests.blake3,
                        "sha256": rec.digests.sha256,
                        "object": rec.object_key,
                        "duplicate_content": rec.duplicate,
                    },
                )
            return [row.id for row in rows]

    def _ensure_objects(self, session: Session, objects: Sequence[_NewObject]) -> None:
        """Add the objects the ledger does not know yet, with one query for the batch;
        a known digest with another SHA-256 or size would mean a broken store."""
        wanted = {o.blake3 for o in objects}
        known = {
            row.blake3: row
            for row in session.scalars(select(ObjectRow).where(ObjectRow.blake3.in_(wanted)))
        }
        for new in objects:
            existing = known.get(new.blake3)
            if existing is None:
                known[new.blake3] = row = ObjectRow(
                    blake3=new.blake3,
                    sha256=new.sha256,
                    size=new.size,
                    key=new.key,
                    kind=new.kind,
                    protections=",".join(new.protections),
                    stored_at=new.at,
                )
                session.add(row)
            elif existing.sha256 != new.sha256 or existing.size != new.size:
                raise LedgerError(
                    f"object {new.blake3} is already in the ledger with another SHA-256 or size",
                    hint="This should be impossible; preserve the store and ledger and report it.",
                )

    def finish_session(
        self,
        session_id: str,
        *,
        state: str,
        at: datetime,
        files_seen: int,
        already_verified: int,
        problems: list[Problem],
        error_code: str | None,
        manifest: StoredDocument | None,
        station_clock: StationClockView | None = None,
        recorder_clock: RecorderClockView | None = None,
    ) -> None:
        with self.transaction() as session:
            dock = session.get_one(DockSessionRow, session_id)
            _store_clocks(dock, station_clock, recorder_clock)
            dock.state = state
            dock.finished_at = at
            dock.files_seen = files_seen
            dock.already_verified = already_verified
            dock.error_code = error_code
            for problem in problems:
                session.add(
                    SessionProblemRow(
                        session_id=session_id,
                        path=problem.path,
                        code=problem.code,
                        message=problem.message,
                    )
                )
            if manifest is not None:
                self._ensure_objects(
                    session,
                    [
                        _NewObject(
                            manifest.digests.blake3,
                            manifest.digests.sha256,
                            manifest.size,
                            manifest.object_key,
                            manifest.protections,
                            "manifest",
                            at,
                        )
                    ],
                )
                dock.manifest_blake3 = manifest.digests.blake3
            self.append_custody(
                session,
                at,
                "session-finished",
                session_id,
                {
                    "state": state,
                    "copied": dock.copied,
                    "already_verified": already_verified,
                    "problems": len(problems),
                    "error_code": error_code,
                    "manifest": manifest.digests.blake3 if manifest else None,
                },
            )

    # read models ---------------------------------------------------------

    def recordings(self, session_id: str | None = None) -> list[RecordingView]:
        """Every verified recording, or one dock session's, in ledger order."""
        query = select(RecordingRow).order_by(RecordingRow.id)
        if session_id is not None:
            query = query.where(RecordingRow.session_id == session_id)
        return self.read(lambda s: [_recording_view(r) for r in s.scalars(query)])

    def sessions(self) -> list[SessionView]:
        def load(session: Session) -> list[SessionView]:
            rows = session.scalars(
                select(DockSessionRow)
                .options(selectinload(DockSessionRow.problems))
                .order_by(DockSessionRow.started_at, DockSessionRow.id)
            )
            return [_session_view(r) for r in rows]

        return self.read(load)

    def session(self, session_id: str) -> SessionView | None:
        def load(session: Session) -> SessionView | None:
            row = session.get(DockSessionRow, session_id)
            return _session_view(row) if row else None

        return self.read(load)

    def objects(self) -> list[tuple[str, str, str, int]]:
        """(blake3, sha256, key, size) of every object the ledger says the store holds."""
        return self.read(
            lambda s: [
                (r.blake3, r.sha256, r.key, r.size)
                for r in s.scalars(
                    select(ObjectRow)
                    .where(ObjectRow.removed_at.is_(None))
                    .order_by(ObjectRow.blake3)
                )
            ]
        )

    def custody_facts(self) -> tuple[list[str], list[tuple[int, str]]]:
        """Closed session ids and (recording id, BLAKE3): what custody events must vouch for."""

        def load(session: Session) -> tuple[list[str], list[tuple[int, str]]]:
            closed = session.scalars(
                select(DockSessionRow.id).where(DockSessionRow.state != "running")
            ).all()
            recordings = session.execute(select(RecordingRow.id, RecordingRow.blake3)).all()
            return list(closed), [(rid, digest) for rid, digest in recordings]

        return self.read(load)


def _recording_row(
    session_id: str, recorder_id: int, serial: str, rec: VerifiedRecording
) -> RecordingRow:
    return RecordingRow(
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
        late=rec.late,
        late_by_s=rec.late_by_s,
        retention_class=rec.retention_class,
        retain_until=rec.retain_until,
    )


def _store_clocks(
    dock: DockSessionRow, station: StationClockView | None, recorder: RecorderClockView | None
) -> None:
    if station is not None:
        dock.station_offset_s = station.offset_s
        dock.station_server = station.server
        dock.station_stratum = station.stratum
        dock.station_delay_s = station.delay_s
        dock.station_synchronised = station.synchronised
        dock.station_method = station.method
        dock.station_measured_at = station.measured_at
        dock.station_detail = station.detail
    if recorder is not None:
        dock.recorder_drift_s = recorder.drift_s
        dock.recorder_clock_method = recorder.method
        dock.recorder_clock_measured_at = recorder.measured_at
        dock.recorder_clock_detail = recorder.detail
        dock.drift_verdict = recorder.verdict
