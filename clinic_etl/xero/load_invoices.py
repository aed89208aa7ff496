"""Invoices: create the missing ones, update the changed ones, void or delete the removed ones.

InvoiceNumber is unique per Xero organisation, so after a crash between Xero's write and the state store's
record, the invoice is found by its number (the pending writes journal says which to look for, and Xero's "must
be unique" answer does too) and adopted, never doubled; an adopted invoice that does not say what the source says
now (edited in between) is updated.
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.xero.load_payments import reverse_payments_of
from clinic_etl.xero.outcome import LoadContext, errors_of
from clinic_etl.xero.same_document import same_invoice

REMOVED = {"VOIDED", "DELETED"}
CLASH_FIX = "Xero invoice numbers are unique, so give one of them another number in the source (never merged)"


def number_clashes(ctx: LoadContext, rows: list[dict]) -> dict[str, str]:
    """Source invoices that cannot have their InvoiceNumber, with the reason: the number already belongs to
    another source invoice in Xero (the state store says which), or two invoices of this run share it (the one
    that holds it already keeps it, else the lowest source id). Source keys identify documents, never numbers."""
    holders = ctx.store.get_records_by_number(ctx.tenant_id, "invoice", [r["InvoiceNumber"] for r in rows])
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["InvoiceNumber"], []).append(row)
    clashes = {}
    for number, group in groups.items():
        held = [r.source_key for r in holders.get(number, [])]
        keys = sorted((r["invoice_key"] for r in group), key=lambda k: (len(k), k))
        owner = next((k for k in keys if k in held), None) or (held[0] if held else keys[0])
        for key in keys:
            if key != owner:
                clashes[key] = f"{number} is also {owner}'s invoice number: {CLASH_FIX}"
    return clashes


def owner_of(ctx: LoadContext, found: dict, key: str) -> str | None:
    """The other source invoice the state store maps this Xero invoice to, if any (then it is not adopted)."""
    number = found.get("InvoiceNumber") or ""
    holders = ctx.store.get_records_by_number(ctx.tenant_id, "invoice", [number]).get(number, [])
    return next((r.source_key for r in holders if r.source_key != key and r.xero_id == found["InvoiceID"]), None)


def element(row: dict, contact_id: str, currency: str) -> dict:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": row["InvoiceNumber"],
        "Date": row["Date"],
        "DueDate": row["DueDate"],
        "Reference": row["Reference"],
        "Status": row["Status"],
        "LineAmountTypes": "Inclusive",
        "CurrencyCode": currency,
        "LineItems": row["LineItems"],
    }


def _save(ctx: LoadContext, row: dict, result: dict, content_hash: str | None, action: str) -> None:
    ctx.save(
        "invoice",
        row["invoice_key"],
        result["InvoiceID"],
        action=action,
        content_hash=content_hash,
        status=result.get("Status"),
        number=row["InvoiceNumber"],
        day=row["day"],
    )


def load_invoices(
    ctx: LoadContext, invoices: pd.DataFrame, contact_ids: dict[str, str], currency: str
) -> dict[str, str]:
    """Create/update live invoices. Returns invoice_key -> InvoiceID of those in Xero."""
    rows = {r["invoice_key"]: r for r in invoices.to_dict("records") if r["source_status"] != "deleted"}
    for key, reason in number_clashes(ctx, list(rows.values())).items():
        ctx.note("invoice", key, "failed", reason=reason, day=rows.pop(key)["day"])
    known = ctx.records("invoice", list(rows))
    ids = {k: r.xero_id for k, r in known.items() if r.xero_id and r.xero_status not in REMOVED}
    create, update = [], []
    for key, row in rows.items():
        if row["contact_key"] not in contact_ids:
            ctx.note("invoice", key, "failed", reason=f"contact {row['contact_key']} is not in Xero", day=row["day"])
        elif key not in ids:
            create.append(row)
        elif known[key].content_hash != row["content_hash"]:
            update.append(row)
        else:
            ctx.note("invoice", key, "unchanged", ids[key], day=row["day"])
    by_number = {r["InvoiceNumber"]: r for r in create}  # unique: number_clashes held back the others
    elements = [element(r, contact_ids[r["contact_key"]], currency) for r in create]
    ctx.intend("invoice", [(r["invoice_key"], r["InvoiceNumber"], None, r["day"]) for r in create])
    refused = []
    for result in ctx.client.write_batches("PUT", "Invoices", elements, unitdp=4):
        row = by_number.get(result.get("InvoiceNumber", ""))
        if row is None:
            continue
        problems = errors_of(result)
        if not problems and result.get("InvoiceID"):
            ids[row["invoice_key"]] = result["InvoiceID"]
            _save(ctx, row, result, row["content_hash"], "created")
        elif any("unique" in p.lower() for p in problems):
            refused.append(row)  # a crash after an earlier write: found below by its number
        else:
            ctx.settle("invoice", [row["invoice_key"]])
            reason = "; ".join(problems) or "no InvoiceID returned"
            ctx.note("invoice", row["invoice_key"], "failed", reason=reason, day=row["day"])
    found = {i.get("InvoiceNumber"): i for i in ctx.client.invoices_by_number(r["InvoiceNumber"] for r in refused)}
    for row in refused:
        invoice = found.get(row["InvoiceNumber"])
        owner = owner_of(ctx, invoice, row["invoice_key"]) if invoice else None
        if invoice and not owner and invoice.get("Status") not in REMOVED:
            ids[row["invoice_key"]] = invoice["InvoiceID"]
            if not adopt(ctx, row, invoice, contact_ids[row["contact_key"]], currency):
                update.append(row)
        else:
            ctx.settle("invoice", [row["invoice_key"]])
            reason = f"{row['InvoiceNumber']} is taken in Xero" + (f" by {owner}'s invoice" if owner else "")
            ctx.note("invoice", row["invoice_key"], "failed", reason=f"{reason}: {CLASH_FIX}", day=row["day"])
    editable = []
    for row in update:  # Xero refuses to edit a paid document: reverse its payments, the payment step re-applies them
        if reason := reverse_payments_of(ctx, row["invoice_key"], row["day"]):
            ctx.note("invoice", row["invoice_key"], "failed", ids[row["invoice_key"]], reason, day=row["day"])
        else:
            editable.append(row)
    update = editable
    by_id = {ids[r["invoice_key"]]: r for r in update}
    elements = [
        {"InvoiceID": ids[r["invoice_key"]], **element(r, contact_ids[r["contact_key"]], currency)} for r in update
    ]
    for result in ctx.client.write_batches("POST", "Invoices", elements, unitdp=4):
        row = by_id.get(result.get("InvoiceID", ""))
        if row is None:
            continue
        if errors_of(result):
            reason = "; ".join(errors_of(result))
            ctx.note("invoice", row["invoice_key"], "failed", ids[row["invoice_key"]], reason, day=row["day"])
        else:
            _save(ctx, row, result, row["content_hash"], "updated")
    return ids


def adopt(ctx: LoadContext, row: dict, invoice: dict, contact_id: str, currency: str) -> bool:
    """Record an invoice found in Xero as the source invoice's (it was written by a run that never recorded it).
    True if it says what the source says now; else it is recorded as unknown content, to be updated."""
    same = same_invoice(invoice, element(row, contact_id, currency), contact_id)
    _save(ctx, row, invoice, row["content_hash"] if same else None, "adopted")
    return same


def void_removed(ctx: LoadContext, invoices: pd.DataFrame) -> None:
    """Source-deleted invoices: DELETED if still a draft in Xero, else VOIDED after reversing the payment."""
    rows = {r["invoice_key"]: r for r in invoices.to_dict("records") if r["source_status"] == "deleted"}
    known = ctx.records("invoice", list(rows))
    elements, by_id = [], {}
    for key, row in rows.items():
        record = known.get(key)
        if record is None or not record.xero_id:
            ctx.note("invoice", key, "skipped", reason="deleted at the source before it was synced", day=row["day"])
        elif record.xero_status in REMOVED:
            ctx.note("invoice", key, "unchanged", record.xero_id, day=row["day"])
        elif reason := reverse_payments_of(ctx, key, row["day"]):
            ctx.note("invoice", key, "failed", record.xero_id, reason, day=row["day"])
        else:
            status = "DELETED" if record.xero_status in {"DRAFT", "SUBMITTED"} else "VOIDED"
            elements.append({"InvoiceID": record.xero_id, "Status": status})
            by_id[record.xero_id] = (row, record)
    for result in ctx.client.write_batches("POST", "Invoices", elements):
        row, record = by_id.get(result.get("InvoiceID", ""), (None, None))
        if row is None or record is None:
            continue
        status = result.get("Status")
        if errors_of(result):  # a retry after a lost reply finds it voided already: read it back
            status = invoice_status(ctx, record.xero_id)
        if status not in REMOVED:
            reason = "; ".join(errors_of(result)) or f"Xero left it {status}"
            ctx.note("invoice", row["invoice_key"], "failed", record.xero_id, reason, day=row["day"])
        else:
            ctx.save(
                "invoice",
                row["invoice_key"],
                record.xero_id,
                action="voided" if status == "VOIDED" else "deleted",
                content_hash=record.content_hash,
                status=status,
                number=record.xero_number,
                day=row["day"],
            )


def invoice_status(ctx: LoadContext, invoice_id: str) -> str | None:
    invoices = ctx.client.get(f"Invoices/{invoice_id}").get("Invoices") or [{}]
    return invoices[0].get("Status")
