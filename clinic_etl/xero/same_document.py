"""Whether a document read back from Xero already says what a planned one says: decides if an invoice found in Xero
after a crash (created by a run that never recorded it) can be taken as it is, or must be updated.

Compared: contact, dates, reference, status, and per line description, account, tax type, amount, quantity, unit
price and tracking, amounts as Decimal (Xero answers `85.0` for `85.00`). Anything Xero did not return (a list read
without line items) counts as different: an update that changes nothing is harmless, a stale invoice is not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

_LINE_TEXT = ("Description", "AccountCode", "TaxType")
_LINE_MONEY = ("LineAmount", "Quantity", "UnitAmount")


def _number(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return None


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def xero_day(document: dict, field: str = "Date") -> str | None:
    """A date field of a Xero answer as `YYYY-MM-DD`: from `<field>String` when given, else from the field itself,
    ISO or Microsoft JSON (`/Date(1552262400000+0000)/`, the UTC midnight of the day)."""
    text = str(document.get(f"{field}String") or document.get(field) or "")
    if match := _MS_DATE.match(text):
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date().isoformat()
    return text[:10] or None


def _tracking(line: dict) -> list[tuple[str, str]]:
    return sorted((str(t.get("Name")), str(t.get("Option"))) for t in line.get("Tracking") or [])


def _line(line: dict) -> tuple:
    return (
        *(line.get(f) or "" for f in _LINE_TEXT),
        *(_number(line.get(f)) for f in _LINE_MONEY),
        _tracking(line),
    )


def same_invoice(found: dict, planned: dict, contact_id: str) -> bool:
    """`found`: the invoice as Xero returns it; `planned`: the element the loader would send."""
    if (found.get("Contact") or {}).get("ContactID") != contact_id:
        return False
    # PAID is an AUTHORISED document its payments settle: the payments are compared on their own (load_payments)
    status = "AUTHORISED" if found.get("Status") == "PAID" else found.get("Status")
    if (found.get("Reference") or "") != (planned.get("Reference") or "") or status != planned.get("Status"):
        return False
    if any(xero_day(found, f) != planned.get(f) for f in ("Date", "DueDate")):
        return False
    lines = found.get("LineItems")
    if not lines:
        return False
    return [_line(li) for li in lines] == [_line(li) for li in planned["LineItems"]]
