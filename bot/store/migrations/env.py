"""Alembic environment. `bot.store.migrate` runs it on a connection it opened itself,
so this file only configures the context and runs the migrations."""

from alembic import context

from bot.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
