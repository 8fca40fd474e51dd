"""report: unsealed sessions by index; the last dock of a recorder comes from recorders

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dock_sessions_sealed_at", "dock_sessions", ["sealed_at"], unique=False)
    op.drop_index("ix_dock_sessions_serial_started", table_name="dock_sessions")


def downgrade() -> None:
    op.create_index(
        "ix_dock_sessions_serial_started", "dock_sessions", ["serial", "started_at"], unique=False
    )
    op.drop_index("ix_dock_sessions_sealed_at", table_name="dock_sessions")
