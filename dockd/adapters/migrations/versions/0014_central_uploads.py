"""central uploads: the multipart uploads a station started, so that at its next start it
aborts only its own unfinished ones (stations sharing a bucket may send the same key);
central_copies.foreign_hold: a legal hold dockd found on an object it adopted, never
switched off by dockd

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "central_uploads",
        sa.Column("upload_id", sa.String(1024), primary_key=True),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_central_uploads_station", "central_uploads", ["station"])
    with op.batch_alter_table("central_copies", schema=None) as batch_op:
        batch_op.add_column(
            # NULL on the rows before it: the chain's facts of them lack it (`dockd audit`)
            sa.Column("foreign_hold", sa.Boolean(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("central_copies", schema=None) as batch_op:
        batch_op.drop_column("foreign_hold")
    op.drop_index("ix_central_uploads_station", table_name="central_uploads")
    op.drop_table("central_uploads")
