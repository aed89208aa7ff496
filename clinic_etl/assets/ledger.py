"""Stage 2: validate the source records and build the practice ledger; bad rows go to quarantine."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import money, quarantine, reject_table
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import StateStoreResource
from clinic_etl.settings import Settings
from clinic_etl.sources.cliniko.to_ledger import SOURCE, to_ledger


@dg.asset(partitions_def=daily_partitions, group_name="transform", kinds={"pandera", "pandas"})
def practice_ledger(
    context: dg.AssetExecutionContext, state_store: StateStoreResource, source_records: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Contacts, invoices, lines and payments in the canonical ledger (Decimal money, local dates)."""
    ledger, rejected = to_ledger(source_records, Settings.from_env().zone)
    store = state_store.store()
    quarantined = quarantine(store, SOURCE, context.partition_key, rejected)
    store.resolve_quarantine(SOURCE, "invoice", list(ledger["invoices"]["source_id"]))
    invoices = ledger["invoices"]
    context.add_output_metadata(
        {
            "contacts": len(ledger["contacts"]),
            "invoices": len(invoices),
            "lines": len(ledger["lines"]),
            "payments": len(ledger["payments"]),
            "quarantined": quarantined,
            "invoice_total": money(invoices.loc[invoices["status"] != "deleted", "total"]),
            "payment_total": money(ledger["payments"]["amount"]),
            **({"quarantine": reject_table(rejected)} if quarantined else {}),
        }
    )
    return ledger
