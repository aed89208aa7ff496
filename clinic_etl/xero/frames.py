"""Practice ledger -> Xero documents (pure): contacts, ACCREC invoices with lines, payments.

Everything a mapping or the organisation cannot support (unknown account code, tax type or tracking
option) rejects the invoice with a reason that names the mapping key to fix; the rest goes on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pandas as pd

from clinic_etl.ledger.money import allocate
from clinic_etl.ledger.quarantine import REJECT_COLUMNS, no_rejects
from clinic_etl.mapping import Mapping
from clinic_etl.xero.fields import fitted, one_line
from clinic_etl.xero.lines import inclusive_tax, quantity_price
from clinic_etl.xero.org import XeroOrg

CONTACT_COLUMNS = ["contact_key", "Name", "FirstName", "LastName", "EmailAddress", "content_hash", "day"]
INVOICE_COLUMNS = [
    "invoice_key",
    "day",
    "InvoiceNumber",
    "contact_key",
    "Date",
    "DueDate",
    "Reference",
    "Status",
    "source_status",
    "total",
    "tax_total",
    "LineItems",
    "content_hash",
]
HELD_COLUMNS = ["invoice_key", "day", "status", "total", "tax_total", "InvoiceNumber"]
PAYMENT_COLUMNS = ["payment_key", "invoice_key", "day", "InvoiceNumber", "Date", "Amount", "AccountCode", "Reference"]


class MappingProblem(ValueError):
    pass


def content_hash(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:32]


def contact_name(first: object, last: object, fallback: str) -> str:
    name = " ".join(one_line(p) for p in (first, last) if isinstance(p, str) and one_line(p))
    return name or fallback


def contacts_frame(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Xero contacts (fields cleaned and cut to Xero's limits), and the contacts that cannot be sent, by key."""
    rows, problems = [], {}
    ordered = sorted(contacts.itertuples(index=False), key=lambda c: (len(c.contact_key), c.contact_key))
    for c in ordered:  # the lower id keeps the plain name, deterministically
        element, too_long = fitted(
            "Contact",
            {
                "ContactNumber": c.contact_key,
                "Name": contact_name(c.first_name, c.last_name, c.contact_key),
                "FirstName": (c.first_name or None),
                "LastName": (c.last_name or None),
                "EmailAddress": (c.email or None) if isinstance(c.email, str) else None,
            },
        )
        if too_long:
            problems[c.contact_key] = "; ".join(too_long)
        rows.append({"contact_key": element.pop("ContactNumber"), **element})
    frame = pd.DataFrame(rows, columns=CONTACT_COLUMNS[:-2])
    # The hash covers the source's fields (the plain name), not a disambiguation that depends on which patients
    # a run happens to hold: a day re-run alone after a month's run must find every contact unchanged.
    frame["content_hash"] = [content_hash(r) for r in frame.drop(columns="contact_key").to_dict("records")]
    # Xero contact names are unique: two patients with one name stay two contacts, the later id disambiguated
    seen: set[str] = set()
    names = []
    for name, key in zip(frame["Name"], frame["contact_key"], strict=True):
        names.append(disambiguated(name, key) if name.casefold() in seen else name)
        seen.add(name.casefold())
    frame["Name"] = names
    return frame, problems


def disambiguated(name: str, contact_key: str) -> str:
    suffix = f" ({contact_key.rsplit(':', 1)[-1]})"
    return name[: 255 - len(suffix)] + suffix


def _account(line: dict, invoice: dict, mapping: Mapping, org: XeroOrg) -> str:
    a = mapping.accounts
    candidates = [
        (a.by_item_code.get(line["item_code"] or ""), f"accounts.by_item_code[{line['item_code']!r}]"),
        (
            a.by_practitioner.get(invoice["practitioner_id"] or ""),
            f"accounts.by_practitioner[{invoice['practitioner_id']!r}]",
        ),
        (a.by_business.get(invoice["business_id"] or ""), f"accounts.by_business[{invoice['business_id']!r}]"),
        (a.revenue, "accounts.revenue"),
    ]
    code, where = next((c, w) for c, w in candidates if c)
    if code not in org.accounts:
        raise MappingProblem(f"account code {code!r} ({where} in the mapping) is not an active Xero account")
    return code


