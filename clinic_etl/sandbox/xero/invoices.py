"""GET/PUT/POST /Invoices and /Invoices/{InvoiceID or InvoiceNumber}, and the invoice wire shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import batch, contacts, links, query
from .context import Ctx
from .documents import INVOICE, Spec, find, save
from .serialize import (
    Resp,
    date_string,
    dec,
    envelope,
    ms_date,
    ms_datetime,
    not_found,
    problem,
    q,
    utc_string,
)


def line_out(line: dict[str, Any], unitdp: int) -> dict[str, Any]:
    out: dict[str, Any] = {"LineItemID": line["LineItemID"], "Description": line["Description"]}
    if "Quantity" in line:
        out["Quantity"] = q(line["Quantity"], 4)
    if "UnitAmount" in line:
        out["UnitAmount"] = q(line["UnitAmount"], unitdp)
    for key in ("AccountCode", "AccountID", "TaxType"):
        if key in line:
            out[key] = line[key]
    out["TaxAmount"] = q(line["TaxAmount"])
    out["LineAmount"] = q(line["LineAmount"])
    if "DiscountRate" in line:
        out["DiscountRate"] = q(line["DiscountRate"])
    if "DiscountAmount" in line:
        out["DiscountAmount"] = q(line["DiscountAmount"])
    out["Tracking"] = [dict(t) for t in line.get("Tracking", [])]
    out["ValidationErrors"] = []
    return out


def dates_out(doc: dict[str, Any], out: dict[str, Any]) -> None:
    out["DateString"], out["Date"] = date_string(doc["Date"]), ms_date(doc["Date"])
    if doc.get("DueDate"):
        out["DueDateString"], out["DueDate"] = date_string(doc["DueDate"]), ms_date(doc["DueDate"])
    for key in ("ExpectedPaymentDate", "PlannedPaymentDate"):
        if doc.get(key):
            out[key] = ms_date(doc[key])


def payment_summaries(ctx: Ctx, doc_id: str) -> list[dict[str, Any]]:
    return [
        {
            "PaymentID": p["PaymentID"],
            "Date": ms_date(p["Date"]),
            "Amount": q(p["Amount"]),
            "Reference": p.get("Reference", ""),
            "CurrencyRate": q(p.get("CurrencyRate", "1"), 6),
            "HasAccount": False,
            "HasValidationErrors": False,
        }
        for p in links.payments_of(ctx, doc_id)
    ]


def invoice_out(ctx: Ctx, doc: dict[str, Any], *, lines: bool = True, unitdp: int | None = None) -> dict[str, Any]:
    contact = links.contact(ctx, doc["ContactID"]) or {"ContactID": doc["ContactID"], "Name": ""}
    credits = []
    for alloc in links.allocations_to_invoice(ctx, doc["InvoiceID"]):
        note = links.document(ctx, "creditnote", alloc["CreditNoteID"]) or {}
        credits.append(
            {
                "CreditNoteID": alloc["CreditNoteID"],
                "CreditNoteNumber": note.get("CreditNoteNumber", ""),
                "ID": alloc["CreditNoteID"],
                "AppliedAmount": q(alloc["Amount"]),
                "DateString": date_string(alloc["Date"]),
                "Date": ms_date(alloc["Date"]),
                "Total": q(note.get("Total", "0")),
                "LineItems": [],
            }
        )
    out: dict[str, Any] = {
        "Type": doc["Type"],
        "InvoiceID": doc["InvoiceID"],
        "InvoiceNumber": doc.get("InvoiceNumber", ""),
        "Reference": doc.get("Reference", ""),
        "Payments": payment_summaries(ctx, doc["InvoiceID"]),
        "CreditNotes": credits,
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": q(doc["AmountDue"]),
        "AmountPaid": q(doc["AmountPaid"]),
        "AmountCredited": q(doc["AmountCredited"]),
        "SentToContact": bool(doc.get("SentToContact")),
        "CurrencyRate": q(doc.get("CurrencyRate", "1"), 6),
        "IsDiscounted": bool(doc.get("IsDiscounted")),
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contacts.out(contact, summary=True),
    }
    dates_out(doc, out)
    dp = ctx.unitdp if unitdp is None else unitdp
    out.update(
        Status=doc["Status"],
        LineAmountTypes=doc["LineAmountTypes"],
        LineItems=[line_out(line, dp) for line in doc["LineItems"]] if lines else [],
        SubTotal=q(doc["SubTotal"]),
        TotalTax=q(doc["TotalTax"]),
        Total=q(doc["Total"]),
    )
    if dec(doc.get("TotalDiscount", "0")) != 0:
        out["TotalDiscount"] = q(doc["TotalDiscount"])
    out.update(
        UpdatedDateUTC=ms_datetime(doc["UpdatedDateUTC"]),
        UpdatedDateUTCString=utc_string(doc["UpdatedDateUTC"]) + "Z",
        CurrencyCode=doc["CurrencyCode"],
    )
    if doc.get("FullyPaidOnDate"):
        out["FullyPaidOnDate"] = ms_date(doc["FullyPaidOnDate"])
    for key in ("Url", "BrandingThemeID"):
        if doc.get(key):
            out[key] = doc[key]
    return out


Out = Callable[..., dict[str, Any]]


def list_documents(
    ctx: Ctx, spec: Spec, plural: str, render: Out, ims: str | None, numbers_param: str | None = None
) -> Resp:
    """GET list: IDs, <Numbers>, ContactIDs, Statuses, searchTerm, where, order, paging, If-Modified-Since."""
    qs = ctx.query
    ids = query.split_list(qs.get("IDs"))
    docs = ctx.tx.all(spec.kind, ctx.tenant, [i.lower() for i in ids] if ids else None)
    try:
        since = query.modified_since(ims)
        predicate = query.where(qs["where"]) if qs.get("where", "").strip() else None
    except (ValueError, TypeError) as exc:
        return query.query_error(str(exc))
    numbers = {n.lower() for n in query.split_list(qs.get(numbers_param or ""))}
    contact_ids = {c.lower() for c in query.split_list(qs.get("ContactIDs"))}
    statuses = {s.upper() for s in query.split_list(qs.get("Statuses"))}
    term = qs.get("searchTerm", "").strip().lower()
    docs = [
        d
        for d in docs
        if since(d["UpdatedDateUTC"])
        and (not numbers or (d.get(spec.number_key) or "").lower() in numbers)
        and (not contact_ids or d["ContactID"] in contact_ids)
        and (not statuses or d["Status"] in statuses)
        and (not term or term in (d.get(spec.number_key) or "").lower() or term in d.get("Reference", "").lower())
    ]
    with_lines = "page" in qs and qs.get("summaryOnly", "").lower() != "true"
    outs = [render(ctx, d, lines=with_lines) for d in docs]
    if predicate is not None:
        outs = [o for o in outs if predicate(o)]
    outs, pagination = query.page(query.order(outs, qs.get("order")), qs)
    return Resp(200, envelope(plural, outs, ctx.now_ms, **({"pagination": pagination} if pagination else {})))


def get_one(ctx: Ctx, spec: Spec, plural: str, render: Out, ref: str) -> Resp:
    doc = find(ctx, spec, ref)
    if doc is None:
        return not_found()
    return Resp(200, envelope(plural, [render(ctx, doc, lines=True)], ctx.now_ms))


def write(ctx: Ctx, spec: Spec, plural: str, render: Out, raw: bytes, ref: str | None = None) -> Resp:
    """PUT/POST /<Plural> (many, summarizeErrors) or POST /<Plural>/{id or number} (the one named)."""
    target = None
    if ref is not None:
        target = find(ctx, spec, ref)
        if target is None:
            return not_found()

    def process(c: Ctx, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
        if target is not None and element.get(spec.id_key, target[spec.id_key]).lower() != target[spec.id_key]:
            errors.append(f"The {spec.id_key} in the body does not match the one in the URL.")
            return None
        doc = save(
            c, spec, element, errors, target=c.tx.get(spec.kind, c.tenant, target[spec.id_key]) if target else None
        )
        return render(c, doc, lines=True) if doc is not None else None

    return batch.run(
        ctx,
        raw,
        plural=plural,
        wrapper_schema=plural,
        id_key=spec.id_key,
        has_errors_key="HasErrors",
        process=process,
    )


def handle(ctx: Ctx, method: str, ref: str | None, raw: bytes, ims: str | None) -> Resp:
    if method == "GET":
        if ref is None:
            return list_documents(ctx, INVOICE, "Invoices", invoice_out, ims, "InvoiceNumbers")
        return get_one(ctx, INVOICE, "Invoices", invoice_out, ref)
    if method == "PUT" and ref is None:
        return write(ctx, INVOICE, "Invoices", invoice_out, raw)
    if method == "POST":
        return write(ctx, INVOICE, "Invoices", invoice_out, raw, ref)
    return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))
