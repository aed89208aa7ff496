"""Stage 5: read the window back from Xero and prove each day equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, day_checks
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import StateStoreResource, XeroResource
from clinic_etl.xero.reconcile import by_day, reconcile, reconcile_credit_notes, summary
from clinic_etl.xero.repair import mark_for_rewrite

MATCHES = "xero_matches_source"


CREDIT_ENTITIES = {"credit_note", "credit_memo"}


def held_documents(waiting: list, documents: dict[str, pd.DataFrame]) -> frozenset[str]:
    """Keys of the run's invoices and credit notes that quarantine accounts for: rejected ones (filed by source,
    entity and source id: `invoice`/`bill` or `credit_note`/`credit_memo`), and those with a record Xero refused
    (filed under its key: the document itself, or a payment, allocation or refund of it)."""
    invoices = [
        *documents["invoices"]["invoice_key"],
        *documents.get("held", pd.DataFrame(columns=["invoice_key"]))["invoice_key"],
    ]
    notes = list(documents["credit_notes"]["credit_note_key"]) if "credit_notes" in documents else []
    by_id = {(k.split(":", 1)[0], "invoice", k.rsplit(":", 1)[-1]): k for k in invoices}
    by_id |= {(k.split(":", 1)[0], "credit", k.rsplit(":", 1)[-1]): k for k in notes}
    parents: dict[str, str] = {}
    for name, key, parent in (
        ("payments", "payment_key", "invoice_key"),
        ("credit_allocations", "allocation_key", "invoice_key"),
        ("refunds", "payment_key", "credit_note_key"),
    ):
        if name in documents:
            parents |= dict(zip(documents[name][key], documents[name][parent], strict=True))
    keys = set()
    for q in waiting:
        if q.entity == "xero_load":
            key = parents.get(q.source_id, q.source_id)
            source, _, rest = key.partition(":")
            if rest.startswith("payment:"):  # Cliniko: an invoice's one payment has the invoice's id
                key = by_id.get((source, "invoice", rest.rsplit(":", 1)[-1]), key)
            keys.add(key)
        else:
            kind = "credit" if q.entity in CREDIT_ENTITIES else "invoice"
            if found := by_id.get((q.source, kind, q.source_id)):
                keys.add(found)
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
            held = held_documents(waiting, xero_documents)
            invoices = client.invoices_by_number(numbers) if numbers else []
            result = reconcile(xero_documents, invoices, held)
            notes = xero_documents.get("credit_notes")
            found = []
            if notes is not None and len(notes):
                found = client.credit_notes_by_number(notes["CreditNoteNumber"])
                targets = list(xero_documents["credit_allocations"]["invoice_key"])
                records = store.get_records(client.tenant_id, "invoice", targets)
                in_xero = frozenset(k for k, r in records.items() if r.xero_id)
                credit = reconcile_credit_notes(xero_documents, found, held, in_xero)
                result = pd.concat([result, credit], ignore_index=True)
            # changed in Xero by hand: the next run writes the source's version again
            rewrite = mark_for_rewrite(store, client.tenant_id, xero_documents, invoices, found)
            calls = client.calls - before
            days = by_day(result, window.days)
            for day, figures in days.items():
                held = sum(1 for q in waiting if q.partition_key == day)
                figures.update(quarantined=held, reconciled=figures["mismatches"] == 0 and not held)
            add_day_metadata(context, window, days)
            yield dg.MaterializeResult(
                metadata={f"run_{k}": v for k, v in summary(result).items()}
                | {"run_api_calls": calls, "run_rewritten_next_run": len(rewrite)}
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
