"""GET/PUT/POST /CreditNotes, PUT /CreditNotes/{id}/Allocations and DELETE of an allocation.

A credit note must be AUTHORISED before it is allocated; an allocation is at most the note's
RemainingCredit and the invoice's AmountDue, for the same contact and currency (FACTS §5).
"""

from __future__ import annotations

from typing import Any

from . import batch, contacts, links
from .context import Ctx, new_id, read_date
from .documents import CREDIT_NOTE, INVOICE, balance_change, find
from .invoices import dates_out, get_one, line_out, list_documents, payment_summaries, write
from .serialize import Resp, dec, ms_date, ms_datetime, not_found, problem, q, utc_string


def credit_note_out(ctx: Ctx, doc: dict[str, Any], *, lines: bool = True) -> dict[str, Any]:
    contact = links.contact(ctx, doc["ContactID"]) or {"ContactID": doc["ContactID"], "Name": ""}
    allocations = [
        allocation_out(ctx, a, nested=True) for a in links.allocations_of_credit_note(ctx, doc["CreditNoteID"])
    ]
    out: dict[str, Any] = {
        "CreditNoteID": doc["CreditNoteID"],
        "CreditNoteNumber": doc.get("CreditNoteNumber", ""),
        "Payments": payment_summaries(ctx, doc["CreditNoteID"]),
        "ID": doc["CreditNoteID"],
        "CurrencyRate": q(doc.get("CurrencyRate", "1"), 6),
        "Type": doc["Type"],
        "Reference": doc.get("Reference", ""),
        "RemainingCredit": q(doc["AmountDue"]),
        "Allocations": allocations,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contacts.out(contact, summary=True),
    }
    dates_out(doc, out)
    out.update(
        Status=doc["Status"],
        LineAmountTypes=doc["LineAmountTypes"],
        LineItems=[line_out(line, ctx.unitdp) for line in doc["LineItems"]] if lines else [],
        SubTotal=q(doc["SubTotal"]),
        TotalTax=q(doc["TotalTax"]),
        Total=q(doc["Total"]),
        UpdatedDateUTC=ms_datetime(doc["UpdatedDateUTC"]),
        UpdatedDateUTCString=utc_string(doc["UpdatedDateUTC"]) + "Z",
        CurrencyCode=doc["CurrencyCode"],
    )
    if doc.get("FullyPaidOnDate"):
        out["FullyPaidOnDate"] = ms_date(doc["FullyPaidOnDate"])
    return out


