"""Stage 5: read the window back from Xero and prove each day equals the source, to the cent (blocking check)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, day_checks, numeric
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.store import StateStore
from clinic_etl.xero.client import XeroClient
from clinic_etl.xero.prove_source import strays, unaccounted
from clinic_etl.xero.reconcile import beyond_the_dated_read, by_day, reconcile, reconcile_credit_notes, summary
from clinic_etl.xero.repair import mark_for_rewrite
from clinic_etl.xero.summary_reconcile import prove_summaries
from clinic_etl.xero.tenants import Organisation, organisations, route

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


def quarantine_id(q: object) -> str:
    """A quarantine entry as `clinic-etl quarantine list` and rules.excused name it."""
    return f"{q.source}:{q.entity}:{q.source_id}"  # type: ignore[attr-defined]


def prove_tenant(
    client: XeroClient,
    store: StateStore,
    window: SyncWindow,
    org: Organisation,
    ledger: dict[str, pd.DataFrame],
    documents: dict[str, pd.DataFrame],
    waiting: list,
) -> tuple[pd.DataFrame, list]:
    """One organisation's proof over the window, and what it marks to be written again (edited in Xero by hand)."""
    numbers, tenant = list(documents["invoices"]["InvoiceNumber"]), client.tenant_id
    held = held_documents(waiting, documents)
    invoices = client.invoices_by_number(
        beyond_the_dated_read(documents["invoices"], window, store.get_records_by_number(tenant, "invoice", numbers)),
        dated=(window.first, window.last),
        all_dated=True,
    )
    summary_mode = org.mapping.mode == "summary"
    if summary_mode:  # each summary against the source invoices it stands for
        result = prove_summaries(documents, ledger, org.mapping, invoices, held)
    else:
        result = reconcile(documents, invoices, held)
    notes = documents.get("credit_notes")
    found = []
    if notes is not None and len(notes):
        found = client.credit_notes_by_number(notes["CreditNoteNumber"])
        targets = list(documents["credit_allocations"]["invoice_key"])
        records = store.get_records(client.tenant_id, "invoice", targets)
        in_xero = frozenset(k for k, r in records.items() if r.xero_id)
        credit = reconcile_credit_notes(documents, found, held, in_xero)
        result = pd.concat([result, credit], ignore_index=True)
    planned = set(numbers)
    prefix = org.mapping.summary.number_prefix if summary_mode else org.mapping.invoice_number_prefix

    def mapped(numbers: list[str]) -> set[str]:  # numbers the state store maps to a source record
        return set(store.get_records_by_number(client.tenant_id, "invoice", numbers))

    stray = strays(invoices, prefix, window.days, planned, mapped)
    covered = documents["covers"]["source_key"] if summary_mode else ()
    lost = unaccounted(ledger, result, documents["excluded"], covered)
    result = pd.concat([r for r in (result, lost, stray) if len(r)] or [result], ignore_index=True)
    # changed in Xero by hand: the next run writes the source's version again
    rewrite = mark_for_rewrite(store, client.tenant_id, documents, invoices, found)
    return result, rewrite


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
                description="Every source invoice is in Xero with the source's total, tax, amount paid and status to"
                " the cent, or kept out by a named rule or held in quarantine; every Xero invoice under the prefix"
                " has a source invoice; on every day of the run.",
            ),
            dg.AssetCheckSpec(
                COMPLETE,
                asset="xero_reconciliation",
                blocking=True,
                description="No record of the run's days is waiting in quarantine, unless the mapping's rules.excused"
                " accepts it: money held back is never a pass (the rest of the day is in Xero all the same).",
            ),
        ],
    )
    def xero_reconciliation(
        context: dg.AssetExecutionContext,
        practice_ledger: dict[str, pd.DataFrame],
        xero_documents: dict[str, dict[str, pd.DataFrame]],
        mapping: MappingResource,
        xero: XeroResource,
        state_store: StateStoreResource,
    ):
        """5. Proof. Each day read back from Xero and compared with the source, document by document, to the cent:
        every source invoice in Xero, or kept out by a named rule, or held in quarantine; every Xero invoice under the
        prefix standing for a source invoice; the source's total next to Xero's, what quarantine holds back, the
        difference (0.00 on a reconciled day) and a table of the documents that differ. Blocking check: Xero matches
        the source and nothing of the day waits in quarantine (unless the mapping's rules.excused accepts it)."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            rules = mapping.load()
            days_of_run = set(window.days)
            waiting = [q for q in store.open_quarantine() if q.partition_key in days_of_run]  # one query a run
            excused = [q for q in waiting if quarantine_id(q) in rules.rules.excused]
            waiting = [q for q in waiting if quarantine_id(q) not in rules.rules.excused]
            ledgers = route(practice_ledger, rules)
            results, calls, rewrite = [], 0, []
            for org in organisations(rules):
                client = xero.client(store, org.tenant_id)
                before = client.calls
                result, marked = prove_tenant(
                    client, store, window, org, ledgers[org.name], xero_documents[org.name], waiting
                )
                results.append(result)
                rewrite += marked
                calls += client.calls - before
            result = pd.concat(results, ignore_index=True) if len(results) > 1 else results[0]
            days = by_day(result, window.days)
            for day, figures in days.items():
                held = sum(1 for q in waiting if q.partition_key == day)
                figures.update(
                    quarantined=held,
                    excused=sum(1 for q in excused if q.partition_key == day),
                    reconciled=figures["mismatches"] == 0 and not held,
                )
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
                held = [quarantine_id(q) for q in waiting if q.partition_key == day]
                gone = [
                    f"{quarantine_id(q)}: {rules.rules.excused[quarantine_id(q)]}"
                    for q in excused
                    if q.partition_key == day
                ]
                complete[day] = (not held, {"quarantined": len(held), "records": held[:50], "excused": gone[:50]})
            yield from day_checks("xero_reconciliation", COMPLETE, complete, blocking=True)

    return xero_reconciliation
