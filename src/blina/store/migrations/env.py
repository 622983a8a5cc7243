"""Alembic environment: blina.store.migrate passes the connection; the alembic command
line (for writing new revisions) passes a URL."""

from alembic import context
from sqlalchemy import Connection, create_engine

from blina.store.tables import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    with create_engine(config.get_main_option("sqlalchemy.url") or "").connect() as connection:
        _run(connection)
        connection.commit()
