"""session_problems.message_template and message_values: each problem's message as its
template and values beside the English, so that a reader is told it in their language
(NULL for problems recorded before: they are shown in English, as they were written)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_problems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_template", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("message_values", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_problems", schema=None) as batch_op:
        batch_op.drop_column("message_values")
        batch_op.drop_column("message_template")
