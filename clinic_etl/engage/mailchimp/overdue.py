"""Overdue invoices (pure): which of Xero's invoices are this sync's and overdue, by how many days, and the day's list
as metadata (invoice numbers, amounts and days only: never a name or an e-mail)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import dagster as dg

from clinic_etl.store import SyncRecord

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


@dataclass(frozen=True)
class OverdueInvoice:
    invoice_key: str  # the source key the sync map holds it under
    xero_id: str
    number: str
    contact_id: str
    due: date
    amount_due: Decimal

    def days_overdue(self, day: date) -> int:
        return (day - self.due).days


def xero_date(value: object) -> date | None:
    """Xero's `/Date(1552262400000+0000)/` or `2019-03-11T00:00:00` as a date (None if neither)."""
    if not isinstance(value, str):
        return None
    found = _MS_DATE.match(value.strip())
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def amount(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def ours(invoices: list[dict], records: dict[str, list[SyncRecord]]) -> list[OverdueInvoice]:
    """The AUTHORISED ACCREC invoices with money due that this sync created (the sync map holds their number with the
    same InvoiceID), one each."""
    found: dict[str, OverdueInvoice] = {}
    for invoice in invoices:
        number, xero_id = invoice.get("InvoiceNumber") or "", str(invoice.get("InvoiceID") or "")
        due, owed = xero_date(invoice.get("DueDateString") or invoice.get("DueDate")), amount(invoice.get("AmountDue"))
        contact = (invoice.get("Contact") or {}).get("ContactID")
        if invoice.get("Type") != "ACCREC" or invoice.get("Status") != "AUTHORISED" or owed <= 0 or due is None:
            continue
        record = next((r for r in records.get(number, []) if r.xero_id and r.xero_id.lower() == xero_id.lower()), None)
        if record is None or not contact:
            continue
        found[record.source_key] = OverdueInvoice(record.source_key, xero_id, number, str(contact), due, owed)
    return sorted(found.values(), key=lambda i: (i.due, i.number))


def as_of(invoices: list[OverdueInvoice], day: date) -> list[OverdueInvoice]:
    """Those past their DueDate at the end of `day` (due on an earlier day)."""
    return [i for i in invoices if i.due < day]


def overdue_table(invoices: list[OverdueInvoice], day: date, limit: int = 50) -> dg.MetadataValue:
    worst = sorted(invoices, key=lambda i: (-i.days_overdue(day), i.number))[:limit]
    lines = ["| invoice | amount due | days overdue |", "|---|---:|---:|"]
    lines += [f"| {i.number} | {i.amount_due:.2f} | {i.days_overdue(day)} |" for i in worst]
    if len(invoices) > limit:
        lines.append(f"| ... {len(invoices) - limit} more | | |")
    return dg.MetadataValue.md("\n".join(lines))
