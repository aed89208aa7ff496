"""Cross-process locks: PostgreSQL advisory locks, SQLite ``BEGIN IMMEDIATE``.

PostgreSQL advisory locks are database-wide, so keys include the current schema: two stores in
different schemas of one database never wait on each other.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from .files import private_file


def advisory_key(conn: Connection, purpose: str, name: str) -> int:
    """A stable signed 64-bit advisory-lock key for (current schema, purpose, name)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    digest = hashlib.sha256(f"clinic_etl.store:{schema}:{purpose}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def pg_xact_lock(conn: Connection, purpose: str, name: str, timeout: float | None) -> None:
    """Take ``pg_advisory_xact_lock`` in ``conn``'s open transaction (released at commit/rollback)."""
    if timeout is not None:
        millis = f"{max(1, int(timeout * 1000))}ms"
        conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": millis})
    try:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(conn, purpose, name)})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            message = f"timed out after {timeout}s waiting for the {purpose} lock {name!r}"
            raise TimeoutError(message) from None
        raise
    if timeout is not None:
        conn.execute(text("SELECT set_config('lock_timeout', '0', true)"))


@contextmanager
def pg_lock(engine: Engine, purpose: str, name: str, timeout: float | None) -> Iterator[None]:
    """Hold an advisory lock on a dedicated connection for the duration of the block."""
    with engine.connect() as conn, conn.begin():
        pg_xact_lock(conn, purpose, name, timeout)
        yield


def sqlite_lock_path(database: Path, purpose: str, name: str) -> Path:
    digest = hashlib.sha256(f"{purpose}:{name}".encode()).hexdigest()[:16]
    return database.with_name(f"{database.name}.{purpose}-lock-{digest}")


@contextmanager
def sqlite_lock(database: Path, purpose: str, name: str, timeout: float | None) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` on a dedicated connection to a small side-car database next to ``database``.

    A side-car file, not the store itself: holding the store's own write lock for the block would
    stop the holder from writing the rotated credential (and every other writer) until it ends.
    SQLite's file locks are released by the OS if the holder dies.
    """
    path = sqlite_lock_path(database, purpose, name)
    private_file(path)  # 0600, like the store itself
    conn = sqlite3.connect(path, timeout=3600.0 if timeout is None else timeout, isolation_level=None)
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                message = f"timed out after {timeout}s waiting for the {purpose} lock {name!r}"
                raise TimeoutError(message) from None
            raise
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()
