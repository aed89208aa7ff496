"""Alembic environment of the state store.

Normally driven by :func:`clinic_etl.store.migrate.upgrade`, which passes an open connection (already
inside a locked transaction) as ``config.attributes["connection"]``. Given only a
``sqlalchemy.url`` (e.g. ``alembic -x`` tooling or ``revision --autogenerate``), it builds the
store's own engine from it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from clinic_etl.store.engine import create_store_engine, normalise_url
from clinic_etl.store.tables import VERSION_TABLE, metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the state store migrations")
    engine = create_store_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
