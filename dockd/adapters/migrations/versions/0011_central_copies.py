"""central copies: each object's copy in the agency's central store (S3 Object Lock)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "central_copies",
        sa.Column("blake3", sa.String(64), sa.ForeignKey("objects.blake3"), primary_key=True),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version_id", sa.String(1024), nullable=True),
        sa.Column("checksum", sa.String(80), nullable=True),
        sa.Column("parts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retain_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_central_copies_state", "central_copies", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_central_copies_state", table_name="central_copies")
    op.drop_table("central_copies")
