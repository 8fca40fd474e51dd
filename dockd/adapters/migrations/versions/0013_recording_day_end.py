"""recordings.day_end: the working day's end each offload deadline counts from; an index on
verified_at for the report's month of offloads (its charts)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_end", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_recordings_verified", ["verified_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_verified")
        batch_op.drop_column("day_end")
