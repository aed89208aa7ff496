"""GET/PUT /Payments, POST /Payments (one), GET /Payments/{id} and POST /Payments/{id} = delete.

A payment needs an AUTHORISED invoice (or credit note, for a cash refund), an amount above zero and at
most the amount outstanding, a date, and an account that is a BANK account or has
EnablePaymentsToAccount. It moves the document to PAID when nothing is left to pay; deleting the payment
(``{"Status": "DELETED"}``, the PaymentDelete schema) moves it back to AUTHORISED.
"""

from __future__ import annotations

from typing import Any

from . import batch, locks, query
from .context import Ctx, new_id, read_date
from .creditnotes import credit_note_out
from .documents import CREDIT_NOTE, INVOICE, Spec, balance_change, find
from .invoices import invoice_out
from .serialize import (
    Resp,
    dec,
    envelope,
    ms_date,
    ms_datetime,
    not_found,
    problem,
    q,
    utc_string,
    validation_error,
)

PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _document(ctx: Ctx, element: dict[str, Any], errors: list[str]) -> tuple[Spec, dict[str, Any]] | None:
    invoice, note = element.get("Invoice") or {}, element.get("CreditNote") or {}
    if invoice or element.get("InvoiceNumber"):
        spec, ref, label = (
            INVOICE,
            invoice.get("InvoiceID") or invoice.get("InvoiceNumber") or element.get("InvoiceNumber", ""),
            "invoice",
        )
    elif note or element.get("CreditNoteNumber"):
        spec, ref, label = (
            CREDIT_NOTE,
            note.get("CreditNoteID") or note.get("CreditNoteNumber") or element.get("CreditNoteNumber", ""),
            "credit note",
        )
    else:
        errors.append("A payment must be made against an Invoice or a CreditNote.")
        return None
    doc = find(ctx, spec, ref) if ref else None
    if doc is None:
        errors.append(f"The {label} could not be found.")
        return None
    return spec, doc


