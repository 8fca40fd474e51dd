"""The ledger of dock sessions: recorders, sessions, verified recordings and their objects.

The database itself (engine, pragmas, migrations) is `engine.py`, the custody chain
every write here extends is `custody.py`; `Ledger` is all three, as handed around.
A `Ledger` is one station's view: its sessions and object locations carry the
station's id, and `objects()` is what this station's store holds. The one-session-
per-recorder lock is `locks.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import DeclarativeBase, Session, selectinload

from dockd.adapters.ledger.activity_types import activity_types
from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.legacy import (
    Adoption,
    FixedOwner,
    LegacyOwner,
    adopt,
    adopter,
    legacy_rows,
)
from dockd.adapters.ledger.locks import Holder, clear_lock, hold_lock, pid_alive, release_lock
from dockd.adapters.ledger.mapping import problem_row, recording_view, session_view
from dockd.adapters.ledger.recording_writes import NewObject, RecordingWrites
from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    DockSessionRow,
    ObjectLocationRow,
    ObjectRow,
    RecorderRow,
    RecordingRow,
)
from dockd.core.model import Problem, StoredDocument
from dockd.core.said import Said
from dockd.core.signing import ManifestSignature
from dockd.core.views import (
    RecorderClockView,
    RecordingView,
    SessionView,
    StationClockView,
)

#: Reads around the window by a clip's longest plausible length and drift, so the index
#: on start (or end) bounds the scan; the exact window is applied after.
_LONGEST_CLIP = timedelta(hours=12)

# where objects stored before stations had names are: the one box's on SQLite, the adopting
# station's on a shared ledger (`dockd.adapters.ledger.legacy`)
UNNAMED_STATION = "local"


class Ledger(RecordingWrites):
    """Every recorder, dock session, recording, object and custody event."""

    def __init__(
        self, url: str, *, station: str = UNNAMED_STATION, alive: Callable[[int], bool] = pid_alive
    ) -> None:
        """`station`: this station's `[station] id`; `alive`: whether a pid of this boot
        still runs (a recorder lock held by a dead pid is taken over)."""
        super().__init__(url)
        self.station = station
        self.alive = alive
        # an adoption is seen live, by this process and every other station's
        self.legacy: LegacyOwner | FixedOwner = (
            FixedOwner(station) if self.dialect == "sqlite" else LegacyOwner(self._adopter)
        )

    def _adopter(self) -> str | None:
        return self.read(adopter)

    def stations(self) -> tuple[str, ...]:
        """The location names that are this station's copies: its id, and 'local' when the
        rows from before stations had names are its own: on SQLite (one box's ledger)
        always, on a shared ledger once it adopted them (`dockd.adapters.ledger.legacy`)."""
        if self.legacy.owner() == self.station:
            return (self.station, UNNAMED_STATION)
        return (self.station,)

    def adopt_legacy(self, at: datetime) -> Adoption | None:
        """`dockd station adopt-legacy`: see `dockd.adapters.ledger.legacy.adopt`."""
        return adopt(self, at)

    def legacy_unowned(self) -> int:
        """Object copies labelled 'local' that no station counts as its own: nobody
        verifies, expires or frees them until the station that wrote them adopts them."""
        if self.legacy.owner() is not None:
            return 0
        return self.read(legacy_rows).locations

    # dock sessions -------------------------------------------------------

    def close_abandoned_sessions(
        self, host: str, boot_id: str, alive: Callable[[int], bool], at: datetime
    ) -> list[str]:
        """Sessions left 'running' by a dockd that died (killed, crashed, power cut).

        Every command starts with this: a read finds that there is nothing to close
        without taking the write lock and committing (an fsync) for nothing."""
        running = (DockSessionRow.state == "running", DockSessionRow.host == host)

        def any_running(session: Session) -> bool:
            return session.scalars(select(DockSessionRow.id).where(*running)).first() is not None

        if not self.read(any_running):
            return []
        with self.transaction() as session:
            rows = session.scalars(select(DockSessionRow).where(*running)).all()
            closed = []
            for row in rows:
                if row.boot_id == boot_id and alive(row.pid):
                    continue
                self._close_abandoned(session, row, at)
                closed.append(row.id)
            return closed

    def _close_abandoned(self, session: Session, row: DockSessionRow, at: datetime) -> None:
        row.state = "interrupted"
        row.finished_at = at
        row.error_code = "DOCKD_DIED"
        problem = problem_row(
            row.id,
            "/",
            "session-abandoned",
            Said(
                "dockd stopped during this session (killed, crashed, power lost); re-dock the "
                "recorder to copy what is missing"
            ),
        )
        session.add(problem)
        session.flush()
        self.append_custody(
            session,
            at,
            "session-interrupted",
            row.id,
            {"serial": row.serial, "reason": "dockd-died", **facts(row, problem)},
        )
        release_lock(session, row.id)

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
        """Open a dock session holding the recorder's lock; RecorderBusyError (and nothing
        written) while another live session copies it."""
        with self.transaction() as session:
            holder = Holder(session_id, self.station, host, boot_id, pid)
            dead = clear_lock(session, serial, holder, self.alive)
            if dead is not None:
                abandoned = session.get(DockSessionRow, dead)
                if abandoned is not None and abandoned.state == "running":
                    self._close_abandoned(session, abandoned, at)
            recorder = session.scalars(
                select(RecorderRow).where(RecorderRow.serial == serial)
            ).first()
            if recorder is None:
                recorder = RecorderRow(serial=serial, profile=profile, first_seen=at, last_seen=at)
                session.add(recorder)
                session.flush()
            recorder.last_seen = at
            recorder.profile = profile
            dock = DockSessionRow(
                id=session_id,
                recorder_id=recorder.id,
                serial=serial,
                profile=profile,
                slot=slot,
                source=source,
                station=self.station,
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
            session.add(dock)
            session.flush()
            hold_lock(session, serial, holder, at)
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
                    "station": self.station,
                    "host": host,
                    **facts(recorder, dock),
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
            return {(bytes(r.path_raw), r.size, r.mtime_ns): recording_view(r) for r in rows}

        return self.read(load)

    def recording_ends(
        self, serial: str, badges: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str | None, datetime]]:
        """Indexed by (serial, start) and (badge, end); a recording ends after it starts."""
        end = func.coalesce(RecordingRow.corrected_end, RecordingRow.end)

        def load(session: Session) -> list[tuple[str | None, datetime]]:
            mine = select(RecordingRow.badge, end).where(
                RecordingRow.serial == serial,
                RecordingRow.start >= since - _LONGEST_CLIP,
                RecordingRow.start < until,
            )
            theirs = select(RecordingRow.badge, end).where(
                RecordingRow.badge.in_(list(badges)),
                RecordingRow.end >= since - _LONGEST_CLIP,
                RecordingRow.end < until + _LONGEST_CLIP,
            )
            found = {(b, e) for b, e in session.execute(mine)}
            if badges:
                found |= {(b, e) for b, e in session.execute(theirs)}
            return sorted(((b, e) for b, e in found if since <= e < until), key=lambda x: x[1])

        return self.read(load)

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
        signature: ManifestSignature | None = None,
    ) -> None:
        with self.transaction() as session:
            dock = session.get_one(DockSessionRow, session_id)
            release_lock(session, session_id)
            _store_clocks(dock, station_clock, recorder_clock)
            dock.state = state
            dock.finished_at = at
            dock.files_seen = files_seen
            dock.already_verified = already_verified
            dock.error_code = error_code
            changed: list[DeclarativeBase] = [dock]
            for problem in problems:
                changed.append(problem_row(session_id, problem.path, problem.code, problem.message))
            session.add_all(changed[1:])
            stored: dict[str, list[dict[str, Any]]] = {}
            if manifest is not None:
                stored = self._ensure_objects(
                    session,
                    [
                        NewObject(
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
            session.flush()
            rows = facts(*changed)["rows"] + [row for rows in stored.values() for row in rows]
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
                    "manifest_signature": signature.signature.hex() if signature else None,
                    "signed_by": signature.key if signature else None,
                    "rows": rows,
                },
            )

    # read models ---------------------------------------------------------

    def recordings(self, session_id: str | None = None) -> list[RecordingView]:
        """Every verified recording, or one dock session's, in ledger order."""
        query = (
            select(RecordingRow, CentralCopyRow)
            .outerjoin(CentralCopyRow, CentralCopyRow.blake3 == RecordingRow.blake3)
            .order_by(RecordingRow.id)
        )
        if session_id is not None:
            query = query.where(RecordingRow.session_id == session_id)

        def load(s: Session) -> list[RecordingView]:
            places: dict[str, list[str]] = {}
            for blake3, where in s.execute(
                select(ObjectLocationRow.blake3, ObjectLocationRow.station)
                .where(ObjectLocationRow.removed_at.is_(None))
                .order_by(ObjectLocationRow.station)
            ):
                places.setdefault(blake3, []).append(where)
            types = activity_types(s)
            return [
                recording_view(r, c, places.get(r.blake3, []), types.get(r.id, []))
                for r, c in s.execute(query)
            ]

        return self.read(load)

    def sessions(self) -> list[SessionView]:
        def load(session: Session) -> list[SessionView]:
            rows = session.scalars(
                select(DockSessionRow)
                .options(selectinload(DockSessionRow.problems))
                .order_by(DockSessionRow.started_at, DockSessionRow.id)
            )
            return [session_view(r) for r in rows]

        return self.read(load)

    def session(self, session_id: str) -> SessionView | None:
        def load(session: Session) -> SessionView | None:
            row = session.get(DockSessionRow, session_id)
            return session_view(row) if row else None

        return self.read(load)

    def objects(self) -> list[tuple[str, str, str, int]]:
        """(blake3, sha256, key, size) of every object the ledger says this station's store
        holds (another station's copies are that station's to verify)."""
        return self.read(
            lambda s: [
                (r.blake3, r.sha256, r.key, r.size)
                for r in s.scalars(
                    select(ObjectRow)
                    .where(ObjectRow.removed_at.is_(None), self.holds(ObjectRow.blake3))
                    .order_by(ObjectRow.blake3)
                )
            ]
        )

    def holds(self, blake3: Any) -> ColumnElement[bool]:
        """SQL: this station's store holds the object with this BLAKE3 (a column)."""
        return (
            select(ObjectLocationRow.blake3)
            .where(
                ObjectLocationRow.blake3 == blake3,
                ObjectLocationRow.station.in_(self.stations()),
                ObjectLocationRow.removed_at.is_(None),
            )
            .exists()
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
