"""Before a run plans anything: read Xero back for the creates an earlier run sent and never recorded.

Every create is noted in the state store's pending writes journal before its request goes out, and the note goes
with the record of its result. A note left behind means that run stopped in between (killed, machine lost): Xero
may hold the record. Each is looked up by what finds it (an invoice by InvoiceNumber, a contact by ContactNumber,
a payment by its Reference on its invoice) and, when Xero has it, recorded as ours ("adopted") before the run
plans its writes, so the plan starts from what Xero really holds:
- a contact is recorded with unknown content, so the run updates it to what the source says now;
- an invoice is recorded with the source's content hash if it says what the source says now, else with unknown
  content (updated); one deleted at the source since is voided as usual;
- a payment is recorded with the amount and date Xero holds, so one the source no longer lists, or changed, is
  reversed as usual.
What Xero does not have was never written: its note just goes. A note whose invoice is not in this run's documents
waits for a run that has it (the InvoiceNumber comes from the mapping).
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.ledger.money import to_decimal
from clinic_etl.store import PendingWrite
from clinic_etl.xero.load_invoices import REMOVED, adopt, owner_of
from clinic_etl.xero.load_payments import DELETED, live_payments
from clinic_etl.xero.outcome import LoadContext
from clinic_etl.xero.same_document import xero_day


def resolve_pending(ctx: LoadContext, documents: dict[str, pd.DataFrame], currency: str) -> int:
    """Settle every note left behind; returns how many there were."""
    notes = ctx.store.pending(ctx.tenant_id)
    by_entity: dict[str, list[PendingWrite]] = {}
    for note in notes:
        by_entity.setdefault(note.entity, []).append(note)
    _contacts(ctx, by_entity.get("contact", []))
    _invoices(ctx, by_entity.get("invoice", []), documents, currency)
    _payments(ctx, by_entity.get("payment", []), documents)
    return len(notes)


def _contacts(ctx: LoadContext, notes: list[PendingWrite]) -> None:
    for note in notes:
        found = ctx.client.contact_by_number(note.number or note.source_key)
        if found and found.get("ContactID"):
            status = found.get("ContactStatus", "ACTIVE")
            ctx.save("contact", note.source_key, found["ContactID"], action="adopted", content_hash=None, status=status)
        else:
            ctx.settle("contact", [note.source_key])


def _invoices(ctx: LoadContext, notes: list[PendingWrite], documents: dict[str, pd.DataFrame], currency: str) -> None:
    rows = {r["invoice_key"]: r for r in documents["invoices"].to_dict("records")}
    found = {i.get("InvoiceNumber"): i for i in ctx.client.invoices_by_number(n.number for n in notes if n.number)}
    contacts = ctx.records("contact", [r["contact_key"] for r in rows.values()])
    for note in notes:
        invoice = found.get(note.number)
        if invoice is None or owner_of(ctx, invoice, note.source_key) or invoice.get("Status") in REMOVED:
            ctx.settle("invoice", [note.source_key])
            continue
        row = rows.get(note.source_key)
        contact = contacts.get(row["contact_key"]) if row else None
        if row is not None and contact is not None and contact.xero_id:
            adopt(ctx, row, invoice, contact.xero_id, currency)
        else:
            ctx.save(
                "invoice",
                note.source_key,
                invoice["InvoiceID"],
                action="adopted",
                content_hash=None,
                status=invoice.get("Status"),
                number=note.number,
                day=note.partition_key,
            )


def _payments(ctx: LoadContext, notes: list[PendingWrite], documents: dict[str, pd.DataFrame]) -> None:
    rows = {r["payment_key"]: r for r in documents["payments"].to_dict("records")}
    parents = ctx.records("invoice", [n.parent_key for n in notes if n.parent_key])
    for note in notes:
        parent = parents.get(note.parent_key or "")
        if parent is None or not parent.xero_id:
            ctx.settle("payment", [note.source_key])  # its invoice never reached Xero: neither did it
            continue
        invoice = (ctx.client.get(f"Invoices/{parent.xero_id}").get("Invoices") or [{}])[0]
        taken = {r.xero_id for r in live_payments(ctx, [note.parent_key or ""]).values()}
        payment = next(
            (
                p
                for p in invoice.get("Payments") or []
                if p.get("Reference") == note.number
                and p.get("Status", "AUTHORISED") != DELETED
                and p.get("PaymentID") not in taken
            ),
            None,
        )
        if payment is None:
            ctx.settle("payment", [note.source_key])
            continue
        row = rows.get(note.source_key)
        amount = to_decimal(payment.get("Amount", 0))
        on_date = xero_day(payment)
        if row is not None and row["Amount"] == amount and on_date in (None, row["Date"]):
            amount, on_date = row["Amount"], row["Date"]  # the source's own text, so an unchanged one stays so
        ctx.save(
            "payment",
            note.source_key,
            payment["PaymentID"],
            action="adopted",
            content_hash=str(amount),
            status=payment.get("Status", "AUTHORISED"),
            number=on_date,
            day=note.partition_key,
            parent=note.parent_key,
        )
