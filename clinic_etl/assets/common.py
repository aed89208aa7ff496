"""Shared bits of the asset layer: the day of a partition, quarantine bookkeeping, safe metadata."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.store import QuarantineRecord, StateStore

RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def day_of(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def money(values: object) -> str:
    return str(sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00")))  # type: ignore[union-attr]


def quarantine(store: StateStore, source: str, partition_key: str, rejected: pd.DataFrame) -> int:
    """Record rejects with their reasons (ids only, no personal data); the rest of the day goes on."""
    rows = [QuarantineRecord(source, r.entity, r.source_id, partition_key, r.reason) for r in rejected.itertuples()]
    store.quarantine(rows)
    return len(rows)


def reject_table(rejected: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| entity | id | reason |\n|---|---|---|\n"
        + "\n".join(
            f"| {r.entity} | {r.source_id} | {r.reason.replace('|', '/')} |" for r in rejected.head(50).itertuples()
        )
    )
