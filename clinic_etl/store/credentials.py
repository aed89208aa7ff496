"""Credentials by name (e.g. the rotating Xero refresh token). Values are never logged: the engine
hides bound parameters, and nothing here formats a value into a message."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from .engine import upsert, write_transaction
from .tables import credentials, utcnow


def get_credential(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        query = select(credentials.c.value).where(credentials.c.name == name)
        return conn.execute(query).scalar_one_or_none()


def put_credential(engine: Engine, name: str, value: str, *, expected: str | None = None) -> bool:
    """Store ``value`` under ``name`` and commit before returning.

    Without ``expected``: insert or overwrite, returns True. With ``expected``: compare-and-set in one
    ``UPDATE ... WHERE value = expected``; returns False (and changes nothing) when the stored value is
    not ``expected`` or there is none. PostgreSQL re-checks the WHERE after waiting on a concurrent
    writer and SQLite serialises writers, so of two workers swapping the same old value only one wins.
    """
    now = utcnow()
    with write_transaction(engine) as conn:
        if expected is None:
            row = {"name": name, "value": value, "updated_at": now}
            upsert(conn, credentials, [row], keys=("name",), update=("value", "updated_at"))
            return True
        result = conn.execute(
            update(credentials)
            .where(credentials.c.name == name, credentials.c.value == expected)
            .values(value=value, updated_at=now)
        )
        return result.rowcount == 1
