"""Alembic environment: always driven programmatically by agent.store.db.upgrade()."""

from alembic import context

from agent.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through agent.store.db
    raise RuntimeError("run migrations with `posture-agent db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
