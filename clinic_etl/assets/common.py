"""Shared bits of the asset layer: one policy for every sync asset, quarantine bookkeeping, per-day metadata."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.store import QuarantineRecord, StateStore

RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
# A month backfill is one run: one extract of the window, one set of Xero batches across its days.
SINGLE_RUN = dg.BackfillPolicy.single_run()


def money(values: Iterable[object]) -> str:
    return str(sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00")))


def quarantine(store: StateStore, rejected: pd.DataFrame) -> int:
    """Record rejects with their reasons (ids only, no personal data); the rest of the window goes on."""
    rows = [QuarantineRecord(r.source, r.entity, r.source_id, r.day, r.reason) for r in rejected.itertuples()]
    store.quarantine(rows)
    return len(rows)


def reject_table(rejected: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| day | entity | id | reason |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {r.day} | {r.entity} | {r.source_id} | {str(r.reason).replace('|', '/')} |"
            for r in rejected.head(50).itertuples()
        )
    )


def by_day(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    return frame[frame["day"] == day]


MONEY_TEXT = re.compile(r"-?\d+\.\d+")
MONEY_KEYS = ("_total", "_paid", "difference")  # figures that are amounts of money (e.g. invoice_total, xero_paid)


def numeric(figures: Mapping[str, object]) -> dict[str, object]:
    """Money as numbers the UI plots across partitions (`MetadataValue.float`: exact for amounts in cents below
    10^13), and the exact text of every amount beside them in `amounts` (JSON). Counts are already ints."""
    out: dict[str, object] = {}
    exact: dict[str, str] = {}
    for key, value in figures.items():
        text = str(value) if isinstance(value, str | Decimal) else None
        if text is not None and key.endswith(MONEY_KEYS) and MONEY_TEXT.fullmatch(text):
            out[key] = dg.MetadataValue.float(float(Decimal(text)))
            exact[key] = text
        else:
            out[key] = value
    if exact:
        out["amounts"] = dg.MetadataValue.json(exact)
    return out


def add_day_metadata(
    context: dg.AssetExecutionContext, window: SyncWindow, figures: Mapping[str, Mapping[str, object]]
) -> None:
    """Per-partition results of a (possibly multi-day) run: each day's figures on that day's materialization (money
    and counts as numbers, `numeric`), plus the run's window on all of them."""
    context.add_asset_metadata({"window": f"{window.first}..{window.last}", "days_in_run": len(window.days)})
    for day in window.days:
        context.add_asset_metadata(numeric(figures.get(day, {})), partition_key=day)


def day_checks(
    asset: str,
    check: str,
    per_day: Mapping[str, tuple[bool, Mapping[str, object]]],
    *,
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> Iterable[dg.AssetCheckEvaluation | dg.AssetCheckResult]:
    """A check's result for each day of the run (so each partition shows its own pass or failure, as Dagster plans
    it per partition), then the run's overall result (the check's output)."""
    for day, (passed, metadata) in per_day.items():
        yield dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(asset),
            check_name=check,
            passed=passed,
            partition=day,
            metadata=dict(metadata),
            severity=severity,
            blocking=blocking,
        )
    failed = sorted(day for day, (passed, _) in per_day.items() if not passed)
    yield dg.AssetCheckResult(
        check_name=check, passed=not failed, severity=severity, metadata={"days": len(per_day), "failed_days": failed}
    )
