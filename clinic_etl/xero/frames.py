"""Practice ledger -> Xero documents (pure): contacts, ACCREC invoices with lines, payments.

Everything a mapping or the organisation cannot support (unknown account code, tax type or tracking
option) rejects the invoice with a reason that names the mapping key to fix; the rest goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from clinic_etl.ledger.models import complete
from clinic_etl.ledger.money import allocate
from clinic_etl.ledger.quarantine import REJECT_COLUMNS, no_rejects
from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Mapping
from clinic_etl.xero.credit_frames import credit_note_frames
from clinic_etl.xero.fields import fitted, limits, one_line
from clinic_etl.xero.lines import inclusive_tax, quantity_price
from clinic_etl.xero.lock_dates import MOVED_COLUMNS, placed
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


# json.dumps(document, sort_keys=True, default=str), without building an encoder per document
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


def content_hash(document: dict) -> str:
    return hashlib.sha256(_CANONICAL.encode(document).encode()).hexdigest()[:32]


def clean(text: str) -> bool:
    """True when `one_line(text) == text` (no control character, line break, lone surrogate or other space than
    " ", no run of spaces, none at either end), found without the regular expressions."""
    return text.isprintable() and "  " not in text and text[:1] != " " != text[-1:]


def _one_line(text: str) -> str:
    return text if clean(text) else one_line(text)


def _fitted(schema: str, element: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`fitted(schema, element)`: the element as it is (a copy) when every string the schema bounds is already one
    clean line within its bound and no nested element is bounded, else `fitted` itself."""
    bounds = limits().get(schema, {})
    for name, value in element.items():
        bound = bounds.get(name)
        if bound is None:
            continue
        if not (isinstance(bound, int) and isinstance(value, str) and len(value) <= bound and clean(value)):
            if isinstance(bound, int) and not isinstance(value, str):
                continue  # fitted leaves a non-string as it is
            return fitted(schema, element)
    return dict(element), []


def contact_name(first: object, last: object, fallback: str) -> str:
    name = " ".join(_one_line(p) for p in (first, last) if isinstance(p, str) and _one_line(p))
    return name or fallback


