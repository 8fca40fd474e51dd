"""station chains: custody_events.station, one chain per station; the stations registry

Every event written so far belongs to the chain 'local' (the one chain there was),
which keeps its all-zero genesis, so an old ledger verifies exactly as before.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dockd.adapters.ledger.schema import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATION = sa.Column("station", sa.String(64), server_default="local", nullable=False)


def _unkeyed_events() -> sa.Table:
    """custody_events as 0011 left it, but with seq not yet the key: SQLite's copy of the
    table then takes (station, seq) as its key without redefining a key column."""
    return sa.Table(
        "custody_events",
        sa.MetaData(),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash"),
        sa.Index("ix_custody_events_kind", "kind"),
        sa.Index("ix_custody_events_kind_subject", "kind", "subject"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "custody_events", recreate="always", copy_from=_unkeyed_events()
        ) as batch_op:
            batch_op.add_column(_STATION)
            batch_op.create_primary_key("pk_custody_events", ["station", "seq"])
    else:
        op.add_column("custody_events", _STATION)
        op.drop_constraint("custody_events_pkey", "custody_events", type_="primary")
        op.create_primary_key("custody_events_pkey", "custody_events", ["station", "seq"])
    op.create_table(
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(80), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stations")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("custody_events", recreate="always") as batch_op:
            batch_op.create_primary_key("pk_custody_events", ["seq"])
            batch_op.drop_column("station")
    else:
        op.drop_constraint("custody_events_pkey", "custody_events", type_="primary")
        op.create_primary_key("custody_events_pkey", "custody_events", ["seq"])
        op.drop_column("custody_events", "station")
