"""The ledger's tables (SQLAlchemy 2 typed ORM). Alembic migrations create them.

Times are stored as UTC and always come back timezone-aware, on SQLite and
PostgreSQL alike, so nothing above this layer ever meets a naive datetime.

The annotations are evaluated as the classes are defined (no `from __future__ import
annotations`): SQLAlchemy reads each `Mapped[...]`, and 280 of them as strings cost
every command that opens the ledger some 15 ms of `eval` (issue 17). Only the
relationships' forward references stay strings.
"""

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class RecorderRow(Base):
    __tablename__ = "recorders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(128), unique=True)
    profile: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class DockSessionRow(Base):
    __tablename__ = "dock_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recorder_id: Mapped[int] = mapped_column(ForeignKey("recorders.id"), index=True)
    serial: Mapped[str] = mapped_column(String(128))
    profile: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    # the `[station] id` that ran it; 'local' for sessions from before stations had names
    station: Mapped[str] = mapped_column(String(64), server_default="local")
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    boot_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32), index=True)
    files_seen: Mapped[int] = mapped_column(Integer, default=0)
    copied: Mapped[int] = mapped_column(Integer, default=0)
    already_verified: Mapped[int] = mapped_column(Integer, default=0)
    bytes_copied: Mapped[int] = mapped_column(BigInteger, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    manifest_blake3: Mapped[str | None] = mapped_column(String(64))
    station_offset_s: Mapped[float | None] = mapped_column(Float)
    station_server: Mapped[str | None] = mapped_column(String(255))
    station_stratum: Mapped[int | None] = mapped_column(Integer)
    station_delay_s: Mapped[float | None] = mapped_column(Float)
    station_synchronised: Mapped[bool | None] = mapped_column(Boolean)
    station_method: Mapped[str | None] = mapped_column(String(16))
    station_measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    station_detail: Mapped[str | None] = mapped_column(Text)
    recorder_drift_s: Mapped[float | None] = mapped_column(Float)
    recorder_clock_method: Mapped[str | None] = mapped_column(String(32))
    recorder_clock_measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorder_clock_detail: Mapped[str | None] = mapped_column(Text)
    drift_verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    # the nightly report's unsealed sessions (two-person offload) are found by it
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    problems: Mapped[list["SessionProblemRow"]] = relationship(
        order_by="SessionProblemRow.id", cascade="all, delete-orphan"
    )


class SessionProblemRow(Base):
    __tablename__ = "session_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("dock_sessions.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    # the message's template and its values (JSON) for the reader's language; NULL before 0015
    message_template: Mapped[str | None] = mapped_column(Text)
    message_values: Mapped[str | None] = mapped_column(Text)


class ObjectRow(Base):
    __tablename__ = "objects"

    blake3: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    protections: Mapped[str] = mapped_column(String(255))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ObjectLocationRow(Base):
    """A station whose store holds (or held) a copy of an object: `verify` and retention
    act only on their own station's copies. 'local' = stored before stations had names."""

    __tablename__ = "object_locations"
    __table_args__ = (Index("ix_object_locations_station", "station", "removed_at"),)

    blake3: Mapped[str] = mapped_column(ForeignKey("objects.blake3"), primary_key=True)
    station: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CentralCopyRow(Base):
    """An object's copy in the agency's central store (S3 Object Lock). No row = not yet
    sent; `confirmed` only after a HEAD of `version_id` showed the size, SHA-256, lock mode
    and retain-until that were sent. `retain_until` and `legal_hold` are what the server
    was last confirmed to hold."""

    __tablename__ = "central_copies"
    __table_args__ = (Index("ix_central_copies_state", "state", "updated_at"),)

    blake3: Mapped[str] = mapped_column(ForeignKey("objects.blake3"), primary_key=True)
    station: Mapped[str] = mapped_column(String(64))  # the station that sent it
    key: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))  # pending | confirmed | failed
    version_id: Mapped[str | None] = mapped_column(String(1024))
    checksum: Mapped[str | None] = mapped_column(String(80))
    parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # a legal hold already ON when dockd adopted the object: someone else's, never switched
    # off; NULL (= no) on rows confirmed before migration 0014, whose facts lack the column
    foreign_hold: Mapped[bool | None] = mapped_column(Boolean)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CentralUploadRow(Base):
    """A multipart upload this station started and has not finished: the row exists from
    its creation until it completes, so a dockd killed mid-upload aborts at its next start
    only the upload ids it recorded, never another station's live upload of the same key."""

    __tablename__ = "central_uploads"
    __table_args__ = (Index("ix_central_uploads_station", "station"),)

    upload_id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    station: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(1024))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecorderLockRow(Base):
    """The one dock session copying a recorder now; the row exists only while it runs."""

    __tablename__ = "recorder_locks"

    serial: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("dock_sessions.id"))
    station: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    boot_id: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordingRow(Base):
    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_identity", "recorder_id", "path_raw", "size"),
        Index("ix_recordings_late_verified", "late", "verified_at"),
        Index("ix_recordings_verified", "verified_at"),
        Index("ix_recordings_serial_start", "serial", "start"),
        Index("ix_recordings_badge_end", "badge", "end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("dock_sessions.id"), index=True)
    recorder_id: Mapped[int] = mapped_column(ForeignKey("recorders.id"))
    serial: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(Text)
    path_raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    time_source: Mapped[str] = mapped_column(String(32))
    badge: Mapped[str | None] = mapped_column(String(64))
    name_serial: Mapped[str | None] = mapped_column(String(128))
    sequence: Mapped[int | None] = mapped_column(Integer)
    important: Mapped[bool] = mapped_column(Boolean)
    blake3: Mapped[str] = mapped_column(ForeignKey("objects.blake3"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(255))
    protections: Mapped[str] = mapped_column(String(255))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verify_method: Mapped[str] = mapped_column(String(32))
    corrected_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the working day's end the deadline counts from (dockd.core.deadlines); None before 0012
    day_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool | None] = mapped_column(Boolean)
    late_by_s: Mapped[float | None] = mapped_column(Float)
    retention_class: Mapped[str | None] = mapped_column(String(32))
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the archive label (003/E:18): 密级, and the subject and matter of its folder (003/E:17)
    classification: Mapped[str] = mapped_column(String(16), default="内部", server_default="内部")
    archive_subject: Mapped[str | None] = mapped_column(String(255))
    archive_matter: Mapped[str | None] = mapped_column(String(255))

    holds: Mapped[list["HoldRow"]] = relationship(order_by="HoldRow.id", lazy="selectin")


class CustodyEventRow(Base):
    """Append-only; `hash` chains each row to the one before in its station's chain
    (see dockd.core.custody); 'local' is the chain of events before stations had names."""

    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_kind_subject", "kind", "subject"),)

    station: Mapped[str] = mapped_column(String(64), primary_key=True, server_default="local")
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class StationRow(Base):
    """A station's public signing key, recorded at its first start and never replaced:
    every station's checkpoints are checked against it (`audit verify --all-stations`)."""

    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    host: Mapped[str] = mapped_column(String(255))


class DeviceRow(Base):
    """A recorder as a fixed asset (000:6/13): registered with its model."""

    __tablename__ = "devices"

    serial: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssignmentRow(Base):
    """Who was responsible for a recorder, and when ("whoever uses it is responsible")."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_serial_since", "serial", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(ForeignKey("devices.serial"))
    badge: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    unit: Mapped[str] = mapped_column(String(255))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DutyReturnRow(Base):
    """An officer's recorded return from remote duty: deadlines run from it (000:24)."""

    __tablename__ = "duty_returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge: Mapped[str] = mapped_column(String(64), index=True)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(128))


class HoldRow(Base):
    """A case or long-term reason that keeps a recording whatever its retain-until date."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(255))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    placed_by: Mapped[str] = mapped_column(String(128))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(128))
    release_reason: Mapped[str | None] = mapped_column(Text)


class AttestationRow(Base):
    """An operator's attestation of a dock session (two distinct ones seal it, 004:21)."""

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("session_id", "operator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("dock_sessions.id"), index=True)
    operator: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class InterruptionRow(Base):
    """A hole between two clips of one recorder, for supervisor review."""

    __tablename__ = "interruptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("dock_sessions.id"))
    serial: Mapped[str] = mapped_column(String(128))
    before_recording: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    after_recording: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    gap_start: Mapped[datetime] = mapped_column(UTCDateTime)
    gap_end: Mapped[datetime] = mapped_column(UTCDateTime)
    gap_s: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OperatorRow(Base):
    """A person who approves, views, exports or seals; the passphrase only as a scrypt hash.

    `failures` counts wrong passphrases in a row; `locked_until` ends a lock-out."""

    __tablename__ = "operators"

    badge: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    unit: Mapped[str | None] = mapped_column(String(255))
    kdf: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    passphrase_hash: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(128))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list["OperatorRoleRow"]] = relationship(
        order_by="OperatorRoleRow.id", cascade="all, delete-orphan", lazy="selectin"
    )


