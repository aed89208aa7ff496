"""Quarantine: rejected source rows with their reason, replayable until resolved."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select, update

from .engine import chunked, upsert, write_transaction
from .records import QuarantineRecord, check_keys, check_text
from .tables import quarantine as quarantine_table
from .tables import utcnow

IN_CHUNK = 500

_KEY = ("source", "entity", "source_id")
_FIELDS = _KEY + ("partition_key", "reason", "first_seen", "last_seen", "resolved_at")


def quarantine(engine: Engine, rows: Iterable[QuarantineRecord]) -> None:
    """Upsert by (source, entity, source_id): a new row gets first_seen = last_seen = now; an existing
    one keeps first_seen, takes the new reason and partition, last_seen = now, and is reopened."""
    now = utcnow()
    values: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rec in rows:
        check_text(rec, ("source", "entity", "source_id", "partition_key", "reason"))
        values[(rec.source, rec.entity, rec.source_id)] = {
            "source": rec.source,
            "entity": rec.entity,
            "source_id": rec.source_id,
            "partition_key": rec.partition_key,
            "reason": rec.reason,
            "first_seen": now,
            "last_seen": now,
            "resolved_at": None,
        }
    if not values:
        return
    with write_transaction(engine) as conn:
        upsert(
            conn,
            quarantine_table,
            list(values.values()),
            keys=_KEY,
            update=("partition_key", "reason", "last_seen"),
            constants={"resolved_at": None},
        )


def resolve_quarantine(engine: Engine, source: str, entity: str, source_ids: Iterable[str]) -> int:
    """Mark the open rows among ``source_ids`` resolved (now); returns how many were open."""
    ids = check_keys(source_ids, "source_ids")
    if not ids:
        return 0
    t = quarantine_table
    now = utcnow()
    count = 0
    with write_transaction(engine) as conn:
        for chunk in chunked(ids, IN_CHUNK):
            result = conn.execute(
                update(t)
                .where(t.c.source == source, t.c.entity == entity, t.c.source_id.in_(chunk))
                .where(t.c.resolved_at.is_(None))
                .values(resolved_at=now)
            )
            count += result.rowcount
    return count


def open_quarantine(engine: Engine, partition_key: str | None = None) -> list[QuarantineRecord]:
    """Unresolved rows (of one partition, or all), ordered by partition, source, entity, id."""
    t = quarantine_table
    query = select(t).where(t.c.resolved_at.is_(None))
    if partition_key is not None:
        query = query.where(t.c.partition_key == partition_key)
    query = query.order_by(t.c.partition_key, t.c.source, t.c.entity, t.c.source_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [QuarantineRecord(**{name: getattr(row, name) for name in _FIELDS}) for row in rows]
