"""Before a run plans anything: read Xero back for the creates an earlier run sent and never recorded.

Every create is noted in the state store's pending writes journal before its request goes out, and the note goes
with the record of its result. A note left behind means that run stopped in between (killed, machine lost): Xero
may hold the record. Each is looked up by what finds it (an invoice by InvoiceNumber, a contact by ContactNumber,
a payment by its Reference on its invoice) and, when Xero has it, recorded as ours ("adopted") before the run
plans its writes, so the plan starts from what Xero really holds:
- a contact is recorded with unknown content, so the run updates it to what the source says now;
- an invoice is recorded with the source's content hash if it says what the source says now, else with unknown
  content (updated); one deleted at the source since is voided as usual;
- a credit note likewise, found by CreditNoteNumber;
- a payment (or refund) is recorded with the amount and date Xero holds, so one the source no longer lists, or
  changed, is reversed as usual; an allocation likewise, found among its credit note's allocations by invoice.
What Xero does not have was never written: its note just goes. A note whose invoice is not in this run's documents
waits for a run that has it (the InvoiceNumber comes from the mapping).
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.ledger.money import to_decimal
from clinic_etl.store import PendingWrite
from clinic_etl.xero.kinds import CREDIT_NOTE, INVOICE, Kind
from clinic_etl.xero.load_allocations import allocations_on_invoices, content
from clinic_etl.xero.load_contacts import same_contact
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
    _contacts(ctx, by_entity.get("contact", []), documents.get("contacts"))
    _documents(ctx, INVOICE, by_entity.get("invoice", []), documents.get("invoices"), currency)
    _documents(ctx, CREDIT_NOTE, by_entity.get("credit_note", []), documents.get("credit_notes"), currency)
    payments = [documents[n] for n in ("payments", "refunds") if n in documents]
    _payments(ctx, by_entity.get("payment", []), pd.concat(payments) if payments else None)
    _allocations(ctx, by_entity.get("allocation", []))
    return len(notes)


def _contacts(ctx: LoadContext, notes: list[PendingWrite], frame: pd.DataFrame | None) -> None:
    rows = {} if frame is None else {r["contact_key"]: r for r in frame.to_dict("records")}
    numbers = [note.number or note.source_key for note in notes]
    by_number = ctx.client.contacts_where("ContactNumber", numbers) if notes else {}
    for note, number in zip(notes, numbers, strict=True):
        found = by_number.get(number)
        if found and found.get("ContactID"):
            row = rows.get(note.source_key)
            known = row["content_hash"] if row is not None and same_contact(found, row) else None  # else: updated
            status = found.get("ContactStatus", "ACTIVE")
            ctx.save(
                "contact", note.source_key, found["ContactID"], action="adopted", content_hash=known, status=status
            )
        else:
            ctx.settle("contact", [note.source_key])


def _documents(
    ctx: LoadContext, kind: Kind, notes: list[PendingWrite], frame: pd.DataFrame | None, currency: str
) -> None:
    if not notes:
        return
    rows = {} if frame is None else {r[kind.key_column]: r for r in frame.to_dict("records")}
    numbers = [n.number for n in notes if n.number]
    found = {d.get(kind.number_field): d for d in ctx.client.documents_by_number(kind.resource, numbers)}
    contacts = ctx.records("contact", [r["contact_key"] for r in rows.values()])
    for note in notes:
        document = found.get(note.number)
        if document is None or owner_of(ctx, document, note.source_key, kind) or document.get("Status") in REMOVED:
            ctx.settle(kind.entity, [note.source_key])
            continue
        row = rows.get(note.source_key)
        contact = contacts.get(row["contact_key"]) if row else None
        if row is not None and contact is not None and contact.xero_id:
            adopt(ctx, row, document, contact.xero_id, currency, kind)
        else:
            ctx.save(
                kind.entity,
                note.source_key,
                document[kind.id_field],
                action="adopted",
                content_hash=None,
                status=document.get("Status"),
                number=note.number,
                day=note.partition_key,
            )


def _payments(ctx: LoadContext, notes: list[PendingWrite], frame: pd.DataFrame | None) -> None:
    rows = {} if frame is None else {r["payment_key"]: r for r in frame.to_dict("records")}
    parents = {k: (INVOICE, r) for k, r in ctx.records("invoice", [n.parent_key or "" for n in notes]).items()}
    parents |= {k: (CREDIT_NOTE, r) for k, r in ctx.records("credit_note", [n.parent_key or "" for n in notes]).items()}
    documents: dict[str, dict] = {}  # every parent read back at once, 40 to a GET (a quota-stopped run left many)
    for kind in (INVOICE, CREDIT_NOTE):
        ids = [r.xero_id for k, r in parents.values() if k == kind and r.xero_id]
        if ids:
            documents |= ctx.client.documents_by_id(kind.resource, ids)
    for note in notes:
        kind, parent = parents.get(note.parent_key or "", (INVOICE, None))
        if parent is None or not parent.xero_id:
            ctx.settle("payment", [note.source_key])  # its document never reached Xero: neither did it
            continue
        invoice = documents.get(parent.xero_id, {})
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


def _allocations(ctx: LoadContext, notes: list[PendingWrite]) -> None:
    """An allocation's note: `number` is its credit note's key, `parent_key` its invoice's."""
    credit_notes = ctx.records("credit_note", [n.number or "" for n in notes])
    invoices = ctx.records("invoice", [n.parent_key or "" for n in notes])
    for note in notes:
        credit_note, invoice = credit_notes.get(note.number or ""), invoices.get(note.parent_key or "")
        if not (credit_note and credit_note.xero_id and invoice and invoice.xero_id):
            ctx.settle("allocation", [note.source_key])
            continue
        found = (ctx.client.get(f"CreditNotes/{credit_note.xero_id}").get("CreditNotes") or [{}])[0]
        taken = {r.xero_id for r in allocations_on_invoices(ctx, [note.parent_key or ""]).values()}
        allocation = next(
            (
                a
                for a in found.get("Allocations") or []
                if (a.get("Invoice") or {}).get("InvoiceID") == invoice.xero_id
                and not a.get("IsDeleted")
                and a.get("AllocationID") not in taken
            ),
            None,
        )
        if allocation is None:
            ctx.settle("allocation", [note.source_key])
            continue
        ctx.save(
            "allocation",
            note.source_key,
            allocation["AllocationID"],
            action="adopted",
            content_hash=content(to_decimal(allocation.get("Amount", 0)), xero_day(allocation) or ""),
            status="AUTHORISED",
            number=note.number,
            day=note.partition_key,
            parent=note.parent_key,
        )
