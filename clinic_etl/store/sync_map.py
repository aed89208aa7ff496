"""The sync map: (tenant, entity, source key) → Xero id/number, content hash, status. Never deleted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from .engine import chunked, upsert, write_transaction
from .records import SyncRecord, check_keys, check_text
from .tables import sync_map, utcnow

#: max keys per ``IN (...)`` list
IN_CHUNK = 500

_KEY = ("tenant_id", "entity", "source_key")
_TEXT = ("xero_id", "xero_number", "content_hash", "xero_status", "partition_key", "parent_key")
_VALUES = (*_TEXT, "synced_at")


def _to_record(row: Any) -> SyncRecord:
    return SyncRecord(**{name: getattr(row, name) for name in _KEY + _VALUES})


def get_records(
    engine: Engine, tenant_id: str, entity: str, source_keys: Iterable[str] | None = None
) -> dict[str, SyncRecord]:
    """Records of ``entity`` for ``tenant_id`` by source key: those asked for (absent ones are left
    out), or all of them when ``source_keys`` is None."""
    keys = None if source_keys is None else check_keys(source_keys, "source_keys")
    base = select(sync_map).where(sync_map.c.tenant_id == tenant_id, sync_map.c.entity == entity)
    out: dict[str, SyncRecord] = {}
    with engine.connect() as conn:
        if keys is None:
            for row in conn.execute(base):
                out[row.source_key] = _to_record(row)
            return out
        for chunk in chunked(keys, IN_CHUNK):
            for row in conn.execute(base.where(sync_map.c.source_key.in_(chunk))):
                out[row.source_key] = _to_record(row)
    return out


def get_records_by_number(
    engine: Engine, tenant_id: str, entity: str, numbers: Iterable[str]
) -> dict[str, list[SyncRecord]]:
    """Records of ``entity`` for ``tenant_id`` that hold one of ``numbers`` in Xero (e.g. an InvoiceNumber), by
    number: who already owns a number, whatever its source key."""
    wanted = check_keys(numbers, "numbers")
    base = select(sync_map).where(sync_map.c.tenant_id == tenant_id, sync_map.c.entity == entity)
    out: dict[str, list[SyncRecord]] = {}
    with engine.connect() as conn:
        for chunk in chunked(wanted, IN_CHUNK):
            for row in conn.execute(base.where(sync_map.c.xero_number.in_(chunk))):
                out.setdefault(row.xero_number, []).append(_to_record(row))
    return out


def get_records_by_parent(
    engine: Engine, tenant_id: str, entity: str, parent_keys: Iterable[str]
) -> dict[str, SyncRecord]:
    """Records of ``entity`` for ``tenant_id`` that belong to one of ``parent_keys`` (a payment to its invoice), by
    source key."""
    wanted = check_keys(parent_keys, "parent_keys")
    base = select(sync_map).where(sync_map.c.tenant_id == tenant_id, sync_map.c.entity == entity)
    out: dict[str, SyncRecord] = {}
    with engine.connect() as conn:
        for chunk in chunked(wanted, IN_CHUNK):
            for row in conn.execute(base.where(sync_map.c.parent_key.in_(chunk))):
                out[row.source_key] = _to_record(row)
    return out


def row_of(rec: SyncRecord, now: datetime) -> dict[str, Any]:
    """The sync map row of ``rec`` (its fields checked), stamped ``synced_at`` = ``now``."""
    check_text(rec, _KEY + _TEXT)
    return {**{name: getattr(rec, name) for name in _KEY + _VALUES}, "synced_at": now}


def upsert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or update sync map rows (of distinct keys) in ``conn``'s transaction."""
    upsert(conn, sync_map, rows, keys=_KEY, update=_VALUES)


def record(engine: Engine, records: Iterable[SyncRecord]) -> None:
    """Insert or update every record in one transaction, stamping ``synced_at`` with now (UTC).

    A key given twice keeps its last occurrence.
    """
    now = utcnow()
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rec in records:
        rows[(rec.tenant_id, rec.entity, rec.source_key)] = row_of(rec, now)
    if not rows:
        return
    with write_transaction(engine) as conn:
        upsert_rows(conn, list(rows.values()))
