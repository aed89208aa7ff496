"""Stage 5: read the window back from Xero and prove each day equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, day_checks, numeric
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
DIFFERENCES = dg.TableSchema(
    columns=[
        dg.TableColumn("document", "string", "source key, e.g. cliniko:invoice:108"),
        dg.TableColumn("number", "string", "Xero InvoiceNumber or CreditNoteNumber"),
        dg.TableColumn("source_total", "float"),
        dg.TableColumn("xero_total", "float", "empty: not found in Xero"),
        dg.TableColumn("source_paid", "float", "paid and credited (applied, for a credit note)"),
        dg.TableColumn("xero_paid", "float"),
        dg.TableColumn("source_status", "string", "the statuses Xero may show"),
        dg.TableColumn("xero_status", "string"),
        dg.TableColumn("problem", "string", "what differs, to the cent"),
    ]
)


def _amount(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else float(str(value))


def differences_table(wrong: pd.DataFrame, limit: int = 50) -> dg.MetadataValue:
    """The documents of a day that differ between Xero and the source: ids, amounts, statuses (no names)."""
    return dg.MetadataValue.table(
        [
            dg.TableRecord(
                {
                    "document": str(r.invoice_key),
                    "number": str(r.InvoiceNumber or ""),
                    "source_total": _amount(r.expected_total),
                    "xero_total": _amount(r.xero_total),
                    "source_paid": _amount(r.expected_paid),
                    "xero_paid": _amount(r.xero_paid),
                    "source_status": str(r.expected_status),
                    "xero_status": str(r.xero_status),
                    "problem": str(r.problem),
                }
            )
            for r in wrong.head(limit).itertuples()
        ],
        schema=DIFFERENCES,
    )


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="proof",
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
        """5. Proof. Each day read back from Xero and compared with the source, document by document, to the cent:
        the source's total next to Xero's, what quarantine holds back, the difference (0.00 on a reconciled day) and
        a table of the documents that differ. Blocking check: Xero matches the source."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            client = xero.client(store)
            before = client.calls
            numbers = list(xero_documents["invoices"]["InvoiceNumber"])
            days_of_run = set(window.days)
            waiting = [q for q in store.open_quarantine() if q.partition_key in days_of_run]  # one query a run
            held = held_documents(waiting, xero_documents)
            invoices = client.invoices_by_number(numbers, dated=(window.first, window.last)) if numbers else []
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
                wrong = result[(result["day"] == day) & ~result["ok"]]
                if len(wrong):
                    figures["differences"] = differences_table(wrong)
            add_day_metadata(context, window, days)
            yield dg.MaterializeResult(
                metadata=numeric({f"run_{k}": v for k, v in summary(result).items()})
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
