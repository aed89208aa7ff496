"""Stage 2: validate the source records and build the practice ledger; bad rows go to quarantine."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import SINGLE_RUN, add_day_metadata, by_day, money, quarantine, reject_table
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.assets.schemas import ledger_metadata
from clinic_etl.ledger.complete_days import complete_days
from clinic_etl.ledger.keys import ids_by_source_entity
from clinic_etl.ledger.models import complete
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource
from clinic_etl.resources.source import SourceResource
from clinic_etl.xero.tenants import organisations


def excluded_table(excluded: pd.DataFrame) -> dg.MetadataValue:
    """Records a named rule kept out of Xero: ids, rules and amounts only."""
    return dg.MetadataValue.md(
        "| record | rule | amount |\n|---|---|---|\n"
        + "\n".join(
            f"| {r.record_key} | {r.rule} | {r.amount if r.amount is not None else ''} |"
            for r in excluded.head(50).itertuples()
        )
    )


def _figures(ledger: dict[str, pd.DataFrame], rejected: pd.DataFrame, day: str) -> dict[str, object]:
    invoices = by_day(ledger["invoices"], day)
    payments = ledger["payments"][ledger["payments"]["invoice_key"].isin(invoices["invoice_key"])]
    excluded = by_day(ledger["excluded"], day)
    notes = by_day(ledger["credit_notes"], day)
    return {
        "credit_notes": len(notes),
        "credit_note_total": money(notes.loc[notes["status"] != "deleted", "total"]),
        "excluded": len(excluded),
        "excluded_total": money(excluded["amount"].dropna()),
        **({"excluded_records": excluded_table(excluded)} if len(excluded) else {}),
        "invoices": len(invoices),
        "lines": int(ledger["lines"]["invoice_key"].isin(invoices["invoice_key"]).sum()),
        "contacts": int(invoices["contact_key"].nunique()),
        "payments": len(payments),
        "quarantined": len(by_day(rejected, day)),
        "invoice_total": money(invoices.loc[invoices["status"] != "deleted", "total"]),
        "payment_total": money(payments["amount"]),
        **({"quarantine": reject_table(by_day(rejected, day))} if len(by_day(rejected, day)) else {}),
    }


def read_whole(source: SourceResource, days: SyncWindow) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    ledger, rejected = source.to_ledger(source.extract(days), days)
    return complete(ledger), rejected


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="ledger",
        kinds={"pandera"},
        metadata=ledger_metadata(),  # the ledger's pandera models, as the UI's column schemas
    )
    def practice_ledger(
        context: dg.AssetExecutionContext,
        source: SourceResource,
        state_store: StateStoreResource,
        source_records: dict[str, pd.DataFrame],
        mapping: MappingResource,
    ) -> dict[str, pd.DataFrame]:
        """2. Ledger. Contacts, invoices, lines, payments, credit notes (with allocations and refunds) and the records a
        rule keeps out, in the canonical ledger (Decimal money, local dates), validated by its pandera models; bad rows
        go to quarantine with a reason. Per day: counts, and the money invoiced and paid as the source says it."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            ledger, rejected = source.to_ledger(source_records, window)
            ledger = complete(ledger)
            store = state_store.store()
            if any(org.mapping.mode == "summary" for org in organisations(mapping.load())):
                ledger, more = complete_days(ledger, window, lambda days: read_whole(source, days))
                rejected = pd.concat([rejected, *more], ignore_index=True) if more else rejected
            quarantine(store, rejected)
            keys = [*ledger["invoices"]["invoice_key"], *ledger["credit_notes"]["credit_note_key"]]
            for (name, entity), ids in ids_by_source_entity(keys).items():
                store.resolve_quarantine(name, entity, ids)
            add_day_metadata(context, window, {day: _figures(ledger, rejected, day) for day in window.days})
            return ledger

    return practice_ledger
