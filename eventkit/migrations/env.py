"""Alembic's environment for every service: the connection and the tables come from the caller
(``eventkit.migrations``), inside its transaction."""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=config.attributes["metadata"],
    # SQLite alters a table by copying it.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
