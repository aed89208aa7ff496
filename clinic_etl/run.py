"""Run the sync job for a day or a range of days (one run, as a single-run backfill) and print what it did."""

from __future__ import annotations

import dagster as dg

from clinic_etl.definitions import SYNC_JOB, build_definitions
from clinic_etl.settings import Settings

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
ACTIONS = ("created", "updated", "adopted", "voided", "deleted", "reversed", "unchanged", "skipped", "failed")


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict[str, object]]:
    """The asset's materialization metadata by partition (day)."""
    return {
        str(m.partition): {k: getattr(v, "value", v) for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(asset)
    }


def _count(meta: dict[str, object], entity: str) -> str:
    return ", ".join(f"{meta[f'{entity}_{a}']} {a}" for a in ACTIONS if f"{entity}_{a}" in meta) or "none"


def run_sync(settings: Settings, first: str, last: str) -> dg.ExecuteInProcessResult:
    """One in-process run of the sync job over the days [first, last]."""
    job = build_definitions(settings).resolve_job_def(SYNC_JOB)
    instance = dg.DagsterInstance.get() if settings.dagster_home else dg.DagsterInstance.ephemeral()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the summary says what happened
    window = {"partition_key": first} if first == last else {"tags": {RANGE_START: first, RANGE_END: last}}
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet, **window)


def sync(settings: Settings, first: str, last: str) -> bool:
    result = run_sync(settings, first, last)
    raw = next(iter(_metadata(result, "source_records").values()), {})
    ledger, load, rec = (_metadata(result, a) for a in ("practice_ledger", "xero_sync", "xero_reconciliation"))
    checks = {
        e.check_name: e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in result.get_asset_check_evaluations()
    }
    passed = bool(checks) and all(checks.values()) and result.success
    span = first if first == last else f"{first} to {last}, one run"
    print(f"clinic_etl sync {span} ({settings.timezone}), source: {settings.source}")
    print(
        f"  extracted      {raw.get('rows_invoices', '?')} invoices, {raw.get('rows_invoice_items', '?')} items, "
        f"{raw.get('rows_patients', '?')} patients in {raw.get('api_calls', '?')} source calls"
    )
    for day in sorted(ledger):
        led, done, day_rec = ledger[day], load.get(day, {}), rec.get(day, {})
        if first != last:
            print(f"  {day}")
        print(
            f"  ledger         {led.get('invoices', '?')} invoices totalling {led.get('invoice_total', '?')}, "
            f"{led.get('payments', '?')} payments totalling {led.get('payment_total', '?')}"
        )
        for entity in ("contact", "invoice", "payment"):
            print(f"  {entity + 's':<14} {_count(done, entity)}")
        print(f"  quarantined    {day_rec.get('quarantined', '?')} (see `clinic-etl quarantine`)")
        if day_rec:
            held = int(day_rec.get("quarantined") or 0)
            verdict = (
                "PASSED"
                if day_rec.get("reconciled") and result.success
                else f"INCOMPLETE, {held} record(s) held in quarantine"
                if held and not day_rec.get("mismatches")
                else "FAILED"
            )
            print(
                f"  reconciliation {verdict}: {day_rec.get('invoices_compared')} invoices, source "
                f"{day_rec.get('source_total')} = Xero {day_rec.get('xero_total')} (difference "
                f"{day_rec.get('difference')}), paid {day_rec.get('source_paid')} = {day_rec.get('xero_paid')}, "
                f"{day_rec.get('mismatches')} mismatches"
            )
    if not rec:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        print(f"  reconciliation not reached; failed steps: {', '.join(failed) or 'none'}")
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
                error = event.step_failure_data.error
                error = error.cause or error  # the user's error, not Dagster's wrapper
                print(f"    {event.step_key}: {error.message.strip()[:500]}")
    return passed
