"""initial ledger: recorders, dock sessions, recordings, objects, custody events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:30:39.829634
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dockd.adapters.ledger.schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custody_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_events_kind"), ["kind"], unique=False)

    op.create_table(
        "objects",
        sa.Column("blake3", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("protections", sa.String(length=255), nullable=False),
        sa.Column(
            "stored_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("blake3"),
    )
    op.create_table(
        "recorders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial"),
    )
    op.create_table(
        "dock_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recorder_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=255), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column(
            "started_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("files_seen", sa.Integer(), nullable=False),
        sa.Column("copied", sa.Integer(), nullable=False),
        sa.Column("already_verified", sa.Integer(), nullable=False),
        sa.Column("bytes_copied", sa.BigInteger(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("manifest_blake3", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorder_id"],
            ["recorders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dock_sessions_recorder_id"), ["recorder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dock_sessions_started_at"), ["started_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dock_sessions_state"), ["state"], unique=False)

    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("recorder_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("path_raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("start", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("time_source", sa.String(length=32), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=True),
        sa.Column("name_serial", sa.String(length=128), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("blake3", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=255), nullable=False),
        sa.Column("protections", sa.String(length=255), nullable=False),
        sa.Column(
            "verified_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("verify_method", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["blake3"],
            ["objects.blake3"],
        ),
        sa.ForeignKeyConstraint(
            ["recorder_id"],
            ["recorders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["dock_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_blake3"), ["blake3"], unique=False)
        batch_op.create_index(
            "ix_recordings_identity", ["recorder_id", "path_raw", "size"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recordings_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_start"), ["start"], unique=False)

    op.create_table(
        "session_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["dock_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_problems_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("session_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_problems_session_id"))

    op.drop_table("session_problems")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordings_start"))
        batch_op.drop_index(batch_op.f("ix_recordings_session_id"))
        batch_op.drop_index("ix_recordings_identity")
        batch_op.drop_index(batch_op.f("ix_recordings_blake3"))

    op.drop_table("recordings")
    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dock_sessions_state"))
        batch_op.drop_index(batch_op.f("ix_dock_sessions_started_at"))
        batch_op.drop_index(batch_op.f("ix_dock_sessions_recorder_id"))

    op.drop_table("dock_sessions")
    op.drop_table("recorders")
    op.drop_table("objects")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_events_kind"))

    op.drop_table("custody_events")
