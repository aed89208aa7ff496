"""The pending writes journal: a create is noted here before its request goes to Xero, and the note is removed in the
transaction that records the result (``writes.record_write``), or when Xero refused it (nothing was written).

A note left behind means the process stopped between Xero's write and the state store's record (a SIGKILL, a lost
machine, a lost reply the run never got past). The next run reads Xero back for those notes before it plans
anything, so a record Xero holds is never unknown to the sync (see ``xero/pending.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine, delete, select

from .engine import chunked, upsert, write_transaction
from .records import PendingWrite, check_keys, check_text
from .tables import pending_writes, utcnow

_KEY = ("tenant_id", "entity", "source_key")
_VALUES = ("number", "parent_key", "partition_key", "run_id", "created_at")
IN_CHUNK = 500


def note(engine: Engine, writes: Iterable[PendingWrite]) -> None:
    """Note creates about to be sent (a key noted again takes the newer note)."""
    now = utcnow()
    rows = {}
    for write in writes:
        check_text(write, (*_KEY, "number", "parent_key", "partition_key", "run_id"))
        rows[(write.tenant_id, write.entity, write.source_key)] = {
            **{name: getattr(write, name) for name in (*_KEY, *_VALUES[:-1])},
            "created_at": now,
        }
    if rows:
        with write_transaction(engine) as conn:
            upsert(conn, pending_writes, list(rows.values()), keys=_KEY, update=_VALUES)


def pending(engine: Engine, tenant_id: str, entity: str | None = None) -> list[PendingWrite]:
    """The notes left behind for ``tenant_id`` (of one entity, or all), oldest first."""
    query = select(pending_writes).where(pending_writes.c.tenant_id == tenant_id)
    if entity is not None:
        query = query.where(pending_writes.c.entity == entity)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(pending_writes.c.created_at)).all()
    return [PendingWrite(**{name: getattr(r, name) for name in (*_KEY, *_VALUES[:-1])}) for r in rows]


def clear(engine: Engine, tenant_id: str, entity: str, source_keys: Iterable[str]) -> None:
    """Remove the notes of these keys: their results are known (recorded, refused, or read back from Xero)."""
    keys = check_keys(source_keys, "source_keys")
    if keys:
        with write_transaction(engine) as conn:
            clear_in(conn, tenant_id, entity, keys)


def clear_in(conn: Connection, tenant_id: str, entity: str, keys: list[str]) -> None:
    t = pending_writes.c
    for chunk in chunked(keys, IN_CHUNK):
        conn.execute(
            delete(pending_writes).where(t.tenant_id == tenant_id, t.entity == entity, t.source_key.in_(chunk))
        )
