"""Stage 5: read the day back from Xero and prove it equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import StateStoreResource, XeroResource
from clinic_etl.xero.reconcile import reconcile, summary

MATCHES = "xero_matches_source"
COMPLETE = "nothing_quarantined"


@dg.asset(
    partitions_def=daily_partitions,
    group_name="reconcile",
    kinds={"xero"},
    pool="xero_api",
    deps=["xero_sync"],
    check_specs=[
        dg.AssetCheckSpec(
            MATCHES,
            asset="xero_reconciliation",
            blocking=True,
            description="Every invoice's total, tax, amount paid and status in Xero equal the source's, to the cent.",
        ),
        dg.AssetCheckSpec(
            COMPLETE,
            asset="xero_reconciliation",
            description="No record of the day is waiting in quarantine (a warning: the rest of the day is in Xero).",
        ),
    ],
)
def xero_reconciliation(
    context: dg.AssetExecutionContext,
    xero_documents: dict[str, pd.DataFrame],
    xero: XeroResource,
    state_store: StateStoreResource,
):
    """Per-invoice comparison of Xero against the source for the day, with totals."""
    store = state_store.store()
    client = xero.client(store)
    numbers = list(xero_documents["invoices"]["InvoiceNumber"])
    result = reconcile(xero_documents, client.invoices_by_number(numbers) if numbers else [])
    figures = summary(result)
    mismatched = result[~result["ok"]]
    yield dg.Output(result, metadata={**figures, "api_calls": client.calls})
    yield dg.AssetCheckResult(
        check_name=MATCHES,
        passed=mismatched.empty,
        metadata={**figures, "mismatched": [f"{r.invoice_key}: {r.problem}" for r in mismatched.head(50).itertuples()]},
    )
    waiting = store.open_quarantine(context.partition_key)
    yield dg.AssetCheckResult(
        check_name=COMPLETE,
        passed=not waiting,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined": len(waiting),
            "records": [f"{q.source}:{q.entity}:{q.source_id}" for q in waiting[:50]],
        },
    )
