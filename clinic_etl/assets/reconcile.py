"""Stage 5: read the window back from Xero and prove each day equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, day_checks
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import StateStoreResource, XeroResource
from clinic_etl.xero.reconcile import by_day, reconcile, summary

MATCHES = "xero_matches_source"


def held_invoices(waiting: list) -> frozenset[str]:
    """Invoice keys that quarantine accounts for: rejected invoices, and records Xero refused (an invoice, or its
    payment: `<source>:payment:<id>` stands for `<source>:invoice:<id>`)."""
    keys = set()
    for q in waiting:
        if q.entity == "invoice":
            keys.add(f"{q.source}:invoice:{q.source_id}")
        elif q.entity == "xero_load" and q.source_id.count(":") == 2:
            source, entity, source_id = q.source_id.split(":")
            if entity in ("invoice", "payment"):
                keys.add(f"{source}:invoice:{source_id}")
    return frozenset(keys)


COMPLETE = "nothing_quarantined"


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="reconcile",
        kinds={"xero"},
        pool="xero_api",
        retry_policy=RETRY,
        deps=["xero_sync"],
        check_specs=[
            dg.AssetCheckSpec(
                MATCHES,
                asset="xero_reconciliation",
                blocking=True,
                description="Every invoice's total, tax, amount paid and status in Xero equal the source's, to the"
                " cent, on every day of the run.",
            ),
            dg.AssetCheckSpec(
                COMPLETE,
                asset="xero_reconciliation",
                description="No record of the run's days is waiting in quarantine (a warning: the rest is in Xero).",
            ),
        ],
    )
    def xero_reconciliation(
        context: dg.AssetExecutionContext,
        xero_documents: dict[str, pd.DataFrame],
        xero: XeroResource,
        state_store: StateStoreResource,
    ):
        """Per-invoice comparison of Xero against the source, with each day's totals on its partition."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            client = xero.client(store)
            before = client.calls
            numbers = list(xero_documents["invoices"]["InvoiceNumber"])
            days_of_run = set(window.days)
            waiting = [q for q in store.open_quarantine() if q.partition_key in days_of_run]  # one query a run
            held = held_invoices(waiting)
            result = reconcile(xero_documents, client.invoices_by_number(numbers) if numbers else [], held)
            calls = client.calls - before
            days = by_day(result, window.days)
            for day, figures in days.items():
                held = sum(1 for q in waiting if q.partition_key == day)
                figures.update(quarantined=held, reconciled=figures["mismatches"] == 0 and not held)
            add_day_metadata(context, window, days)
            yield dg.MaterializeResult(
                metadata={f"run_{k}": v for k, v in summary(result).items()} | {"run_api_calls": calls}
            )
            matches = {}
            for day, figures in days.items():
                wrong = result[(result["day"] == day) & ~result["ok"]]
                problems = [f"{r.invoice_key}: {r.problem}" for r in wrong.head(50).itertuples()]
                matches[day] = (wrong.empty, {**figures, "mismatched": problems})
            yield from day_checks("xero_reconciliation", MATCHES, matches, blocking=True)
            complete = {}
            for day in window.days:
                held = [f"{q.source}:{q.entity}:{q.source_id}" for q in waiting if q.partition_key == day]
                complete[day] = (not held, {"quarantined": len(held), "records": held[:50]})
            yield from day_checks("xero_reconciliation", COMPLETE, complete, severity=dg.AssetCheckSeverity.WARN)

    return xero_reconciliation
