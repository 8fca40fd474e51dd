"""central uploads: the multipart uploads a station started, so that at its next start it
aborts only its own unfinished ones (stations sharing a bucket may send the same key)

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


def downgrade() -> None:
    op.drop_index("ix_central_uploads_station", table_name="central_uploads")
    op.drop_table("central_uploads")
