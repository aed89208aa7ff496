"""Creating and updating invoices and credit notes (they share Xero's rules), and their balances.

Internally both keep ``AmountPaid`` (payments, or cash refunds of a credit note), ``AmountCredited``
(credit-note allocations) and ``AmountDue`` (for a credit note this is its ``RemainingCredit``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import contacts, locks
from .catalogue import scoped
from .context import Ctx, new_id, read_date
from .rules import CREATE_STATUSES, build_line, merge_lines, totals, transition_error
from .serialize import dec, money

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EDITABLE = ("Reference", "Url", "BrandingThemeID", "SentToContact")
_LINE_FIELDS = (
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    "LineAmount",
    "DiscountRate",
    "DiscountAmount",
    "Tracking",
)


class Spec:
    def __init__(
        self,
        kind: str,
        label: str,
        id_key: str,
        number_key: str,
        types: tuple[str, ...],
        unique_types: tuple[str, ...],
        prefix: str,
        discount_types: tuple[str, ...],
    ) -> None:
        self.kind, self.label, self.id_key, self.number_key = kind, label, id_key, number_key
        self.types, self.unique_types, self.prefix, self.discount_types = (
            types,
            unique_types,
            prefix,
            discount_types,
        )


INVOICE = Spec(
    "invoice", "Invoice", "InvoiceID", "InvoiceNumber", ("ACCREC", "ACCPAY"), ("ACCREC",), "INV-", ("ACCREC",)
)
CREDIT_NOTE = Spec(
    "creditnote",
    "Credit note",
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    ("ACCRECCREDIT",),
    "CN-",
    (),
)


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def find(ctx: Ctx, spec: Spec, ref: str) -> dict[str, Any] | None:
    """By ID (a GUID), else by number (a live document first)."""
    if is_guid(ref):
        return ctx.tx.get(spec.kind, ctx.tenant, ref.lower())
    matches = ctx.tx.find(spec.kind, ctx.tenant, key1=ref.strip().lower())
    live = [d for d in matches if d["Status"] != "DELETED"]
    return (live or matches or [None])[0]


def store(ctx: Ctx, spec: Spec, doc: dict[str, Any]) -> None:
    number = doc.get(spec.number_key) or ""
    ctx.tx.put(
        spec.kind,
        ctx.tenant,
        doc[spec.id_key],
        doc,
        updated_ms=doc["UpdatedDateUTC"],
        key1=number.lower() or None,
        key2=doc["ContactID"],
    )


def refresh_balance(doc: dict[str, Any], paid_on: str | None = None) -> None:
    """AmountDue from Total, payments and credits; AUTHORISED <-> PAID as the balance reaches zero."""
    if doc["Status"] in ("DELETED", "VOIDED"):
        doc["AmountDue"] = "0.00"
        return
    due = money(dec(doc["Total"]) - dec(doc["AmountPaid"]) - dec(doc["AmountCredited"]))
    doc["AmountDue"] = str(due)
    if doc["Status"] == "AUTHORISED" and due == 0:
        doc["Status"] = "PAID"
        doc["FullyPaidOnDate"] = paid_on or doc["Date"]
    elif doc["Status"] == "PAID" and due != 0:
        doc["Status"] = "AUTHORISED"
        doc.pop("FullyPaidOnDate", None)


def _number_taken(ctx: Ctx, spec: Spec, number: str, except_id: str | None) -> bool:
    return any(
        d[spec.id_key] != except_id and d["Type"] in spec.unique_types and d["Status"] != "DELETED"
        for d in ctx.tx.find(spec.kind, ctx.tenant, key1=number.lower())
    )


def _generate_number(ctx: Ctx, spec: Spec) -> str:
    while True:
        number = f"{spec.prefix}{ctx.tx.next_counter(scoped(ctx.tenant, spec.kind + '-number')):04d}"
        if not _number_taken(ctx, spec, number, None):
            return number


def _default_due(ctx: Ctx, doc_type: str, issued: str) -> str | None:
    terms = ctx.org().get("PaymentTerms", {}).get("Sales" if doc_type.startswith("ACCREC") else "Bills")
    if not terms or "Type" not in terms:
        return None
    day, kind, d = int(terms.get("Day", 0)), terms["Type"], date.fromisoformat(issued)
    month_end = date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    if kind == "DAYSAFTERBILLDATE":
        return (d + timedelta(days=day)).isoformat()
    if kind == "DAYSAFTERBILLMONTH":
        return (month_end + timedelta(days=day)).isoformat()
    nxt = month_end + timedelta(days=1) if kind == "OFFOLLOWINGMONTH" else d.replace(day=1)
    return nxt.replace(day=min(max(day, 1), calendar.monthrange(nxt.year, nxt.month)[1])).isoformat()


def _approval_errors(doc: dict[str, Any], errors: list[str]) -> None:
    if doc["Type"] == "ACCREC" and not doc.get("DueDate"):
        errors.append("The document DueDate field must be specified.")
    if any(dec(line["LineAmount"]) != 0 and not line.get("AccountCode") for line in doc["LineItems"]):
        errors.append("Each line item with an amount must have an account code before the document is approved.")


def _line_signature(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(str(line.get(key)) for key in _LINE_FIELDS) for line in lines]


def save(
    ctx: Ctx, spec: Spec, element: dict[str, Any], errors: list[str], target: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """PUT creates; POST updates the document named by its ID (or by the URL), else creates."""
    ref = element.get(spec.id_key)
    if target is None and ref:
        target = ctx.tx.get(spec.kind, ctx.tenant, ref.lower())
        if target is None and ctx.method == "POST":
            errors.append(f"An existing {spec.label} with the specified {spec.id_key} could not be found")
            return None
        if target is not None and ctx.method == "PUT":
            errors.append(f"{spec.label} {ref} already exists; use POST to update it.")
            return None
    return _update(ctx, spec, target, element, errors) if target else _create(ctx, spec, element, errors)


def _create(ctx: Ctx, spec: Spec, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    doc_type = element.get("Type")
    if not doc_type:
        errors.append(f"{spec.label} Type must be specified.")
    elif doc_type not in spec.types:
        errors.append(f"{spec.label} Type {doc_type} is not valid for this endpoint.")
    status = element.get("Status", "DRAFT")
    if status not in CREATE_STATUSES:
        errors.append(
            f"A new {spec.label.lower()} cannot be created with status {status}; "
            f"use one of {', '.join(CREATE_STATUSES)}."
        )
    contact = contacts.resolve(ctx, element.get("Contact"), errors)
    doc: dict[str, Any] = {
        spec.id_key: new_id(),
        "Type": doc_type or "",
        "Status": status,
        "ContactID": contact["ContactID"] if contact else "",
        "CurrencyCode": ctx.org().get("BaseCurrency", "AUD"),
        "CurrencyRate": "1.000000",
        "SentToContact": False,
        "AmountPaid": "0.00",
        "AmountCredited": "0.00",
        "CreatedDateUTC": ctx.now_ms,
    }
    return _apply(ctx, spec, doc, element, errors, creating=True, contact=contact)


def _update(
    ctx: Ctx, spec: Spec, existing: dict[str, Any], element: dict[str, Any], errors: list[str]
) -> dict[str, Any] | None:
    doc = dict(existing)
    status = element.get("Status", existing["Status"])
    settled = dec(existing["AmountPaid"]) != 0 or dec(existing["AmountCredited"]) != 0
    problem = transition_error(spec.label, existing["Status"], status)
    if status == "VOIDED" and existing["Status"] in ("AUTHORISED", "PAID") and settled:
        problem = (
            f"The status VOIDED cannot be applied to the {spec.label.lower()} because it has "
            "payments or credit notes allocated to it."
        )
    if problem:
        errors.append(problem)
        return None
    contact = None
    if "Contact" in element:
        contact = contacts.resolve(ctx, element["Contact"], errors)
        if contact:
            doc["ContactID"] = contact["ContactID"]
    doc["Status"] = status
    return _apply(ctx, spec, doc, element, errors, creating=False, contact=contact, before=existing)


def _apply(
    ctx: Ctx,
    spec: Spec,
    doc: dict[str, Any],
    element: dict[str, Any],
    errors: list[str],
    *,
    creating: bool,
    contact: dict[str, Any] | None,
    before: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    for key in _EDITABLE:
        if key in element:
            doc[key] = element[key]
    for key in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
        value = read_date(element, key, errors)
        if value:
            doc[key] = value
    doc.setdefault("Date", ctx.today().isoformat())
    if doc.get("Status") not in ("DRAFT", "SUBMITTED", "DELETED", "VOIDED"):
        locks.check(ctx, doc["Date"], errors)
    if "DueDate" not in doc and (due := _default_due(ctx, doc["Type"], doc["Date"])):
        doc["DueDate"] = due
    base = ctx.org().get("BaseCurrency", "AUD")
    if element.get("CurrencyCode", base) != base:
        errors.append(f"Organisation is not subscribed to currency {element['CurrencyCode']}")
    lat = element.get("LineAmountTypes", doc.get("LineAmountTypes", "Exclusive"))
    doc["LineAmountTypes"] = lat
    allow_discount = doc["Type"] in spec.discount_types
    if creating:
        raw_lines = [{k: v for k, v in line.items() if k != "LineItemID"} for line in element.get("LineItems", [])]
        if not raw_lines:
            errors.append(f"{spec.label}s must have at least one line item.")
    elif "LineItems" in element:
        raw_lines = merge_lines(element["LineItems"], before["LineItems"], errors) if before else []
    elif before is not None and before["LineAmountTypes"] != lat:
        raw_lines = merge_lines(
            [{"LineItemID": line["LineItemID"]} for line in before["LineItems"]], before["LineItems"], errors
        )
    else:
        raw_lines = None
    if raw_lines is not None:
        doc["LineItems"] = [
            build_line(ctx, raw, lat, allow_discount=allow_discount, errors=errors) for raw in raw_lines
        ]
    number = element.get(spec.number_key, doc.get(spec.number_key, "")).strip()
    if doc["Type"] in spec.unique_types and number and _number_taken(ctx, spec, number, doc[spec.id_key]):
        errors.append(f"{spec.label} # must be unique.")
    if before is not None:
        paid = dec(before["AmountPaid"]) != 0 or dec(before["AmountCredited"]) != 0
        financial = _line_signature(doc["LineItems"]) != _line_signature(before["LineItems"]) or any(
            doc.get(k) != before.get(k) for k in ("ContactID", "Date", "LineAmountTypes")
        )
        if paid and financial:
            errors.append("This document cannot be edited as it has a payment or credit note allocated to it.")
    if doc["Status"] == "AUTHORISED" and (before is None or before["Status"] != "PAID"):
        _approval_errors(doc, errors)
    doc.update(totals(doc["LineItems"], lat))
    if dec(doc["Total"]) < 0:
        errors.append(f"The {spec.label.lower()} total cannot be negative.")
    if errors:
        return None
    if doc["Type"] in spec.unique_types and not number:
        number = _generate_number(ctx, spec)
    doc[spec.number_key] = number
    doc["UpdatedDateUTC"] = ctx.now_ms
    refresh_balance(doc)
    store(ctx, spec, doc)
    if contact is not None:
        contacts.mark_role(ctx, contact, doc["Type"])
    return doc


def balance_change(
    ctx: Ctx,
    spec: Spec,
    doc: dict[str, Any],
    *,
    paid: Decimal = Decimal(0),
    credited: Decimal = Decimal(0),
    on: str | None = None,
) -> dict[str, Any]:
    """Apply a payment/refund (``paid``) or an allocation (``credited``), possibly negative, and save."""
    doc = dict(doc)
    doc["AmountPaid"] = str(money(dec(doc["AmountPaid"]) + paid))
    doc["AmountCredited"] = str(money(dec(doc["AmountCredited"]) + credited))
    doc["UpdatedDateUTC"] = ctx.now_ms
    refresh_balance(doc, on)
    store(ctx, spec, doc)
    return doc
