"""operators and their roles, viewing requests, approvals and viewings; archive labels

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:18:53.417743
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dockd.adapters.ledger.schema

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=255), nullable=True),
        sa.Column("kdf", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("passphrase_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "added_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column(
            "disabled_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "locked_until", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("badge"),
    )
    op.create_table(
        "operator_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["badge"],
            ["operators.badge"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("badge", "role"),
    )
    with op.batch_alter_table("operator_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_roles_badge"), ["badge"], unique=False)

    op.create_table(
        "viewing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "requested_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("required_roles", sa.Text(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.Column("open_hours", sa.Float(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column(
            "refused_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("refused_by", sa.String(length=64), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["viewer"],
            ["operators.badge"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("viewing_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_viewing_requests_requested_at"), ["requested_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_viewing_requests_viewer"), ["viewer"], unique=False)

    op.create_table(
        "viewing_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=255), nullable=False),
        sa.Column("at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver"],
            ["operators.badge"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["viewing_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "approver"),
    )
    with op.batch_alter_table("viewing_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_viewing_approvals_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "viewings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.Column(
            "opened_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("until", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("out", sa.Text(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["viewing_requests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["viewer"],
            ["operators.badge"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("viewings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_viewings_request_id"), ["request_id"], unique=False)

    op.create_table(
        "viewing_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["viewing_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "recording_id"),
    )
    with op.batch_alter_table("viewing_recordings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_viewing_recordings_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("classification", sa.String(length=16), server_default="内部", nullable=False)
        )
        batch_op.add_column(sa.Column("archive_subject", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("archive_matter", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("archive_matter")
        batch_op.drop_column("archive_subject")
        batch_op.drop_column("classification")

    with op.batch_alter_table("viewing_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_viewing_recordings_request_id"))

    op.drop_table("viewing_recordings")
    with op.batch_alter_table("viewings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_viewings_request_id"))

    op.drop_table("viewings")
    with op.batch_alter_table("viewing_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_viewing_approvals_request_id"))

    op.drop_table("viewing_approvals")
    with op.batch_alter_table("viewing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_viewing_requests_viewer"))
        batch_op.drop_index(batch_op.f("ix_viewing_requests_requested_at"))

    op.drop_table("viewing_requests")
    with op.batch_alter_table("operator_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_roles_badge"))

    op.drop_table("operator_roles")
    op.drop_table("operators")
