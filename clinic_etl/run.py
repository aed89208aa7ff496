"""Run the sync graph for one partition in this process and print what it did."""

from __future__ import annotations

import os

import dagster as dg

from clinic_etl.deployment import resources
from clinic_etl.settings import Settings

STAGES = ["source_records", "practice_ledger", "xero_documents", "xero_sync", "xero_reconciliation"]


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    materializations = result.asset_materializations_for_node(asset)
    if not materializations:
        return {}
    return {k: getattr(v, "value", v) for k, v in materializations[-1].metadata.items()}


def _count(meta: dict[str, object], entity: str, actions: tuple[str, ...]) -> str:
    return ", ".join(f"{meta[f'{entity}_{a}']} {a}" for a in actions if f"{entity}_{a}" in meta) or "none"


def sync_day(day: str) -> bool:
    from clinic_etl.definitions import SYNC_ASSETS

    settings = Settings.from_env()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the summary below says what happened
    result = dg.materialize(
        SYNC_ASSETS,
        partition_key=day,
        resources=resources(settings),
        instance=instance,
        raise_on_error=False,
        run_config=quiet,
    )
    raw, ledger, load, rec = (
        _metadata(result, a) for a in ("source_records", "practice_ledger", "xero_sync", "xero_reconciliation")
    )
    actions = ("created", "updated", "adopted", "voided", "deleted", "reversed", "unchanged", "skipped", "failed")
    print(f"clinic_etl sync {day} ({settings.timezone}), source: {settings.source}")
    print(
        f"  extracted      {raw.get('rows_invoices', '?')} invoices, {raw.get('rows_invoice_items', '?')} items, "
        f"{raw.get('rows_patients', '?')} patients"
    )
    print(
        f"  ledger         {ledger.get('invoices', '?')} invoices totalling {ledger.get('invoice_total', '?')}, "
        f"{ledger.get('payments', '?')} payments totalling {ledger.get('payment_total', '?')}"
    )
    for entity in ("contact", "invoice", "payment"):
        print(f"  {entity + 's':<14} {_count(load, entity, actions)}")
    quarantined = sum(int(m.get("quarantined", 0) or 0) for m in (ledger, _metadata(result, "xero_documents")))
    print(f"  quarantined    {quarantined + int(load.get('failed', 0) or 0)} (see `clinic-etl quarantine`)")
    evaluations = result.get_asset_check_evaluations()
    checks = {e.check_name: e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in evaluations}
    passed = bool(checks) and all(checks.values()) and result.success
    if rec:
        print(
            f"  reconciliation {'PASSED' if passed else 'FAILED'}: {rec.get('invoices_compared')} invoices, "
            f"source {rec.get('source_total')} = Xero {rec.get('xero_total')} (difference {rec.get('difference')}), "
            f"paid {rec.get('source_paid')} = {rec.get('xero_paid')}, {rec.get('mismatches')} mismatches"
        )
    else:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        print(f"  reconciliation not reached; failed steps: {', '.join(failed) or 'none'}")
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
                error = event.step_failure_data.error
                error = error.cause or error  # the user's error, not Dagster's wrapper
                print(f"    {event.step_key}: {error.message.strip()[:500]}")
    return passed
