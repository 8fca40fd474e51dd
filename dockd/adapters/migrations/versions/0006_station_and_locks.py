"""stations and locks: dock_sessions.station, object_locations, recorder_locks

A migration cannot know which station's store holds what was recorded before it:
existing sessions and object locations get the station 'local', which every
station treats as its own (as every station did before stations had names).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dockd.adapters.ledger.schema

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("station", sa.String(length=64), server_default="local", nullable=False)
        )

    op.create_table(
        "object_locations",
        sa.Column("blake3", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("since", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "removed_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(["blake3"], ["objects.blake3"]),
        sa.PrimaryKeyConstraint("blake3", "station"),
    )
    with op.batch_alter_table("object_locations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_object_locations_station", ["station", "removed_at"], unique=False
        )
    op.execute(
        "INSERT INTO object_locations (blake3, station, since, removed_at) "
        "SELECT blake3, 'local', stored_at, removed_at FROM objects"
    )

    op.create_table(
        "recorder_locks",
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column(
            "taken_at", dockd.adapters.ledger.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["session_id"], ["dock_sessions.id"]),
        sa.PrimaryKeyConstraint("serial"),
    )
    # retention finds a candidate's own events by kind and subject, among millions
    op.create_index(
        "ix_custody_events_kind_subject", "custody_events", ["kind", "subject"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_custody_events_kind_subject", table_name="custody_events")
    op.drop_table("recorder_locks")
    with op.batch_alter_table("object_locations", schema=None) as batch_op:
        batch_op.drop_index("ix_object_locations_station")
    op.drop_table("object_locations")
    with op.batch_alter_table("dock_sessions", schema=None) as batch_op:
        batch_op.drop_column("station")