class OperatorRoleRow(Base):
    __tablename__ = "operator_roles"
    __table_args__ = (UniqueConstraint("badge", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge: Mapped[str] = mapped_column(ForeignKey("operators.badge"), index=True)
    role: Mapped[str] = mapped_column(String(255))


class ViewingRequestRow(Base):
    """A request to view recordings; the roles it needs are fixed when it is made."""

    __tablename__ = "viewing_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    viewer: Mapped[str] = mapped_column(ForeignKey("operators.badge"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tier: Mapped[str] = mapped_column(String(16))
    required_roles: Mapped[str] = mapped_column(Text)  # JSON list, in the pack's order
    ordered: Mapped[bool] = mapped_column(Boolean)
    open_hours: Mapped[float] = mapped_column(Float)
    pack: Mapped[str] = mapped_column(String(64))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_by: Mapped[str | None] = mapped_column(String(64))
    refusal_reason: Mapped[str | None] = mapped_column(Text)

    recordings: Mapped[list["ViewingRecordingRow"]] = relationship(
        order_by="ViewingRecordingRow.id", cascade="all, delete-orphan", lazy="selectin"
    )
    approvals: Mapped[list["ViewingApprovalRow"]] = relationship(
        order_by="ViewingApprovalRow.id", cascade="all, delete-orphan", lazy="selectin"
    )
    viewings: Mapped[list["ViewingRow"]] = relationship(
        order_by="ViewingRow.id", cascade="all, delete-orphan", lazy="selectin"
    )


class ViewingRecordingRow(Base):
    __tablename__ = "viewing_recordings"
    __table_args__ = (UniqueConstraint("request_id", "recording_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("viewing_requests.id"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))


class ViewingApprovalRow(Base):
    __tablename__ = "viewing_approvals"
    __table_args__ = (UniqueConstraint("request_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("viewing_requests.id"), index=True)
    approver: Mapped[str] = mapped_column(ForeignKey("operators.badge"))
    role: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ViewingRow(Base):
    """One opening of an approved request: a checked, read-only copy written out."""

    __tablename__ = "viewings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("viewing_requests.id"), index=True)
    viewer: Mapped[str] = mapped_column(ForeignKey("operators.badge"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    out: Mapped[str] = mapped_column(Text)
    files: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)


class ExportRow(Base):
    """An export package: begun (the intent, written first), then completed or failed."""

    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_ref: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(Text)
    maker: Mapped[str] = mapped_column(String(255))
    operators: Mapped[str] = mapped_column(Text)  # JSON list of badges, in the order given
    recordings: Mapped[str] = mapped_column(Text)  # JSON list of recording ids
    path: Mapped[str] = mapped_column(Text)
    iso_path: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    tag_sha256: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))


# --- supervision (migration 0009) -----------------------------------------------------


class SpotCheckDrawRow(Base):
    """A spot-check draw (000:32, 002:20, 004:28): the seed is the chain's head when it was
    drawn, the population every recording it was drawn from, so anyone can redraw it."""

    __tablename__ = "spot_check_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    drawn_by: Mapped[str] = mapped_column(String(128))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    seed: Mapped[str] = mapped_column(String(64))
    ratio: Mapped[float] = mapped_column(Float)
    population: Mapped[str] = mapped_column(Text)  # JSON [[recording, unit, custodian], ...]


class SpotCheckItemRow(Base):
    """One drawn recording and, once reviewed, what the supervisor found."""

    __tablename__ = "spot_check_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spot_check_draws.id"), index=True)
    recording: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    unit: Mapped[str | None] = mapped_column(String(255))
    custodian: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(64))
    recorded: Mapped[bool | None] = mapped_column(Boolean)
    uninterrupted: Mapped[bool | None] = mapped_column(Boolean)
    handed_over: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class InterruptionReviewRow(Base):
    """Why a recording was interrupted (000:20, 001:11, 002:13, 003/D:10), and who reviewed it."""

    __tablename__ = "interruption_reviews"

    interruption_id: Mapped[int] = mapped_column(ForeignKey("interruptions.id"), primary_key=True)
    explanation: Mapped[str] = mapped_column(Text)
    explained_by: Mapped[str] = mapped_column(String(64))
    explained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkRecordRow(Base):
    """A work record when recording was impossible (000:12, 001:7, 002:12, 003/A:5, 004:11)."""

    __tablename__ = "work_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(String(64))
    reported_to: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(128))


class DeviceChangeRow(Base):
    """A recorder reclaimed to the pool or retired, and why."""

    __tablename__ = "device_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(ForeignKey("devices.serial"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reclaimed | retired
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(128))


class RecorderUnplugRow(Base):
    """When a docked recorder was taken off the dock (media return, 003/E:9)."""

    __tablename__ = "recorder_unplugs"
    __table_args__ = (Index("ix_recorder_unplugs_serial_at", "serial", "unplugged_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(128))
    session_id: Mapped[str | None] = mapped_column(String(36))
    unplugged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActivityRow(Base):
    """An activity from the agency's case or dispatch list (000:11, 001:6, 002:9, 004:10)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_end", "end"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    badges: Mapped[str] = mapped_column(Text)  # ";"-separated, in the list's order
    unit: Mapped[str] = mapped_column(String(255))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(Text)
    # the list's own UTC offset: retention months are counted in the agency's calendar
    utc_offset_min: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    imported_by: Mapped[str] = mapped_column(String(128))


class ActivityRecordingRow(Base):
    """A recording matched to an activity: its officers', in its window."""

    __tablename__ = "activity_recordings"

    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    recording: Mapped[int] = mapped_column(
        ForeignKey("recordings.id"), primary_key=True, index=True
    )
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)
