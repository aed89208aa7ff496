"""Payments: in Xero, every live payment the ledger lists for an invoice of the run, and no other.

A payment is its ledger key (`clio:allocation:88`, or Cliniko's one payment per paid invoice); its Xero Reference
carries the source's id (`Clio payment 88`), which finds it again on its invoice after a crash. Xero cannot edit a
payment: one whose amount or date changed at the source is reversed (Status DELETED) and made again. One the
ledger no longer lists for an invoice of the run (deleted or voided at the source, the invoice no longer paid) is
reversed. Before an invoice is edited or voided its payments are reversed (Xero refuses to change a paid invoice);
this step then re-applies those the ledger still lists. Payments held back by a mapping problem are left as they are.
A refund out of a credit note is a Xero payment on the credit note: the same step, with the credit note as parent.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from clinic_etl.http.errors import BadRequestError
from clinic_etl.ledger.money import to_decimal
from clinic_etl.store import SyncRecord
from clinic_etl.xero.kinds import INVOICE, Kind
from clinic_etl.xero.outcome import LoadContext, errors_of

DELETED = "DELETED"
ENTITY = "payment"


def live_payments(ctx: LoadContext, invoice_keys: Iterable[str]) -> dict[str, SyncRecord]:
    """The payments the state store knows on these invoices and that are not reversed, by key."""
    found = ctx.store.get_records_by_parent(ctx.tenant_id, ENTITY, list(invoice_keys))
    return {k: r for k, r in found.items() if r.xero_id and r.xero_status != DELETED}


def payment_status(ctx: LoadContext, payment_id: str) -> str | None:
    payments = ctx.client.get(f"Payments/{payment_id}").get("Payments") or [{}]
    return payments[0].get("Status")


def reverse(ctx: LoadContext, key: str, record: SyncRecord, day: str | None) -> str | None:
    """Take the payment off its invoice (Xero: Status DELETED). Returns None once it is off (now or earlier), else
    why it could not be.

    Deleting a payment is not idempotent after Xero's Idempotency-Key window: a retry (or a re-run after a lost
    reply) is refused with "already deleted". So on a refusal the payment is read back, and one that is deleted
    counts as done."""
    try:
        ctx.client.write("POST", f"Payments/{record.xero_id}", {"Status": DELETED})
    except BadRequestError as error:
        if payment_status(ctx, str(record.xero_id)) != DELETED:
            reason = f"payment {record.xero_id} could not be reversed: {error}"
            ctx.note(ENTITY, key, "failed", record.xero_id, reason, day=day)
            return reason
    ctx.save(
        ENTITY,
        key,
        str(record.xero_id),
        action="reversed",
        content_hash=record.content_hash,
        status=DELETED,
        number=record.xero_number,
        day=day,
        parent=record.parent_key,
    )
    return None


def reverse_payments_of(ctx: LoadContext, invoice_key: str, day: str | None) -> str | None:
    """Reverse every live payment of an invoice before it is edited or voided; the reason if one could not be."""
    for key, record in sorted(live_payments(ctx, [invoice_key]).items()):
        if reason := reverse(ctx, key, record, day):
            return reason
    return None


def _same(record: SyncRecord, row: dict) -> bool:
    return record.content_hash == str(row["Amount"]) and record.xero_number == row["Date"]


def _found_on_document(ctx: LoadContext, kind: Kind, row: dict, document_id: str) -> dict | None:
    """After Xero refused a payment (the invoice is paid already: a crash after an earlier write), the payment of
    ours that is on the document: the one with its Reference, else a live one of the same amount no other key holds."""
    document = (ctx.client.get(f"{kind.resource}/{document_id}").get(kind.resource) or [{}])[0]
    candidates = [p for p in document.get("Payments") or [] if p.get("Status", "AUTHORISED") != DELETED]
    taken = {r.xero_id for r in live_payments(ctx, [row[kind.key_column]]).values()}
    for payment in candidates:
        if payment.get("Reference") == row["Reference"] and payment.get("PaymentID") not in taken:
            return payment
    for payment in candidates:
        if to_decimal(payment.get("Amount", 0)) == row["Amount"] and payment.get("PaymentID") not in taken:
            return payment
    return None


def load_payments(
    ctx: LoadContext,
    payments: pd.DataFrame,
    documents: pd.DataFrame,
    document_ids: dict[str, str],
    held: Iterable[str] = (),
    kind: Kind = INVOICE,
) -> None:
    """`payments`: every live payment of the run's `documents` (invoices, or credit notes for refunds), with the
    document's key in `kind.key_column`; `held`: payment keys held back by a mapping problem, left as they are."""
    parent_of, target = kind.key_column, kind.resource[:-1]  # Invoice / CreditNote
    rows = {r["payment_key"]: r for r in payments.to_dict("records")}
    keep = set(held)
    document_days = dict(zip(documents[parent_of], documents["day"], strict=True))
    known = live_payments(ctx, document_days) | {
        k: r for k, r in ctx.records(ENTITY, list(rows)).items() if r.xero_id and r.xero_status != DELETED
    }
    for key, record in sorted(known.items()):  # gone from the source, or changed: Xero cannot edit a payment
        row = rows.get(key)
        if key in keep or (row is not None and _same(record, row)):
            continue
        if reverse(ctx, key, record, row["day"] if row else document_days.get(record.parent_key or "")) is None:
            known.pop(key)
    todo = []
    for key, row in rows.items():
        if key in known:
            ctx.note(ENTITY, key, "unchanged", known[key].xero_id, day=row["day"])
        elif row[parent_of] not in document_ids:
            ctx.note(ENTITY, key, "failed", reason=f"{kind.label} {row[parent_of]} is not in Xero", day=row["day"])
        else:
            todo.append(row)
    elements = [
        {
            target: {kind.id_field: document_ids[r[parent_of]]},
            "Account": {"Code": r["AccountCode"]},
            "Date": r["Date"],
            "Amount": r["Amount"],
            "Reference": r["Reference"],
        }
        for r in todo
    ]
    ctx.intend(ENTITY, [(r["payment_key"], r["Reference"], r[parent_of], r["day"]) for r in todo])
    by_reference = {(document_ids[r[parent_of]], r["Reference"]): r for r in todo}
    answered = set()
    for result in ctx.client.write_batches("PUT", "Payments", elements):
        document_id = (result.get(target) or {}).get(kind.id_field, "")
        row = by_reference.get((document_id, result.get("Reference", "")))
        if row is None:
            continue
        answered.add(row["payment_key"])
        problems = errors_of(result)
        found = _found_on_document(ctx, kind, row, document_id) if problems else None
        payment = found if problems else result
        if payment and payment.get("PaymentID"):
            ctx.save(
                ENTITY,
                row["payment_key"],
                payment["PaymentID"],
                action="adopted" if found else "created",
                content_hash=str(row["Amount"]),
                status=payment.get("Status", "AUTHORISED"),
                number=row["Date"],
                day=row["day"],
                parent=row[parent_of],
            )
        else:
            ctx.settle(ENTITY, [row["payment_key"]])
            reason = "; ".join(problems) or "no PaymentID returned"
            ctx.note(ENTITY, row["payment_key"], "failed", reason=reason, day=row["day"])
    for row in todo:
        if row["payment_key"] not in answered:
            ctx.note(ENTITY, row["payment_key"], "failed", reason="Xero's answer did not include it", day=row["day"])