def contacts_frame(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Xero contacts (fields cleaned and cut to Xero's limits), and the contacts that cannot be sent, by key."""
    rows, problems = [], {}
    ordered = sorted(contacts.itertuples(index=False), key=lambda c: (len(c.contact_key), c.contact_key))
    for c in ordered:  # the lower id keeps the plain name, deterministically
        element, too_long = _fitted(
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


class _Rules:
    """The mapping's and the organisation's answers for one run, each worked out once per distinct question (an
    account per item code, practitioner and business; a tax type per tax name and rate; tracking per business and
    practitioner; a line's price form per quantity, price, rate and amount) rather than once per line."""

    def __init__(self, mapping: Mapping, org: XeroOrg) -> None:
        self.mapping, self.org = mapping, org
        self._accounts: dict[tuple, str | MappingProblem] = {}
        self._tax_types: dict[tuple, str] = {}
        self._tracking: dict[tuple, list[dict] | MappingProblem] = {}
        self._prices: dict[tuple, Decimal | None] = {}

    @staticmethod
    def _answer(found: object) -> Any:
        if isinstance(found, MappingProblem):
            raise MappingProblem(*found.args)
        return found

    def account(self, item_code: object, invoice: dict) -> str:
        key = (item_code, invoice["practitioner_id"], invoice["business_id"])
        if key not in self._accounts:
            try:
                self._accounts[key] = _account({"item_code": item_code}, invoice, self.mapping, self.org)
            except MappingProblem as problem:
                self._accounts[key] = problem
        return self._answer(self._accounts[key])

    def tax_type(self, name: object, rate: Decimal) -> str:
        key = (name, rate)  # by value: a refusal quotes the rate as written, so only answers are kept
        found = self._tax_types.get(key)
        if found is None:
            found = _tax_type({"tax_name": name, "tax_rate": rate}, self.mapping, self.org)
            self._tax_types[key] = found
        return found

    def tracking(self, invoice: dict) -> list[dict]:
        key = (invoice["business_id"], invoice["practitioner_id"])
        if key not in self._tracking:
            try:
                self._tracking[key] = _tracking(invoice, self.mapping, self.org)
            except MappingProblem as problem:
                self._tracking[key] = problem
        return self._answer(self._tracking[key])

    def priced(self, quantity: Decimal, unit: Decimal, rate: Decimal, amount: Decimal) -> dict[str, Decimal]:
        """`quantity_price`, whose branch and normalised UnitAmount depend on the values only; the Decimals it
        returns as they are (Quantity, the amount) are this line's own, and a discounted line (its DiscountAmount
        keeps the inputs' exponents) or a zero price (the sign of a zero) is worked out in full."""
        if not unit:
            return quantity_price(quantity, unit, rate, amount)
        key = (quantity, unit, rate, amount)
        if key in self._prices:
            same = self._prices[key]
            if same is None:
                return {"Quantity": Decimal(1), "UnitAmount": amount}
            if same is not _DISCOUNTED:
                return {"Quantity": quantity, "UnitAmount": same}
            return quantity_price(quantity, unit, rate, amount)
        priced = quantity_price(quantity, unit, rate, amount)
        if "DiscountAmount" in priced:
            self._prices[key] = _DISCOUNTED
        elif priced["Quantity"] is quantity:
            self._prices[key] = priced["UnitAmount"]
        else:
            self._prices[key] = None
        return priced


_DISCOUNTED = Decimal("NaN")  # a marker in _Rules._prices: work the line out in full
LINE_FIELDS = ("invoice_key", "description", "quantity", "unit_price", "tax_rate", "tax_name", "item_code", "total")


def _line_items(invoice: dict, lines: list[int], columns: dict[str, list], rules: _Rules) -> list[dict]:
    """The invoice's Xero line items; `lines` are its lines' positions in `columns` (the ledger's lines, a list per
    field), in line_no order."""
    amounts = allocate(invoice["total"], [columns["total"][n] for n in lines])
    taxes = allocate(invoice["tax_total"], [columns["tax"][n] for n in lines])
    tracking = rules.tracking(invoice)
    items = []
    for n, amount, tax in zip(lines, amounts, taxes, strict=True):
        quantity, rate = columns["quantity"][n], columns["tax_rate"][n]
        priced = rules.priced(quantity, columns["unit_price"][n], rate, amount)
        description = columns["description"][n]
        if priced["Quantity"] != quantity:
            description = f"{description} (x{quantity.normalize()})"
        item = {
            "Description": description[:4000],
            **priced,
            "LineAmount": amount,
            "AccountCode": rules.account(columns["item_code"][n], invoice),
            "TaxType": rules.tax_type(columns["tax_name"][n], rate),
        }
        if tax != (inclusive_tax(amount, rate) if rate else ZERO_TAX):
            item["TaxAmount"] = tax
        if tracking:
            item["Tracking"] = tracking
        items.append(item)
    return items


ZERO_TAX = Decimal("0.00")  # inclusive_tax at a 0 % rate


def _records(frame: pd.DataFrame) -> Iterator[dict]:
    """`frame.to_dict("records")`, one record at a time (a million records are never all held as dicts)."""
    names = list(frame.columns)
    for values in zip(*(frame[name].tolist() for name in names), strict=True):
        yield dict(zip(names, values, strict=True))


def _fitted_invoice(document: dict) -> tuple[dict, list[str]]:
    """`fitted("Invoice", document)` for a document whose LineItems come last: a line item holding no field that
    Xero's schema bounds (`limits()["LineItem"]`) comes out of `fitted` unchanged, so it is kept as it is."""
    items = document.pop("LineItems")
    fitted_document, problems = _fitted("Invoice", document)
    bounded = limits().get("LineItem", {}).keys()
    kept = []
    for item in items:
        if bounded and not bounded.isdisjoint(item):
            item, inner = fitted("LineItem", item)
            problems += inner
        kept.append(item)
    fitted_document["LineItems"] = kept
    return fitted_document, problems


def payment_reference(payment_key: str) -> str:
    """`clio:allocation:88` -> `Clio payment 88`: shown in Xero, and how a payment is found again on its invoice."""
    source, _, rest = payment_key.partition(":")
    return f"{source.title()} payment {rest.split(':', 1)[-1]}"


def to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    ledger = apply_rules(complete(ledger), mapping.rules, mapping.filters)  # credit notes may be left out
    # one sort and one pass over the lines (not a frame per invoice): each invoice's line positions, in line order
    lines = ledger["lines"].sort_values("line_no", kind="stable")
    columns = {field: lines[field].tolist() for field in (*LINE_FIELDS, "tax")}
    lines_by_invoice: dict[str, list[int]] = {}
    for n, key in enumerate(columns["invoice_key"]):
        lines_by_invoice.setdefault(key, []).append(n)
    rules = _Rules(mapping, org)
    invoices: dict[str, list] = {column: [] for column in INVOICE_COLUMNS}
    problems, held = [], []
    moved: list[dict] = []  # dated in Xero's locked period, moved to the first open day (rules.locked_period: move)
    for inv in _records(ledger["invoices"]):
        source = inv["invoice_key"].split(":", 1)[0]
        try:
            items = (
                []
                if inv["status"] == "deleted"
                else _line_items(inv, lines_by_invoice.get(inv["invoice_key"], []), columns, rules)
            )
        except MappingProblem as problem:
            problems.append((source, inv["source_id"], inv["day"], str(problem)))
            held.append(inv)
            continue
        issued = date.fromisoformat(inv["issue_date"])
        if inv["status"] != "deleted":
            on, locked = placed(issued.isoformat(), org.lock_date, mapping.rules.locked_period)
            if locked:
                problems.append((source, inv["source_id"], inv["day"], locked))
                held.append(inv)
                continue
            if on != issued.isoformat():
                moved.append({"key": inv["invoice_key"], "day": inv["day"], "from": issued.isoformat(), "to": on})
                issued = date.fromisoformat(on)
        document, too_long = _fitted_invoice(
            {
                "InvoiceNumber": f"{mapping.invoice_number_prefix}{inv['number']}",
                "contact_key": inv["contact_key"],
                "Date": issued.isoformat(),
                "DueDate": (issued + timedelta(days=mapping.due_days)).isoformat(),
                "Reference": f"{inv['invoice_key'].split(':')[0].title()} invoice {inv['number']}",
                "Status": "DRAFT" if inv["status"] == "draft" else mapping.invoice_status,  # never approved early
                "LineItems": items,
            },
        )
        if too_long:
            problems.append((source, inv["source_id"], inv["day"], "; ".join(too_long)))
            held.append(inv)
            continue
        row = {
            "invoice_key": inv["invoice_key"],
            "day": inv["day"],
            **document,
            "source_status": inv["status"],
            "total": inv["total"],
            "tax_total": inv["tax_total"],
            "content_hash": content_hash(document),
        }
        for column in INVOICE_COLUMNS:  # a list per column, not a dict per invoice kept until the frame is made
            invoices[column].append(row[column])
    invoice_frame = pd.DataFrame(invoices if invoices["invoice_key"] else [], columns=INVOICE_COLUMNS)
    credit, credit_problems = credit_note_frames(ledger, mapping, org, content_hash, moved)
    used = set(invoice_frame["contact_key"]) | set(credit["credit_notes"]["contact_key"])
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
            "Reference": payment_reference(p["payment_key"]),
        }
        for p in ledger["payments"].to_dict("records")
        if p["invoice_key"] in numbers
    ]
    held_payments: list[dict] = []
    for p in list(payments):  # a payment dated in the locked period: moved, or held back with its reason
        on, locked = placed(p["Date"], org.lock_date, mapping.rules.locked_period)
        if locked:
            source, _, source_id = p["invoice_key"].split(":", 2)
            problems.append((source, source_id, p["day"], f"its payment {p['payment_key']} is {locked}"))
            payments.remove(p)
            held_payments.append(p)
        elif on != p["Date"]:
            moved.append({"key": p["payment_key"], "day": p["day"], "from": p["Date"], "to": on})
            p["Date"] = on
    if not mapping.rules.sync_payments:  # rules.sync_payments: false: neither written nor taken off
        payments, held_payments = [], payments
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
        payments, held_payments = [], payments
    if unsendable:  # a credit note goes only with its contact, and its allocations and refunds with it
        notes = credit["credit_notes"]
        gone = notes["contact_key"].isin(list(unsendable))
        credit_problems += [
            (k.split(":", 1)[0], "credit_note", k.rsplit(":", 1)[-1], d, f"contact {c}: {unsendable[c]}")
            for k, d, c in notes.loc[gone, ["credit_note_key", "day", "contact_key"]].itertuples(index=False)
        ]
        credit = {
            name: frame[~frame["credit_note_key"].isin(notes.loc[gone, "credit_note_key"])]
            for name, frame in credit.items()
        }
    documents = pd.concat([invoice_frame[["contact_key", "day"]], credit["credit_notes"][["contact_key", "day"]]])
    firsts = documents.sort_values("day", kind="stable").drop_duplicates("contact_key")  # each one's first day
    contacts["day"] = contacts["contact_key"].map(pd.Series(firsts["day"].to_numpy(), index=firsts["contact_key"]))
    held_payments_frame = pd.DataFrame(held_payments, columns=PAYMENT_COLUMNS)
    held_payments_frame.attrs["all"] = not mapping.rules.sync_payments  # hands off every payment in Xero
    frames = {
        "contacts": contacts,
        "invoices": invoice_frame,
        "payments": pd.DataFrame(payments, columns=PAYMENT_COLUMNS),
        # payments held back (their reasons are in the rejects): left as they are in Xero, neither made nor reversed
        "held_payments": held_payments_frame,
        "excluded": ledger["excluded"],  # kept out by a named rule: the source's own and the mapping's
        "moved": pd.DataFrame(moved, columns=MOVED_COLUMNS),  # dated on the first open day past Xero's lock date
        **credit,
        # invoices held back (their reasons are in the rejects): the reconciliation accounts for their money
        "held": pd.DataFrame(
            [{**{c: i[c] for c in HELD_COLUMNS[:-1]}, "InvoiceNumber": None} for i in held], columns=HELD_COLUMNS
        ),
    }
    problems = [(s, "invoice", i, d, r) for s, i, d, r in problems] + credit_problems
    rejected = pd.DataFrame(
        [{"source": s, "entity": e, "source_id": i, "day": d, "reason": r} for s, e, i, d, r in problems],
        columns=REJECT_COLUMNS,
    )
    return frames, rejected if problems else no_rejects()
