"""The writes Xero received: one ``xero_writes`` row per write, committed with the sync map row it produced.

A write is recorded the moment it succeeds, in the same transaction as its sync map row, so that a step that
fails later (and is retried, or re-run) has its writes on record: the audit of a day is the union of the rows of
its runs, whichever attempt made them. A write is identified by (tenant, entity, source key, action, Xero id,
content hash before, content hash after); a write reported again is not a new row:

* Two concurrent runs that send the same request get one write applied by Xero (same Idempotency-Key) and the
  same answer: the second to record it finds the sync map in the state the write left it in already.
* A run that planned from an older view of the sync map may be refused by Xero (the object exists) and adopt
  what a concurrent run created: when the sync map maps the key to that Xero object already, nothing was
  written and nothing is recorded; when the create is recorded after the adoption, the create replaces it.
* Anything else that repeats a row (ON CONFLICT DO NOTHING on both backends).

The same key changing A -> B -> A is two distinct updates (their from/to hashes differ). A transition repeated on
the same Xero object (A -> B, B -> A, then A -> B again) is not a new row the second time: the identity cannot
tell it from a replay. Within Xero's idempotency window that is exact (the request is the same, so Xero replays
it and applies nothing); after it, that one write is missing from the audit.

Rows of one key are serialised: by the write lock on SQLite (``BEGIN IMMEDIATE``), by a transaction-scoped
advisory lock on the key on PostgreSQL (a row lock cannot cover a key that has no sync map row yet).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from .engine import insert_new, write_transaction
from .locks import pg_xact_lock
from .pending import clear_in
from .records import SyncRecord
from .sync_map import row_of, upsert_rows
from .tables import WRITE_ACTIONS, sync_map, utcnow, xero_writes

_IDENTITY = ("tenant_id", "entity", "source_key", "action", "xero_id", "from_hash", "to_hash")


def _current(conn: Connection, record: SyncRecord, lock_timeout: float | None) -> Any:
    if conn.dialect.name == "postgresql":
        name = "\x1f".join((record.tenant_id, record.entity, record.source_key))
        pg_xact_lock(conn, "sync_map", name, lock_timeout)
    key = sync_map.c
    query = select(key.xero_id, key.content_hash, key.xero_status).where(
        key.tenant_id == record.tenant_id, key.entity == record.entity, key.source_key == record.source_key
    )
    return conn.execute(query).one_or_none()


def _drop_adoptions(conn: Connection, record: SyncRecord) -> int:
    """Delete the adoptions of the Xero object ``record`` maps the key to: recorded by a concurrent run before the
    create it stood for (the create is recorded instead)."""
    t = xero_writes.c
    return conn.execute(
        delete(xero_writes).where(
            t.tenant_id == record.tenant_id,
            t.entity == record.entity,
            t.source_key == record.source_key,
            t.xero_id == record.xero_id,
            t.action == "adopted",
        )
    ).rowcount


def record_write(
    engine: Engine, record: SyncRecord, action: str, run_id: str, *, lock_timeout: float | None = 120.0
) -> bool:
    """Record that Xero received a write (``action``) that leaves ``record`` in the sync map: upsert the record
    and insert its ``xero_writes`` row (from_hash = the content hash the sync map held) in one transaction.

    The create's note in the pending writes journal, if any, is removed in the same transaction.
    Returns True if the write row is new, False if this write was on record already (see the module's notes).
    ``record.xero_id``, ``record.partition_key`` (the day) and ``run_id`` are required.
    """
    if action not in WRITE_ACTIONS:
        raise ValueError(f"unknown write action {action!r} (one of {', '.join(WRITE_ACTIONS)})")
    for name, value in (("xero_id", record.xero_id), ("partition_key", record.partition_key), ("run_id", run_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"a write needs a {name}")
    now = utcnow()
    row = row_of(record, now)
    with write_transaction(engine) as conn:
        clear_in(conn, record.tenant_id, record.entity, [record.source_key])  # its pending note: the result is known
        current = _current(conn, record, lock_timeout)
        if action == "adopted" and current is not None and current.xero_id == record.xero_id:
            return False  # the key is that Xero object already (a concurrent run created it): nothing was written
        upsert_rows(conn, [row])
        replaces_adoption = action == "created" and _drop_adoptions(conn, record) > 0
        on_record = current is not None and tuple(current) == (record.xero_id, record.content_hash, record.xero_status)
        if on_record and not replaces_adoption:
            return False  # recorded already: Xero replayed the same write to another run or an earlier attempt
        write = {
            "tenant_id": record.tenant_id,
            "entity": record.entity,
            "source_key": record.source_key,
            "action": action,
            "xero_id": record.xero_id,
            "from_hash": (current.content_hash if current is not None else None) or "",
            "to_hash": record.content_hash or "",
            "partition_key": record.partition_key,
            "run_id": run_id,
            "recorded_at": now,
        }
        return insert_new(conn, xero_writes, write, keys=_IDENTITY)


def write_rows(engine: Engine, run_id: str | None = None, partition_key: str | None = None) -> list[dict[str, Any]]:
    """Write rows (of one run, one partition, both, or all) in the order recorded, as dicts of every column:
    ``id``, ``tenant_id``, ``entity``, ``source_key``, ``action``, ``xero_id``, ``from_hash``, ``to_hash``,
    ``partition_key``, ``run_id``, ``recorded_at``."""
    query = select(xero_writes).order_by(xero_writes.c.id)
    if run_id is not None:
        query = query.where(xero_writes.c.run_id == run_id)
    if partition_key is not None:
        query = query.where(xero_writes.c.partition_key == partition_key)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
