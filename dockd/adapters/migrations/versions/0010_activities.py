"""activities: the agency's case or dispatch list, the recordings matched to each, and
an index on recordings for the officer's footage in a window (badge, end)

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("badges", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(255), nullable=False),
        sa.Column("start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("utc_offset_min", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_activities_end", "activities", ["end"])
    op.create_index("ix_activities_imported_at", "activities", ["imported_at"])
    op.create_table(
        "activity_recordings",
        sa.Column("activity_id", sa.String(128), sa.ForeignKey("activities.id"), primary_key=True),
        sa.Column("recording", sa.Integer(), sa.ForeignKey("recordings.id"), primary_key=True),
        sa.Column("matched_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_activity_recordings_recording", "activity_recordings", ["recording"])
    op.create_index("ix_recordings_badge_end", "recordings", ["badge", "end"])


def downgrade() -> None:
    op.drop_index("ix_recordings_badge_end", table_name="recordings")
    op.drop_index("ix_activity_recordings_recording", table_name="activity_recordings")
    op.drop_table("activity_recordings")
    op.drop_index("ix_activities_imported_at", table_name="activities")
    op.drop_index("ix_activities_end", table_name="activities")
    op.drop_table("activities")
