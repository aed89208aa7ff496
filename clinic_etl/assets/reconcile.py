"""Stage 5: read the day back from Xero and prove it equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import StateStoreResource, XeroResource
from clinic_etl.xero.reconcile import reconcile, summary

MATCHES = "xero_matches_source"


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
        )
    ],
)
def xero_reconciliation(
    context: dg.AssetExecutionContext,
    xero_documents: dict[str, pd.DataFrame],
    xero: XeroResource,
    state_store: StateStoreResource,
):
    """Per-invoice comparison of Xero against the source for the day, with totals."""
    client = xero.client(state_store.store())
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
