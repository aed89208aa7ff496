"""Payments: one per settled source invoice (Cliniko: the amount due, dated on the day it was paid).

A payment is reversed (Xero: Status DELETED) when its invoice must change or be voided, or when the source
invoice is no longer paid. After an ambiguous failure (the payment went through but the state store never
heard), Xero refuses a second payment on a PAID invoice: the existing payment is then adopted.
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.http.errors import BadRequestError
from clinic_etl.ledger.money import to_decimal
from clinic_etl.xero.outcome import LoadContext, errors_of

DELETED = "DELETED"


def invoice_payment_key(invoice_key: str) -> str:
    source, _, source_id = invoice_key.split(":", 2)
    return f"{source}:payment:{source_id}"


def reverse_payment(ctx: LoadContext, payment_key: str, day: str | None = None) -> str | None:
    """Take the payment off its invoice (Xero: Status DELETED). Returns None once it is off (now, earlier, or never
    made), else why it could not be: the invoice must then not be edited or voided.

    Deleting a payment is not idempotent after Xero's Idempotency-Key window: a retry (or a re-run after a lost
    reply) is refused with "already deleted". So on a refusal the payment is read back, and one that is deleted
    counts as done."""
    record = ctx.records("payment", [payment_key]).get(payment_key)
    if record is None or not record.xero_id or record.xero_status == DELETED:
        return None
    try:
        ctx.client.write("POST", f"Payments/{record.xero_id}", {"Status": DELETED})
    except BadRequestError as error:
        if payment_status(ctx, record.xero_id) != DELETED:
            reason = f"payment {record.xero_id} could not be reversed: {error}"
            ctx.note("payment", payment_key, "failed", record.xero_id, reason, day=day)
            return reason
    ctx.save(
        "payment",
        payment_key,
        record.xero_id,
        action="reversed",
        content_hash=record.content_hash,
        status=DELETED,
        number=record.xero_number,
        day=day,
    )
    return None


def payment_status(ctx: LoadContext, payment_id: str) -> str | None:
    payments = ctx.client.get(f"Payments/{payment_id}").get("Payments") or [{}]
    return payments[0].get("Status")


def _adopt(ctx: LoadContext, row: dict, invoice_id: str) -> dict | None:
    invoice = ctx.client.get(f"Invoices/{invoice_id}").get("Invoices", [{}])[0]
    for payment in invoice.get("Payments") or []:
        if payment.get("Status", "AUTHORISED") != DELETED and to_decimal(payment.get("Amount", 0)) == row["Amount"]:
            return payment
    return None


def load_payments(
    ctx: LoadContext, payments: pd.DataFrame, invoices: pd.DataFrame, invoice_ids: dict[str, str]
) -> None:
    rows = {r["payment_key"]: r for r in payments.to_dict("records")}
    invoice_days = {invoice_payment_key(k): d for k, d in zip(invoices["invoice_key"], invoices["day"], strict=True)}
    known = ctx.records("payment", list(set(invoice_days) | set(rows)))
    for key, record in known.items():  # paid in Xero but no longer paid at the source (Paid -> Open)
        if key not in rows and record.xero_status != DELETED:
            reverse_payment(ctx, key, invoice_days.get(key))
    todo = []
    for key, row in rows.items():
        record = known.get(key)
        if record is not None and record.xero_id and record.xero_status != DELETED:
            ctx.note("payment", key, "unchanged", record.xero_id, day=row["day"])
        elif row["invoice_key"] not in invoice_ids:
            ctx.note("payment", key, "failed", reason=f"invoice {row['invoice_key']} is not in Xero", day=row["day"])
        else:
            todo.append(row)
    elements = [
        {
            "Invoice": {"InvoiceID": invoice_ids[r["invoice_key"]]},
            "Account": {"Code": r["AccountCode"]},
            "Date": r["Date"],
            "Amount": r["Amount"],
            "Reference": r["Reference"],
        }
        for r in todo
    ]
    by_invoice = {invoice_ids[r["invoice_key"]]: r for r in todo}
    for result in ctx.client.write_batches("PUT", "Payments", elements):
        row = by_invoice.get((result.get("Invoice") or {}).get("InvoiceID", ""))
        if row is None:
            continue
        problems = errors_of(result)
        adopted = _adopt(ctx, row, invoice_ids[row["invoice_key"]]) if problems else None
        payment = result if not problems else adopted
        if payment and payment.get("PaymentID"):
            ctx.save(
                "payment",
                row["payment_key"],
                payment["PaymentID"],
                action="adopted" if adopted else "created",
                content_hash=str(row["Amount"]),
                status=payment.get("Status", "AUTHORISED"),
                number=row["Date"],
                day=row["day"],
            )
        else:
            reason = "; ".join(problems) or "no PaymentID returned"
            ctx.note("payment", row["payment_key"], "failed", reason=reason, day=row["day"])
