"""What `clinic-etl status` shows for each day: what the state store holds for it, what waits in quarantine, and the
last run's reconciliation (from Dagster's own run history when DAGSTER_HOME keeps one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import func, select

from clinic_etl.store import StateStore
from clinic_etl.store.tables import sync_map


@dataclass(frozen=True)
class DayStatus:
    day: str
    synced: dict[str, int]  # entity -> records mapped in Xero for the day
    quarantined: int
    last_run: str | None  # run id (first 8 characters) and time of the last reconciliation
    reconciled: bool | None  # None: never reconciled (or no run history kept)


def synced_counts(store: StateStore, days: list[str]) -> dict[tuple[str, str], int]:
    query = (
        select(sync_map.c.partition_key, sync_map.c.entity, func.count())
        .where(sync_map.c.partition_key.in_(days))
        .group_by(sync_map.c.partition_key, sync_map.c.entity)
    )
    with store.engine.connect() as conn:
        return {(day, entity): int(n) for day, entity, n in conn.execute(query)}


def last_reconciliations(instance: dg.DagsterInstance | None, days: list[str]) -> dict[str, dg.EventLogRecord]:
    if instance is None:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("xero_reconciliation"), asset_partitions=days), limit=10_000
    ).records
    latest: dict[str, dg.EventLogRecord] = {}
    for record in records:  # newest first
        latest.setdefault(str(record.partition_key), record)
    return latest


def month_status(store: StateStore, instance: dg.DagsterInstance | None, days: list[str]) -> list[DayStatus]:
    counts = synced_counts(store, days)
    waiting = store.open_quarantine()
    runs = last_reconciliations(instance, days)
    out = []
    for day in days:
        record = runs.get(day)
        reconciled = None
        last = None
        if record is not None and record.asset_materialization is not None:
            value = record.asset_materialization.metadata.get("reconciled")
            reconciled = bool(getattr(value, "value", value))
            last = f"{record.run_id[:8]} {datetime.fromtimestamp(record.timestamp, UTC):%Y-%m-%d %H:%M} UTC"
        out.append(
            DayStatus(
                day,
                {e: counts.get((day, e), 0) for e in ("contact", "invoice", "payment")},
                sum(1 for q in waiting if q.partition_key == day),
                last,
                reconciled,
            )
        )
    return out
