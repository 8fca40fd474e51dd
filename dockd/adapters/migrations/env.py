"""Alembic environment: dockd always hands in an open connection (see adapters/ledger.py)."""

from alembic import context

from dockd.adapters.ledger.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