def _tax_type(line: dict, mapping: Mapping, org: XeroOrg) -> str:
    t, rate, name = mapping.taxes, line["tax_rate"], line["tax_name"]
    if name and name in t.by_name:
        tax_type, where = t.by_name[name], f"taxes.by_name[{name!r}]"
    elif rate == 0:
        tax_type, where = t.exempt, "taxes.exempt"
    elif rate == t.taxable_rate:
        tax_type, where = t.taxable, "taxes.taxable"
    else:
        raise MappingProblem(f"tax {name!r} at {rate}% has no Xero TaxType: add it under taxes.by_name in the mapping")
    if tax_type not in org.tax_rates:
        raise MappingProblem(f"TaxType {tax_type!r} ({where} in the mapping) is not an active Xero tax rate")
    if org.tax_rates[tax_type] != rate:
        raise MappingProblem(
            f"tax {name!r} is {rate}% but Xero TaxType {tax_type!r} is {org.tax_rates[tax_type]}%"
            f" ({where} in the mapping)"
        )
    return tax_type


def _tracking(invoice: dict, mapping: Mapping, org: XeroOrg) -> list[dict]:
    tracking = []
    for t in mapping.tracking:
        source_id = invoice["business_id"] if t.by == "business" else invoice["practitioner_id"]
        option = t.options.get(source_id or "")
        if option is None:
            raise MappingProblem(f"no option for {t.by} {source_id} under tracking {t.name!r} in the mapping")
        if option not in org.tracking.get(t.name, set()):
            raise MappingProblem(f"tracking {t.name!r} option {option!r} is not active in Xero")
        tracking.append({"Name": t.name, "Option": option})
    return tracking


def _line_items(invoice: dict, lines: list[dict], mapping: Mapping, org: XeroOrg) -> list[dict]:
    amounts = allocate(invoice["total"], [ln["total"] for ln in lines])
    taxes = allocate(invoice["tax_total"], [ln["tax"] for ln in lines])
    tracking = _tracking(invoice, mapping, org)
    items = []
    for line, amount, tax in zip(lines, amounts, taxes, strict=True):
        priced = quantity_price(line["quantity"], line["unit_price"], line["tax_rate"], amount)
        description = line["description"]
        if priced["Quantity"] != line["quantity"]:
            description = f"{description} (x{line['quantity'].normalize()})"
        item = {
            "Description": description[:4000],
            **priced,
            "LineAmount": amount,
            "AccountCode": _account(line, invoice, mapping, org),
            "TaxType": _tax_type(line, mapping, org),
        }
        if tax != inclusive_tax(amount, line["tax_rate"]):
            item["TaxAmount"] = tax
        if tracking:
            item["Tracking"] = tracking
        items.append(item)
    return items


