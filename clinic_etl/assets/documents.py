"""Stage 3: map the ledger to Xero documents with the mapping file and the organisation's chart."""

from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import money, quarantine, reject_table
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.sources.cliniko.to_ledger import SOURCE
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.org import XeroOrg

BALANCED = "lines_add_up_to_source_totals"


def unbalanced(invoices: pd.DataFrame) -> list[str]:
    return [
        r["invoice_key"]
        for r in invoices.to_dict("records")
        if r["state"] != "deleted" and sum((li["LineAmount"] for li in r["LineItems"]), Decimal(0)) != r["total"]
    ]


@dg.asset(
    partitions_def=daily_partitions,
    group_name="transform",
    kinds={"xero", "pandas"},
    pool="xero_api",
    check_specs=[
        dg.AssetCheckSpec(
            BALANCED,
            asset="xero_documents",
            blocking=True,
            description="Every invoice's Xero lines add up to the source total.",
        )
    ],
)
def xero_documents(
    context: dg.AssetExecutionContext,
    practice_ledger: dict[str, pd.DataFrame],
    mapping: MappingResource,
    xero: XeroResource,
    state_store: StateStoreResource,
):
    """Xero contacts, ACCREC invoices (tax-inclusive lines, account codes, tax types, tracking) and payments."""
    store = state_store.store()
    client = xero.client(store)
    org = XeroOrg.from_api(
        client.get("Accounts").get("Accounts", []),
        client.get("TaxRates").get("TaxRates", []),
        client.get("TrackingCategories").get("TrackingCategories", []),
    )
    documents, rejected = to_xero(practice_ledger, mapping.load(), org)
    quarantined = quarantine(store, SOURCE, context.partition_key, rejected)
    bad = unbalanced(documents["invoices"])
    yield dg.Output(
        documents,
        metadata={
            "contacts": len(documents["contacts"]),
            "invoices": len(documents["invoices"]),
            "payments": len(documents["payments"]),
            "quarantined": quarantined,
            "invoice_total": money(documents["invoices"].loc[documents["invoices"]["state"] != "deleted", "total"]),
            **({"quarantine": reject_table(rejected)} if quarantined else {}),
        },
    )
    yield dg.AssetCheckResult(check_name=BALANCED, passed=not bad, metadata={"unbalanced": bad[:50]})
