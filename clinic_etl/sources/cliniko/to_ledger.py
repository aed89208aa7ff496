"""Cliniko raw frames -> the practice ledger (pure: frames in, frames out).

Cliniko has no payments endpoint: an invoice that is Paid (or Closed / Open credit, i.e. settled) becomes a
payment of its total dated on the local date of `closed_at`. A deleted or archived invoice is `deleted`.
An invoice is all or nothing: a bad item, a missing patient or items that do not add up to the invoice
total quarantine the invoice with a reason, and the rest of the day goes on.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.models import LEDGER_MODELS
from clinic_etl.ledger.money import places, to_decimal
from clinic_etl.ledger.quarantine import no_rejects, placed, rejects, validate_rows
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.schemas import PRIVATE, RawInvoice, RawInvoiceItem, RawPatient

SOURCE = "cliniko"
SETTLED = {"20", "30", "40"}  # Paid, Closed, Open credit (over-paid): the total is paid


def key(entity: str, source_id: object) -> str:
    return f"{SOURCE}:{entity}:{source_id}"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHANGES = ("updated_at", "deleted_at", "archived_at")


def day_of(invoice: dict, window: SyncWindow) -> str:
    """The window's day an invoice is synced for: its issue date if in the window, else the local day of its
    latest change, clamped to the window (the first day when the record is too malformed to tell)."""
    issued = invoice.get("issue_date")
    if isinstance(issued, str) and _DATE.match(issued) and window.clamp(issued) == issued:
        return issued
    changed = []
    for column in CHANGES:
        try:
            changed.append(window.local_date(invoice[column]))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return window.clamp(max(changed)) if changed else window.first.isoformat()


def _line(item: pd.Series, line_no: int) -> dict:
    total = to_decimal(item["total_including_tax"])
    quantity = to_decimal(item["quantity"])
    return {
        "line_no": line_no,
        "source_id": item["id"],
        "description": (item["name"] or item["code"] or "Invoice item").strip() or "Invoice item",
        "item_code": item["code"] or None,
        "quantity": quantity,
        "unit_price": to_decimal(item["unit_price"]),
        "tax_rate": to_decimal(item["tax_rate"] or "0"),
        "tax_name": item.get("tax_name") or None,
        "discount": to_decimal(item["discounted_amount"] or "0"),
        "total": total,
        "tax": total - to_decimal(item["net_price"]),
    }


def to_ledger(raw: dict[str, pd.DataFrame], window: SyncWindow) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    invoices, bad_invoices = validate_rows(raw["invoices"], RawInvoice, SOURCE, "invoice")
    items, bad_items = validate_rows(raw["invoice_items"], RawInvoiceItem, SOURCE, "invoice_item", private=PRIVATE)
    patients, bad_patients = validate_rows(raw["patients"], RawPatient, SOURCE, "patient", private=PRIVATE)
    days = {str(r["id"]): day_of(r, window) for r in raw["invoices"].to_dict("records")}
    problems: dict[str, str] = {}
    item_invoice = dict(zip(raw["invoice_items"]["id"], raw["invoice_items"]["invoice_id"], strict=True))
    for row in bad_items.itertuples():
        if (invoice_id := item_invoice.get(row.source_id)) is not None:
            problems[str(invoice_id)] = f"item {row.source_id}: {row.reason}"
    patient_ids = set(patients["id"])
    for row in bad_patients.itertuples():
        for invoice_id in invoices.loc[invoices["patient_id"] == row.source_id, "id"]:
            problems[invoice_id] = f"patient {row.source_id}: {row.reason}"
    items_by_invoice = {k: g.sort_values("id", key=lambda s: s.astype(int)) for k, g in items.groupby("invoice_id")}
    ledger_invoices, lines, payments = [], [], []
    for inv in invoices.itertuples(index=False):
        removed = bool(inv.deleted_at or inv.archived_at)
        total, tax = to_decimal(inv.total_amount), to_decimal(inv.tax_amount)
        invoice_lines = (
            []
            if removed
            else [
                {"invoice_key": key("invoice", inv.id), **_line(item, n)}
                for n, (_, item) in enumerate(items_by_invoice.get(inv.id, pd.DataFrame()).iterrows(), start=1)
            ]
        )
        if inv.id in problems:
            continue
        if inv.patient_id not in patient_ids:
            problems[inv.id] = f"patient {inv.patient_id} was not returned by Cliniko (merged or deleted?)"
        elif not removed and places(total) > 2:
            problems[inv.id] = f"total_amount {total} has more than 2 decimal places"
        elif not removed and not invoice_lines:
            problems[inv.id] = "the invoice has no items"
        elif not removed and (lines_total := sum((ln["total"] for ln in invoice_lines), Decimal(0))) != total:
            problems[inv.id] = f"items add up to {lines_total} but total_amount is {total}"
        if inv.id in problems:
            continue
        status = "deleted" if removed else "paid" if inv.status in SETTLED else "open"
        ledger_invoices.append(
            {
                "invoice_key": key("invoice", inv.id),
                "source_id": inv.id,
                "number": inv.number,
                "issue_date": inv.issue_date,
                "contact_key": key("patient", inv.patient_id),
                "business_id": inv.business_id,
                "practitioner_id": inv.practitioner_id,
                "status": status,
                "day": days[inv.id],
                "total": total,
                "tax_total": tax,
                "url": None,
            }
        )
        lines += invoice_lines
        if status == "paid" and total > 0:
            paid_on = window.local_date(inv.closed_at or inv.updated_at)
            payments.append(
                {
                    "payment_key": key("payment", inv.id),
                    "invoice_key": key("invoice", inv.id),
                    "date": paid_on,
                    "amount": total,
                }
            )
    used = {i["contact_key"] for i in ledger_invoices}
    contacts = [
        {
            "contact_key": key("patient", p.id),
            "source_id": p.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "email": p.email,
        }
        for p in patients.itertuples(index=False)
        if key("patient", p.id) in used
    ]
    frames = {
        "contacts": pd.DataFrame(contacts, columns=list(LEDGER_MODELS["contacts"].to_schema().columns)),
        "invoices": pd.DataFrame(ledger_invoices, columns=list(LEDGER_MODELS["invoices"].to_schema().columns)),
        "lines": pd.DataFrame(lines, columns=list(LEDGER_MODELS["lines"].to_schema().columns)),
        "payments": pd.DataFrame(payments, columns=list(LEDGER_MODELS["payments"].to_schema().columns)),
    }
    frames["lines"]["line_no"] = frames["lines"]["line_no"].astype("int64")
    rejected = pd.concat(
        [
            bad_invoices,
            bad_items,
            bad_patients,
            rejects(SOURCE, "invoice", sorted(problems.items())) if problems else no_rejects(),
        ],
        ignore_index=True,
    )
    by_entity = {
        "invoice": days,
        "invoice_item": {str(item): days.get(str(invoice), "") for item, invoice in item_invoice.items()},
        "patient": {str(r["patient_id"]): days[str(r["id"])] for r in raw["invoices"].to_dict("records")},
    }
    rejected = placed(rejected, by_entity, window.first.isoformat())
    return {name: LEDGER_MODELS[name].validate(df, lazy=True) for name, df in frames.items()}, rejected
