"""Xero-side changes are overwritten: what the reconciliation read back from Xero tells the state store which of its
records Xero no longer holds as the sync left them, so that the next run writes them again.

- A payment (or refund) the store holds as live that is no longer on its document in Xero (deleted there by hand)
  is marked deleted: the next run makes it again.
- An invoice or credit note whose total or tax in Xero differs from the source's (edited there by hand) has its
  content hash forgotten: the next run sends the source's content again (taking its payments off first, as for any
  edit).
Nothing is written to Xero here: the day that found the difference fails its reconciliation, and the next run puts
Xero back. A document voided or deleted in Xero by hand cannot be brought back (Xero refuses): it stays a mismatch
for the finance team.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from clinic_etl.ledger.money import to_decimal
from clinic_etl.store import SyncRecord
from clinic_etl.xero.kinds import CREDIT_NOTE, INVOICE, Kind

DELETED = "DELETED"


def _live_payment_ids(document: dict) -> set[str]:
    return {str(p.get("PaymentID")) for p in document.get("Payments") or [] if p.get("Status", "AUTHORISED") != DELETED}


def _edited(document: dict, total: object, tax: object) -> bool:
    return to_decimal(document.get("Total", 0)) != total or to_decimal(document.get("TotalTax", 0)) != tax


def to_rewrite(
    store, tenant_id: str, kind: Kind, rows: pd.DataFrame, found: list[dict]
) -> tuple[list[SyncRecord], list[str]]:
    """The store records to change so that the next run overwrites Xero, and their keys."""
    if rows is None or rows.empty:
        return [], []
    by_number = {d.get(kind.number_field): d for d in found}
    live = rows[rows["source_status"] != "deleted"]
    keys = list(live[kind.key_column])
    documents = store.get_records(tenant_id, kind.entity, keys)
    payments = store.get_records_by_parent(tenant_id, "payment", keys)
    changes: list[SyncRecord] = []
    for row in live.to_dict("records"):
        document = by_number.get(row[kind.number_field])
        record = documents.get(row[kind.key_column])
        if document is None or record is None or document.get(kind.id_field) != record.xero_id:
            continue
        if document.get("Status") in ("VOIDED", "DELETED"):
            continue  # cannot be brought back
        if record.content_hash is not None and _edited(document, row["total"], row["tax_total"]):
            changes.append(replace(record, content_hash=None))
        on_it = _live_payment_ids(document)
        for payment in payments.values():
            gone = payment.xero_status != DELETED and payment.xero_id and payment.xero_id not in on_it
            if payment.parent_key == row[kind.key_column] and gone:
                changes.append(replace(payment, xero_status=DELETED))
    return changes, [c.source_key for c in changes]


def mark_for_rewrite(
    store, tenant_id: str, documents: dict[str, pd.DataFrame], invoices: list[dict], notes: list[dict]
) -> list[str]:
    """Apply `to_rewrite` for the run's invoices and credit notes; the keys the next run will write again."""
    changes, keys = to_rewrite(store, tenant_id, INVOICE, documents["invoices"], invoices)
    more, more_keys = to_rewrite(store, tenant_id, CREDIT_NOTE, documents.get("credit_notes"), notes)
    if changes or more:
        store.record([*changes, *more])
    return keys + more_keys
