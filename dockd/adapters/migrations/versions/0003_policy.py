"""policy: deadlines, retention, holds, devices, duty returns, attestations, interruptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:18:45.210970
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dockd.adapters.ledger.schema

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column(
            "registered_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "duty_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column(
            "returned_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duty_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_returns_badge"), ["badge"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=255), nullable=False),
        sa.Column("since", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["serial"],
            ["devices.serial"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_badge"), ["badge"], unique=False)
        batch_op.create_index("ix_assignments_serial_since", ["serial", "since"], unique=False)

    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["dock_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "operator"),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attestations_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column(
            "placed_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("placed_by", sa.String(length=128), nullable=False),
        sa.Column(
            "released_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_recording_id"), ["recording_id"], unique=False)

    op.create_table(
        "interruptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("before_recording", sa.Integer(), nullable=False),
        sa.Column("after_recording", sa.Integer(), nullable=False),
        sa.Column(
            "gap_start", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "gap_end", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("gap_s", sa.Float(), nullable=False),
        sa.Column(
            "detected_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["after_recording"],
            ["recordings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["before_recording"],
            ["recordings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["dock_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interruptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interruptions_detected_at"), ["detected_at"], unique=False
        )

    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sealed_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "removed_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "deadline", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("late_by_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("retention_class", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "retain_until",
                dockd.adapters.ledger.schema.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "expired_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_recordings_late_verified", ["late", "verified_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recordings_retain_until"), ["retain_until"], unique=False
        )
        batch_op.create_index("ix_recordings_serial_start", ["serial", "start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_serial_start")
        batch_op.drop_index(batch_op.f("ix_recordings_retain_until"))
        batch_op.drop_index("ix_recordings_late_verified")
        batch_op.drop_column("expired_at")
        batch_op.drop_column("retain_until")
        batch_op.drop_column("retention_class")
        batch_op.drop_column("late_by_s")
        batch_op.drop_column("late")
        batch_op.drop_column("deadline")

    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_column("removed_at")

    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.drop_column("sealed_at")

    with op.batch_alter_table("interruptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interruptions_detected_at"))

    op.drop_table("interruptions")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_recording_id"))

    op.drop_table("holds")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_session_id"))

    op.drop_table("attestations")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_serial_since")
        batch_op.drop_index(batch_op.f("ix_assignments_badge"))

    op.drop_table("assignments")
    with op.batch_alter_table("duty_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_returns_badge"))

    op.drop_table("duty_returns")
    op.drop_table("devices")