def allocation_out(ctx: Ctx, alloc: dict[str, Any], *, nested: bool = False) -> dict[str, Any]:
    invoice = links.document(ctx, "invoice", alloc["InvoiceID"]) or {}
    out: dict[str, Any] = {
        "AllocationID": alloc["AllocationID"],
        "Amount": q(alloc["Amount"]),
        "Date": ms_date(alloc["Date"]),
        "Invoice": {
            "InvoiceID": alloc["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber", ""),
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
        "IsDeleted": bool(alloc["IsDeleted"]),
    }
    if not nested:
        note = links.document(ctx, "creditnote", alloc["CreditNoteID"]) or {}
        out["CreditNote"] = {
            "CreditNoteID": alloc["CreditNoteID"],
            "ID": alloc["CreditNoteID"],
            "CreditNoteNumber": note.get("CreditNoteNumber", ""),
            "LineItems": [],
        }
    return out


def _allocate(ctx: Ctx, note_id: str, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    note = ctx.tx.get("creditnote", ctx.tenant, note_id)
    assert note is not None
    ref = element.get("Invoice") or {}
    invoice = find(ctx, INVOICE, ref.get("InvoiceID") or ref.get("InvoiceNumber") or "")
    when = read_date(element, "Date", errors)
    amount = q(element.get("Amount", 0))
    if note["Status"] != "AUTHORISED":
        errors.append("Credit notes can only be allocated when they are AUTHORISED.")
    if invoice is None:
        errors.append("The invoice to allocate the credit note to could not be found.")
    else:
        expected_type = "ACCREC" if note["Type"] == "ACCRECCREDIT" else "ACCPAY"
        if invoice["Status"] != "AUTHORISED":
            errors.append("Credit notes can only be allocated to AUTHORISED invoices.")
        if invoice["Type"] != expected_type:
            errors.append(f"A {note['Type']} credit note can only be allocated to an {expected_type} invoice.")
        if invoice["ContactID"] != note["ContactID"]:
            errors.append("The credit note and the invoice must be for the same contact.")
        if invoice["CurrencyCode"] != note["CurrencyCode"]:
            errors.append("The credit note and the invoice must be in the same currency.")
        if amount > dec(invoice["AmountDue"]):
            errors.append("The amount allocated exceeds the amount outstanding on the invoice.")
    if amount <= 0:
        errors.append("The allocation amount must be greater than zero.")
    if amount > dec(note["AmountDue"]):
        errors.append("The amount allocated exceeds the remaining credit on the credit note.")
    if errors or invoice is None or when is None:
        return None
    alloc = {
        "AllocationID": new_id(),
        "CreditNoteID": note_id,
        "InvoiceID": invoice["InvoiceID"],
        "Amount": str(amount),
        "Date": when,
        "IsDeleted": False,
    }
    ctx.tx.put(
        "allocation",
        ctx.tenant,
        alloc["AllocationID"],
        alloc,
        updated_ms=ctx.now_ms,
        key1=note_id,
        key2=invoice["InvoiceID"],
    )
    balance_change(ctx, INVOICE, invoice, credited=amount, on=when)
    balance_change(ctx, CREDIT_NOTE, note, credited=amount, on=when)
    ctx.clear_cache()
    return allocation_out(ctx, alloc)


def allocations(ctx: Ctx, method: str, note_ref: str, alloc_id: str | None, raw: bytes) -> Resp:
    note = find(ctx, CREDIT_NOTE, note_ref)
    if note is None:
        return not_found()
    note_id = note["CreditNoteID"]
    if method == "PUT" and alloc_id is None:
        return batch.run(
            ctx,
            raw,
            plural="Allocations",
            wrapper_schema="Allocations",
            id_key=None,
            has_errors_key=None,
            process=lambda c, el, errs: _allocate(c, note_id, el, errs),
        )
    if method == "DELETE" and alloc_id is not None:
        alloc = ctx.tx.get("allocation", ctx.tenant, alloc_id.lower())
        if alloc is None or alloc["CreditNoteID"] != note_id or alloc["IsDeleted"]:
            return not_found()
        alloc = {**alloc, "IsDeleted": True}
        ctx.tx.put(
            "allocation",
            ctx.tenant,
            alloc["AllocationID"],
            alloc,
            updated_ms=ctx.now_ms,
            key1=note_id,
            key2=alloc["InvoiceID"],
        )
        amount = -dec(alloc["Amount"])
        invoice = ctx.tx.get("invoice", ctx.tenant, alloc["InvoiceID"])
        if invoice is not None:
            balance_change(ctx, INVOICE, invoice, credited=amount)
        balance_change(ctx, CREDIT_NOTE, note, credited=amount)
        ctx.clear_cache()
        out = allocation_out(ctx, alloc)
        return Resp(
            200,
            {
                "AllocationID": out["AllocationID"],
                "Date": out["Date"],
                "Invoice": {"InvoiceID": alloc["InvoiceID"]},
                "IsDeleted": True,
            },
        )
    return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))


def handle(ctx: Ctx, method: str, ref: str | None, raw: bytes, ims: str | None) -> Resp:
    if method == "GET":
        if ref is None:
            return list_documents(ctx, CREDIT_NOTE, "CreditNotes", credit_note_out, ims)
        return get_one(ctx, CREDIT_NOTE, "CreditNotes", credit_note_out, ref)
    if method == "PUT" and ref is None:
        return write(ctx, CREDIT_NOTE, "CreditNotes", credit_note_out, raw)
    if method == "POST":
        return write(ctx, CREDIT_NOTE, "CreditNotes", credit_note_out, raw, ref)
    return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))
