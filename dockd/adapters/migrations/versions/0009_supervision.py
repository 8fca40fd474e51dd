"""supervision: spot-check draws and items, interruption reviews, work records, device
changes (reclaimed, retired) and recorder unplugs

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spot_check_draws",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("drawn_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("drawn_by", sa.String(128), nullable=False),
        sa.Column("since", UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("population", sa.Text(), nullable=False),
    )
    op.create_index("ix_spot_check_draws_drawn_at", "spot_check_draws", ["drawn_at"])
    op.create_table(
        "spot_check_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("draw_id", sa.Integer(), sa.ForeignKey("spot_check_draws.id"), nullable=False),
        sa.Column("recording", sa.Integer(), sa.ForeignKey("recordings.id"), nullable=False),
        sa.Column("unit", sa.String(255), nullable=True),
        sa.Column("custodian", sa.String(255), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("recorded", sa.Boolean(), nullable=True),
        sa.Column("uninterrupted", sa.Boolean(), nullable=True),
        sa.Column("handed_over", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_spot_check_items_draw_id", "spot_check_items", ["draw_id"])
    op.create_table(
        "interruption_reviews",
        sa.Column(
            "interruption_id", sa.Integer(), sa.ForeignKey("interruptions.id"), primary_key=True
        ),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("explained_by", sa.String(64), nullable=False),
        sa.Column("explained_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "work_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("badge", sa.String(64), nullable=False),
        sa.Column("start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("basis", sa.String(64), nullable=False),
        sa.Column("reported_to", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_work_records_badge", "work_records", ["badge"])
    op.create_table(
        "device_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("serial", sa.String(128), sa.ForeignKey("devices.serial"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
    )
    op.create_index("ix_device_changes_serial", "device_changes", ["serial"])
    op.create_table(
        "recorder_unplugs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("serial", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("unplugged_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_recorder_unplugs_serial_at", "recorder_unplugs", ["serial", "unplugged_at"])


def downgrade() -> None:
    op.drop_index("ix_recorder_unplugs_serial_at", table_name="recorder_unplugs")
    op.drop_table("recorder_unplugs")
    op.drop_index("ix_device_changes_serial", table_name="device_changes")
    op.drop_table("device_changes")
    op.drop_index("ix_work_records_badge", table_name="work_records")
    op.drop_table("work_records")
    op.drop_table("interruption_reviews")
    op.drop_index("ix_spot_check_items_draw_id", table_name="spot_check_items")
    op.drop_table("spot_check_items")
    op.drop_index("ix_spot_check_draws_drawn_at", table_name="spot_check_draws")
    op.drop_table("spot_check_draws")
