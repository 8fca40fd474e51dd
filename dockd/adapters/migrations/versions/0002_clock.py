"""clock: station offset, recorder drift, corrected times

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:09:24.591283
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dockd.adapters.ledger.schema

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station_offset_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("station_server", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("station_stratum", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("station_delay_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("station_synchronised", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("station_method", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "station_measured_at",
                dockd.adapters.ledger.schema.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("station_detail", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recorder_drift_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("recorder_clock_method", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "recorder_clock_measured_at",
                dockd.adapters.ledger.schema.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("recorder_clock_detail", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("drift_verdict", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_dock_sessions_drift_verdict"), ["drift_verdict"], unique=False
        )

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "corrected_start",
                dockd.adapters.ledger.schema.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "corrected_end",
                dockd.adapters.ledger.schema.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("corrected_end")
        batch_op.drop_column("corrected_start")

    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dock_sessions_drift_verdict"))
        batch_op.drop_column("drift_verdict")
        batch_op.drop_column("recorder_clock_detail")
        batch_op.drop_column("recorder_clock_measured_at")
        batch_op.drop_column("recorder_clock_method")
        batch_op.drop_column("recorder_drift_s")
        batch_op.drop_column("station_detail")
        batch_op.drop_column("station_measured_at")
        batch_op.drop_column("station_method")
        batch_op.drop_column("station_synchronised")
        batch_op.drop_column("station_delay_s")
        batch_op.drop_column("station_stratum")
        batch_op.drop_column("station_server")
        batch_op.drop_column("station_offset_s")
