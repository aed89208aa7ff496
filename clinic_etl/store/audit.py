"""Run audit: what each partition's run wrote, one row per (entity, action) reported."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select

from .engine import write_transaction
from .tables import run_audit, utcnow


def audit(
    engine: Engine,
    partition_key: str,
    run_id: str,
    entity: str,
    action: str,
    count: int,
    detail: str | None = None,
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(run_audit).values(
                partition_key=partition_key,
                run_id=run_id,
                entity=entity,
                action=action,
                count=count,
                detail=detail,
                recorded_at=utcnow(),
            )
        )


def audit_rows(engine: Engine, partition_key: str | None = None) -> list[dict[str, Any]]:
    """Audit rows (of one partition, or all) in the order written, as dicts of every column: ``id``,
    ``partition_key``, ``run_id``, ``entity``, ``action``, ``count``, ``detail``, ``recorded_at``."""
    query = select(run_audit).order_by(run_audit.c.id)
    if partition_key is not None:
        query = query.where(run_audit.c.partition_key == partition_key)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