def to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    lines_by_invoice = {
        k: g.sort_values("line_no").to_dict("records") for k, g in ledger["lines"].groupby("invoice_key")
    }
    invoices, problems, held = [], [], []
    wanted = set(mapping.filters.businesses)
    for inv in ledger["invoices"].to_dict("records"):
        if wanted and inv["business_id"] not in wanted:
            continue
        source = inv["invoice_key"].split(":", 1)[0]
        try:
            items = (
                []
                if inv["status"] == "deleted"
                else _line_items(inv, lines_by_invoice.get(inv["invoice_key"], []), mapping, org)
            )
        except MappingProblem as problem:
            problems.append((source, inv["source_id"], inv["day"], str(problem)))
            held.append(inv)
            continue
        issued = date.fromisoformat(inv["issue_date"])
        document, too_long = fitted(
            "Invoice",
            {
                "InvoiceNumber": f"{mapping.invoice_number_prefix}{inv['number']}",
                "contact_key": inv["contact_key"],
                "Date": issued.isoformat(),
                "DueDate": (issued + timedelta(days=mapping.due_days)).isoformat(),
                "Reference": f"{inv['invoice_key'].split(':')[0].title()} invoice {inv['number']}",
                "Status": mapping.invoice_status,
                "LineItems": items,
            },
        )
        if too_long:
            problems.append((source, inv["source_id"], inv["day"], "; ".join(too_long)))
            held.append(inv)
            continue
        invoices.append(
            {
                "invoice_key": inv["invoice_key"],
                "day": inv["day"],
                **document,
                "source_status": inv["status"],
                "total": inv["total"],
                "tax_total": inv["tax_total"],
                "content_hash": content_hash(document),
            }
        )
    invoice_frame = pd.DataFrame(invoices, columns=INVOICE_COLUMNS)
    used = set(invoice_frame["contact_key"])
    contacts, unsendable = contacts_frame(ledger["contacts"][ledger["contacts"]["contact_key"].isin(used)])
    if unsendable:  # an invoice goes only with its contact
        held_back = invoice_frame["contact_key"].isin(list(unsendable))
        problems += [
            (k.split(":", 1)[0], k.rsplit(":", 1)[-1], d, f"contact {c}: {unsendable[c]}")
            for k, d, c in invoice_frame.loc[held_back, ["invoice_key", "day", "contact_key"]].itertuples(index=False)
        ]
        keys = set(invoice_frame.loc[held_back, "invoice_key"])
        held += [i for i in ledger["invoices"].to_dict("records") if i["invoice_key"] in keys]
        invoice_frame = invoice_frame[~held_back].reset_index(drop=True)
        contacts = contacts[~contacts["contact_key"].isin(list(unsendable))].reset_index(drop=True)
    numbers = dict(zip(invoice_frame["invoice_key"], invoice_frame["InvoiceNumber"], strict=True))
    payments = [
        {
            "payment_key": p["payment_key"],
            "invoice_key": p["invoice_key"],
            "day": p["day"],
            "InvoiceNumber": numbers[p["invoice_key"]],
            "Date": p["date"],
            "Amount": p["amount"],
            "AccountCode": mapping.accounts.payments,
            "Reference": f"{p['invoice_key'].split(':')[0].title()} payment",
        }
        for p in ledger["payments"].to_dict("records")
        if p["invoice_key"] in numbers
    ]
    if payments and not org.accepts_payments(mapping.accounts.payments):
        problems += [
            (
                p["invoice_key"].split(":", 1)[0],
                p["invoice_key"].rsplit(":", 1)[-1],
                p["day"],
                f"payments account {mapping.accounts.payments!r} "
                "(accounts.payments in the mapping) is not a Xero bank account or payments-enabled account",
            )
            for p in payments
        ]
        payments = []
    first_day = invoice_frame.groupby("contact_key")["day"].min()
    contacts["day"] = contacts["contact_key"].map(first_day)
    frames = {
        "contacts": contacts,
        "invoices": invoice_frame,
        "payments": pd.DataFrame(payments, columns=PAYMENT_COLUMNS),
        # invoices held back (their reasons are in the rejects): the reconciliation accounts for their money
        "held": pd.DataFrame(
            [{**{c: i[c] for c in HELD_COLUMNS[:-1]}, "InvoiceNumber": None} for i in held], columns=HELD_COLUMNS
        ),
    }
    rejected = pd.DataFrame(
        [{"source": s, "entity": "invoice", "source_id": i, "day": d, "reason": r} for s, i, d, r in problems],
        columns=REJECT_COLUMNS,
    )
    return frames, rejected if problems else no_rejects()