def _account(ctx: Ctx, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    ref = element.get("Account") or {}
    code, account_id = ref.get("Code") or element.get("Code"), ref.get("AccountID")
    if not code and not account_id:
        errors.append("An Account (Code or AccountID) must be specified for the payment.")
        return None
    acct = ctx.account(code, account_id)
    if acct is None:
        errors.append(f"Account code '{code or account_id}' is not a valid code for this document.")
    elif acct["Status"] != "ACTIVE":
        errors.append(f"Account code '{acct['Code']}' has been archived, or has been deleted.")
    elif acct["Type"] != "BANK" and not acct.get("EnablePaymentsToAccount"):
        errors.append(
            f"Account code '{acct['Code']}' cannot receive payments: it must be a BANK account or have "
            "EnablePaymentsToAccount set to true."
        )
    else:
        return acct
    return None


def _create(ctx: Ctx, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    target = _document(ctx, element, errors)
    acct = _account(ctx, element, errors)
    when = read_date(element, "Date", errors)
    locks.check(ctx, when, errors)
    if "Date" not in element:
        errors.append("The payment Date must be specified.")
    amount = q(element.get("Amount", 0))
    if amount <= 0:
        errors.append("The payment Amount must be greater than zero.")
    if target is not None:
        _, doc = target
        if doc["Status"] != "AUTHORISED":
            errors.append("Payments can only be made against Authorised documents")
        if amount > dec(doc["AmountDue"]):
            errors.append("Payment amount exceeds the amount outstanding on this document")
    if errors or target is None or acct is None or when is None:
        return None
    spec, doc = target
    payment = {
        "PaymentID": new_id(),
        "DocumentID": doc[spec.id_key],
        "DocumentKind": spec.kind,
        "AccountID": acct["AccountID"],
        "Date": when,
        "Amount": str(amount),
        "Reference": element.get("Reference", ""),
        "CurrencyRate": "1.000000",
        "Status": "AUTHORISED",
        "PaymentType": PAYMENT_TYPES[doc["Type"]],
        "IsReconciled": bool(element.get("IsReconciled")),
        "UpdatedDateUTC": ctx.now_ms,
    }
    store(ctx, payment)
    balance_change(ctx, spec, doc, paid=amount, on=when)
    ctx.clear_cache()
    return payment_out(ctx, payment, lines=True)


def store(ctx: Ctx, payment: dict[str, Any]) -> None:
    ctx.tx.put(
        "payment",
        ctx.tenant,
        payment["PaymentID"],
        payment,
        updated_ms=payment["UpdatedDateUTC"],
        key1=payment["DocumentID"],
        key2=payment["Status"],
    )


def payment_out(ctx: Ctx, payment: dict[str, Any], *, lines: bool = False) -> dict[str, Any]:
    acct = next((a for a in ctx.accounts() if a["AccountID"] == payment["AccountID"]), {})
    out: dict[str, Any] = {
        "PaymentID": payment["PaymentID"],
        "Date": ms_date(payment["Date"]),
        "BankAmount": q(payment["Amount"]),
        "Amount": q(payment["Amount"]),
        "Reference": payment.get("Reference", ""),
        "CurrencyRate": q(payment["CurrencyRate"], 6),
        "PaymentType": payment["PaymentType"],
        "Status": payment["Status"],
        "UpdatedDateUTC": ms_datetime(payment["UpdatedDateUTC"]),
        "UpdatedDateUTCString": utc_string(payment["UpdatedDateUTC"]) + "Z",
        "HasAccount": True,
        "IsReconciled": payment["IsReconciled"],
        "Account": {
            "AccountID": payment["AccountID"],
            "Code": acct.get("Code", ""),
            "Name": acct.get("Name", ""),
        },
    }
    doc = ctx.tx.get(payment["DocumentKind"], ctx.tenant, payment["DocumentID"])
    if doc is not None and payment["DocumentKind"] == "invoice":
        out["Invoice"] = invoice_out(ctx, doc, lines=lines)
    elif doc is not None:
        out["CreditNote"] = credit_note_out(ctx, doc, lines=lines)
    out["HasValidationErrors"] = False
    return out


def _delete(ctx: Ctx, payment_id: str, raw: bytes) -> Resp:
    payment = ctx.tx.get("payment", ctx.tenant, payment_id.lower())
    if payment is None:
        return not_found()
    body = batch.single(ctx, raw, "PaymentDelete")
    if isinstance(body, Resp):
        return body
    problem_text = None
    if str(body.get("Status", "")).upper() != "DELETED":
        problem_text = "A payment can only be updated to the status DELETED."
    elif payment["Status"] == "DELETED":
        problem_text = "This payment has already been deleted."
    elif payment["IsReconciled"]:
        problem_text = "This payment has been reconciled and cannot be deleted"
    if problem_text:
        echo = {
            **payment_out(ctx, payment),
            "HasValidationErrors": True,
            "ValidationErrors": [{"Message": problem_text}],
        }
        return Resp(400, validation_error("A validation exception occurred", [echo]))
    payment = {**payment, "Status": "DELETED", "UpdatedDateUTC": ctx.now_ms}
    store(ctx, payment)
    spec = INVOICE if payment["DocumentKind"] == "invoice" else CREDIT_NOTE
    doc = ctx.tx.get(spec.kind, ctx.tenant, payment["DocumentID"])
    if doc is not None:
        balance_change(ctx, spec, doc, paid=-dec(payment["Amount"]))
    ctx.clear_cache()
    return Resp(200, envelope("Payments", [payment_out(ctx, payment, lines=True)], ctx.now_ms))


def _list(ctx: Ctx, ims: str | None) -> Resp:
    try:
        since = query.modified_since(ims)
        predicate = query.where(ctx.query["where"]) if ctx.query.get("where", "").strip() else None
    except (ValueError, TypeError) as exc:
        return query.query_error(str(exc))
    outs = [payment_out(ctx, p) for p in ctx.tx.all("payment", ctx.tenant) if since(p["UpdatedDateUTC"])]
    if predicate is not None:
        outs = [o for o in outs if predicate(o)]
    outs, pagination = query.page(query.order(outs, ctx.query.get("order")), ctx.query)
    return Resp(200, envelope("Payments", outs, ctx.now_ms, **({"pagination": pagination} if pagination else {})))


def handle(ctx: Ctx, method: str, ref: str | None, raw: bytes, ims: str | None) -> Resp:
    if method == "GET" and ref is None:
        return _list(ctx, ims)
    if method == "GET":
        payment = ctx.tx.get("payment", ctx.tenant, ref.lower())
        if payment is None:
            return not_found()
        return Resp(200, envelope("Payments", [payment_out(ctx, payment, lines=True)], ctx.now_ms))
    if method in ("PUT", "POST") and ref is None:
        return batch.run(
            ctx,
            raw,
            plural="Payments",
            wrapper_schema="Payments",
            id_key="PaymentID",
            has_errors_key="HasValidationErrors",
            process=_create,
        )
    if method == "POST":
        return _delete(ctx, ref, raw)
    return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))
