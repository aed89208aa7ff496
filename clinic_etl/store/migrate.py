"""Alembic, configured in code (no alembic.ini): upgrade to head under a cross-process lock.

* PostgreSQL: the whole upgrade runs in one transaction holding ``pg_advisory_xact_lock`` (keyed by the
  current schema), so concurrent starters queue up and the later ones find the schema at head.
* SQLite: the whole upgrade runs in one ``BEGIN IMMEDIATE`` transaction, i.e. under SQLite's
  database write lock; concurrent starters wait on the busy timeout, then find the schema at head.

Alembic sees the transaction as external and runs inside it, so the version check and the DDL are
atomic: a crash mid-migration leaves the previous revision (both backends have transactional DDL).
Alembic keeps its running context in module globals (``alembic.context``, ``alembic.op``), so within
one process upgrades are also serialised by a thread lock.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .engine import safe_url, write_transaction
from .locks import pg_xact_lock
from .tables import VERSION_TABLE

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the migrations shipped in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head", *, lock_timeout: float | None = 600.0) -> None:
    """Upgrade the schema to ``revision``; safe to call from many processes at once, idempotent."""
    with _ALEMBIC_LOCK, write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            if conn.execute(text("SELECT current_schema()")).scalar() is None:
                raise RuntimeError("no schema of the search_path exists: create it before opening the store")
            pg_xact_lock(conn, "migrate", VERSION_TABLE, lock_timeout)
        before = current_revision(conn)
        command.upgrade(alembic_config(conn), revision)
        after = current_revision(conn)
    if before != after:
        log.info("state store %s migrated from %s to %s", safe_url(engine.url), before, after)


def downgrade(engine: Engine, revision: str, *, lock_timeout: float | None = 600.0) -> None:
    """Downgrade the schema to ``revision`` (e.g. before running an older version), under the same lock and in
    one transaction like :func:`upgrade`. An older version's code is needed to use the store afterwards."""
    with _ALEMBIC_LOCK, write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            pg_xact_lock(conn, "migrate", VERSION_TABLE, lock_timeout)
        before = current_revision(conn)
        command.downgrade(alembic_config(conn), revision)
        after = current_revision(conn)
    if before != after:
        log.info("state store %s downgraded from %s to %s", safe_url(engine.url), before, after)
