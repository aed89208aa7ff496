"""Engine construction: URL normalisation, SQLite transaction control, dialect-aware upsert."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import URL, make_url

from .files import private_file

#: busy timeout (seconds) for SQLite writers waiting on another writer.
SQLITE_BUSY_TIMEOUT = 30.0
#: execution option read by the SQLite ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
_SQLITE_BEGIN = "clinic_etl_sqlite_begin"


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``; plain ``postgresql://`` (or ``postgres://``) means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: URL) -> str:
    """The URL for logs and messages, password masked."""
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for other backends)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or "uri" in url.query or database.startswith("file:"):
        raise ValueError("the state store needs a SQLite file: use sqlite:///path/to/file.db")
    return Path(database).expanduser()


def create_store_engine(url: URL) -> Engine:
    """An engine that never renders bound parameters (credentials, personal data) into errors or logs."""
    path = sqlite_path(url)
    if path is not None:
        private_file(path)  # 0600 before SQLite opens it; its -wal/-shm files take the same mode
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        _install_sqlite_hooks(engine)
        return engine
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"unsupported state store backend {url.get_backend_name()!r} (sqlite or postgresql)")
    return create_engine(url, hide_parameters=True, pool_pre_ping=True)


def _enable_wal(dbapi_connection: Any) -> None:
    """Switch a new database to WAL once. Changing the journal mode does not wait on the busy timeout, so a
    starter racing another that holds a lock retries until SQLITE_BUSY_TIMEOUT instead of failing."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            mode = dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _install_sqlite_hooks(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so that writers can BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA secure_delete = ON")  # overwritten, not just freed: no old values linger
        _enable_wal(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that will write: on SQLite it takes the write lock up front (BEGIN IMMEDIATE),
    so it waits on the busy timeout instead of failing to upgrade a read lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            yield conn


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's ``INSERT`` construct, which has ``on_conflict_do_update/nothing``."""
    backend = conn.dialect.name
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - rejected by create_store_engine
        raise ValueError(f"no INSERT ... ON CONFLICT for dialect {backend!r}")
    return insert(table)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    constants: dict[str, Any] | None = None,
) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` the ``update`` columns from the new row (plus
    ``constants``), on SQLite and PostgreSQL. ``rows`` must not repeat a key."""
    if not rows:
        return
    stmt = _insert(conn, table)
    set_: dict[str, Any] = {name: stmt.excluded[name] for name in update}
    set_.update(constants or {})
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_), list(rows))


def insert_new(conn: Connection, table: Table, row: dict[str, Any], *, keys: Sequence[str]) -> bool:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` of one row, on SQLite and PostgreSQL; True if it was inserted
    (False: a row with the same ``keys``, a primary key or unique constraint, was there already)."""
    stmt = _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))
    if conn.dialect.insert_returning:  # rowcount is -1 for INSERT ... RETURNING (implicit for a serial key)
        return conn.execute(stmt.returning(*table.primary_key.columns), row).first() is not None
    return conn.execute(stmt, row).rowcount == 1


def chunked(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
