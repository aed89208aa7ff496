"""Stage 3: map the ledger to Xero documents with the mapping file and the organisation's chart."""

from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import (
    RETRY,
    SINGLE_RUN,
    add_day_metadata,
    by_day,
    day_checks,
    money,
    quarantine,
    reject_table,
)
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.assets.schemas import xero_metadata
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.xero.frames import to_xero

BALANCED = "lines_add_up_to_source_totals"


def unbalanced(invoices: pd.DataFrame) -> list[str]:
    live = invoices[invoices["source_status"] != "deleted"]
    return [
        r["invoice_key"]
        for r in live.to_dict("records")
        if sum((li["LineAmount"] for li in r["LineItems"]), Decimal(0)) != r["total"]
    ]


def excluded_by_rule(excluded: pd.DataFrame) -> dg.MetadataValue:
    """Per rule: how many records it kept out of Xero, their money, and the first ids (no names)."""
    out = {}
    for rule, group in excluded.groupby("rule"):
        out[str(rule)] = {
            "records": len(group),
            "amount": money(group["amount"].dropna()),
            "ids": list(group["record_key"].head(20)),
        }
    return dg.MetadataValue.json(out)


def _figures(documents: dict[str, pd.DataFrame], rejected: pd.DataFrame, day: str) -> dict[str, object]:
    invoices = by_day(documents["invoices"], day)
    held = by_day(rejected, day)
    return {
        "contacts": len(by_day(documents["contacts"], day)),
        "invoices": len(invoices),
        "payments": len(by_day(documents["payments"], day)),
        "quarantined": len(held),
        "excluded": len(by_day(documents["excluded"], day)),
        "moved_past_lock_date": len(by_day(documents["moved"], day)) if "moved" in documents else 0,
        **(
            {"excluded_by_rule": excluded_by_rule(by_day(documents["excluded"], day))}
            if len(by_day(documents["excluded"], day))
            else {}
        ),
        "invoice_total": money(invoices.loc[invoices["source_status"] != "deleted", "total"]),
        **({"quarantine": reject_table(held)} if len(held) else {}),
    }


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="xero",
        metadata=xero_metadata(),  # the Xero frames' columns, as the UI's column schemas
        kinds={"xero", "pandas"},
        pool="xero_api",
        retry_policy=RETRY,
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
        """3. Xero, planned. Contacts, ACCREC invoices (tax-inclusive lines, account codes, tax types, tracking),
        payments and credit notes, as they will be sent; what the mapping or the organisation cannot support is
        quarantined with the key to fix. Blocking check: every invoice's lines add up to the source total."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            documents, rejected = to_xero(practice_ledger, mapping.load(), xero.org(store))
            quarantine(store, rejected)
            add_day_metadata(context, window, {day: _figures(documents, rejected, day) for day in window.days})
            yield dg.Output(documents)
            per_day = {}
            for day in window.days:
                bad = unbalanced(by_day(documents["invoices"], day))
                per_day[day] = (not bad, {"unbalanced": bad[:50]})
            yield from day_checks("xero_documents", BALANCED, per_day, blocking=True)

    return xero_documents
