"""Practice ledger -> Xero documents (pure): contacts, ACCREC invoices with lines, payments.

Everything a mapping or the organisation cannot support (unknown account code, tax type or tracking
option) rejects the invoice with a reason that names the mapping key to fix; the rest goes on.

The ledger is worked on by columns (a million lines in a few seconds). A line item is worked out once per distinct
line (its text, its amounts as written, its account and tracking) by the same code as one line at a time; each
invoice's total and tax, in integer cents, are spread over its lines' rounded cents as `allocate` spreads them
(largest remainder first), and a line given a cent more or less gets its own item. An invoice that needs more (a
mapping problem, a total with a fraction of a cent, a value of another kind) goes through `_line_items`, one invoice
at a time, as before. Documents, their JSON and content hashes are put together a column at a time. Both paths give
the same documents and hashes (clinic_etl_tests/unit/test_bulk_transform.py holds them to it).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import operator
import sys
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from clinic_etl.ledger.models import complete
from clinic_etl.ledger.money import allocate, first_positions, rounded_cents, whole_cents, written_rows
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


# What _CANONICAL writes for a str (ensure_ascii): a document's JSON is put together from its fields' own JSON.
_ENCODE = json.encoder.encode_basestring_ascii


def _json_texts(values: list) -> list[str]:
    """Each value as `_CANONICAL` writes it inside a document."""
    try:
        return list(map(_ENCODE, values))  # all str (the usual case)
    except TypeError:
        return _json_each(values)


def _json_each(values: list) -> list[str]:
    return [_ENCODE(v) if isinstance(v, str) else "null" if v is None else _CANONICAL.encode(v) for v in values]


def _json_form(values: list) -> tuple[str, list]:
    """How a document's JSON takes a column of values: `"%s"` and the values themselves when each is a str that
    JSON writes as it is, between quotes (printable ASCII but a quote or a backslash: the usual case, checked on
    the values joined), else `%s` and each value's JSON."""
    try:
        joined = "".join(values)
    except TypeError:  # not all str (a missing e-mail)
        return "%s", _json_each(values)
    return ('"%s"', values) if _only(joined, _PLAIN_JSON) else ("%s", _json_texts(values))


def _json_documents(fields: dict[str, list]) -> Iterator[str]:
    """The JSON `_CANONICAL` writes for each document whose fields are `fields` (a list per key, each already JSON
    where `fields` names it with a trailing "[]": the items inside a list)."""
    forms, values = [], []
    for key in sorted(fields, key=lambda k: k.removesuffix("[]")):
        if key.endswith("[]"):
            form, column = "[%s]", fields[key]
        else:
            form, column = _json_form(fields[key])
        forms.append(f"{_ENCODE(key.removesuffix('[]'))}: {form}")
        values.append(column)
    return map(("{" + ", ".join(forms) + "}").__mod__, zip(*values, strict=True))


_DIGEST, _FIRST_HALF = operator.methodcaller("digest"), operator.itemgetter(slice(16))


def _hashes(documents: Iterable[str]) -> list[str]:
    """`content_hash` of each document given as its JSON (what `_CANONICAL` writes), in C calls only."""
    return list(map(bytes.hex, map(_FIRST_HALF, map(_DIGEST, map(hashlib.sha256, map(str.encode, documents))))))


def _frame_of(columns: dict[str, list], names: list[str]) -> pd.DataFrame:
    """`pd.DataFrame(columns, columns=names)`, a list per column (taken out of `columns`): a column of only str,
    only Decimals or only lists (what pandas keeps as objects) is handed over as an object array, which pandas takes
    without looking at every value again."""
    arrays: dict[str, Any] = {}
    for name in names:
        values = columns.pop(name)  # each list let go of once it is an array
        array = np.fromiter(values, dtype=object, count=len(values))
        kept = pd.api.types.infer_dtype(array, skipna=False) in ("string", "decimal") or all(
            map(list.__instancecheck__, values)
        )
        arrays[name] = array if kept and len(values) else values
    return pd.DataFrame(arrays, columns=names)


_PRINTABLE = bytes(range(0x20, 0x7F))  # the printable ASCII characters
_PLAIN_JSON = bytes(c for c in _PRINTABLE if c not in b'"\\')  # those JSON writes as they are inside a string


def _only(text: str, allowed: bytes) -> bool:
    """True when `text` holds only the ASCII characters `allowed` (a scan in C)."""
    return text.isascii() and not text.encode("ascii").translate(None, allowed)


def _fits(values: list, bound: int) -> np.ndarray | None:
    """None when `fitted` leaves every value as it is: each a str that `clean` accepts, at most `bound` characters
    long, or no str at all; else, per value, whether it does. The usual answer (None) is found on the texts joined,
    in C: with "\x00" between them, no text's spaces can meet another's."""
    texts = values
    if not all(map(str.__instancecheck__, values)):
        texts = [v for v in values if isinstance(v, str)]
    joined = "\x00".join(texts)
    if (
        joined.count("\x00") == len(texts) - 1  # every "\x00" is a separator (none is printable)
        and (_only(joined, _PRINTABLE + b"\x00") or "".join(texts).isprintable())
        and "  " not in joined
        and "\x00 " not in joined
        and " \x00" not in joined
        and joined[:1] != " " != joined[-1:]
        and max(map(len, texts), default=0) <= bound
    ):
        return None
    return np.fromiter((not isinstance(v, str) or (len(v) <= bound and clean(v)) for v in values), bool, len(values))


def _unfitted(element: dict[str, list], schema: str) -> np.ndarray | None:
    """Which rows of `element` (a list per field) `_fitted(schema, ...)` would change or refuse (None: none)."""
    bounds = limits().get(schema, {})
    out = None
    for name, values in element.items():
        bound = bounds.get(name)
        if isinstance(bound, int):
            ok = _fits(values, bound)
            if ok is not None:
                out = ~ok if out is None else out | ~ok
        elif bound is not None and any(isinstance(v, dict | list) for v in values):
            return np.ones(len(values), dtype=bool)  # a nested element: `_fitted` looks at every row
    return out


def _one_lines(values: list) -> list[str]:
    """`_one_line` of every str of `values`, "" for anything else."""
    ok = _fits(values, sys.maxsize)
    if ok is None and all(map(str.__instancecheck__, values)):
        return values
    return [(v if ok is None or ok[n] else one_line(v)) if isinstance(v, str) else "" for n, v in enumerate(values)]


def _contacts_in_order(contacts: pd.DataFrame) -> np.ndarray:
    """Positions of `contacts` by (length, contact_key), ties in frame order (as `sorted` gives them)."""
    keys = contacts["contact_key"].to_numpy(dtype=object)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    ranks = pd.factorize(keys, sort=True)[0]  # the keys' order as str compare
    return np.lexsort((ranks, lengths))


def contacts_frame(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Xero contacts (fields cleaned and cut to Xero's limits), and the contacts that cannot be sent, by key."""
    if contacts.empty or pd.api.types.infer_dtype(contacts["contact_key"], skipna=False) != "string":
        return _contacts_frame_rows(contacts)
    order = _contacts_in_order(contacts)  # the lower id keeps the plain name, deterministically
    keys, first, last, email = (
        contacts[c].to_numpy(dtype=object)[order].tolist() for c in ("contact_key", "first_name", "last_name", "email")
    )
    names = [
        f"{a} {b}" if a and b else a or b or key
        for a, b, key in zip(_one_lines(first), _one_lines(last), keys, strict=True)
    ]  # contact_name, a column at a time
    element = {
        "ContactNumber": keys,
        "Name": names,
        "FirstName": [v or None for v in first],
        "LastName": [v or None for v in last],
        "EmailAddress": [(v or None) if isinstance(v, str) else None for v in email],
    }
    problems = {}
    unfitted = _unfitted(element, "Contact")
    for n in [] if unfitted is None else np.flatnonzero(unfitted).tolist():  # `_fitted` where it changes something
        fitted_row, too_long = _fitted("Contact", {name: values[n] for name, values in element.items()})
        if too_long:
            problems[keys[n]] = "; ".join(too_long)
        for name, values in element.items():
            if values is keys:
                element[name] = values = list(keys)
            values[n] = fitted_row[name]
    frame = _frame_of({"contact_key": element.pop("ContactNumber"), **element}, CONTACT_COLUMNS[:-2])
    # The hash covers the source's fields (the plain name), not a disambiguation that depends on which patients
    # a run happens to hold: a day re-run alone after a month's run must find every contact unchanged.
    frame["content_hash"] = _hashes(
        _json_documents({c: frame[c].tolist() for c in ("Name", "FirstName", "LastName", "EmailAddress")})
    )
    # Xero contact names are unique: two patients with one name stay two contacts, the later id disambiguated
    names, numbers = frame["Name"].tolist(), frame["contact_key"].tolist()
    again = pd.Series(list(map(str.casefold, names)), dtype=object).duplicated().to_numpy()
    for n in np.flatnonzero(again).tolist():
        names[n] = disambiguated(names[n], numbers[n])
    frame["Name"] = names
    return frame, problems


def _contacts_frame_rows(contacts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """`contacts_frame` one contact at a time (no contact, or keys that are not all str)."""
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
    frame["content_hash"] = [content_hash(r) for r in frame.drop(columns="contact_key").to_dict("records")]
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


def _fitted_items(items: list[dict]) -> tuple[list[dict], list[str]]:
    """A document's line items as `fitted("Invoice", ...)` leaves them: a line item holding no field that Xero's
    schema bounds (`limits()["LineItem"]`) comes out of `fitted` unchanged, so it is kept as it is."""
    bounded = limits().get("LineItem", {}).keys()
    kept, problems = [], []
    for item in items:
        if bounded and not bounded.isdisjoint(item):
            item, inner = fitted("LineItem", item)
            problems += inner
        kept.append(item)
    return kept, problems


def _fitted_invoice(document: dict) -> tuple[dict, list[str]]:
    """`fitted("Invoice", document)` for a document whose LineItems come last."""
    items = document.pop("LineItems")
    fitted_document, problems = _fitted("Invoice", document)
    fitted_document["LineItems"], inner = _fitted_items(items)
    return fitted_document, problems + inner


AMOUNT_FIELDS = ("quantity", "unit_price", "tax_rate", "total", "tax")


def _text_codes(values: np.ndarray, none: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes of `values` (an object array: str, and None where `none`), and which values are of another kind (each
    given a code of its own: the exact path takes their invoices). Equal codes, equal values."""
    codes, _ = pd.factorize(values)  # a missing value (None, NaN) -> -1
    missing = np.flatnonzero(codes < 0)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # only the missing may be odd
        other = np.zeros(len(values), dtype=bool)
        other[missing] = [not none or values[n] is not None for n in missing.tolist()]
    else:
        other = np.array([not (isinstance(v, str) or (none and v is None)) for v in values], dtype=bool)
    top = int(codes.max(initial=-1)) + 1
    codes[missing] = top  # None
    if other.any():
        codes[other] = top + 1 + np.arange(int(other.sum()))
    return codes, other


def _combined(*codes: np.ndarray) -> np.ndarray:
    """One code per row for the rows' tuples of `codes` (ints), numbered in order of appearance."""
    out = pd.factorize(codes[0])[0]
    for more in codes[1:]:
        if len(more) and (more.min() < 0 or more.max() >= len(more)):
            more = pd.factorize(more)[0]
        out = pd.factorize(out.astype(np.int64) * (int(more.max(initial=0)) + 1) + more)[0]
    return out


def _sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The sum of `values[starts[i]:ends[i]]` for every i (int64, exact)."""
    running = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
    return running[ends] - running[starts]


def _in_cents(amount: int) -> Decimal:
    """An amount of cents as `allocate` leaves it: 2 decimal places (a zero it reaches by a spread cent is 0.00)."""
    return Decimal(amount).scaleb(-2)


def _ranks(values: list[Decimal | None]) -> np.ndarray:
    """Each value's rank among `values` (equal values one rank; None: 0)."""
    order = {v: n for n, v in enumerate(sorted({v for v in values if v is not None}))}
    return np.array([0 if v is None else order[v] for v in values], dtype=np.int64)


def _spread(owner: np.ndarray, ranks: np.ndarray, residual: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """What `allocate` adds to each rounded part (in cents) so that its invoice's parts add up: `residual[i]` cents
    over invoice i's lines (`owner`: each line's invoice, lines grouped by invoice), a cent each to the lines of the
    largest remainder first (`ranks`; ties: the earlier line), round after round."""
    added = np.zeros(len(owner), dtype=np.int64)
    residual_of = residual[owner]
    lines = np.flatnonzero(residual_of != 0)
    if not len(lines):
        return added
    sign = np.sign(residual_of[lines])
    lines = lines[np.lexsort((lines, -ranks[lines] * sign, owner[lines]))]
    sign, invoice = np.sign(residual_of[lines]), owner[lines]
    first = np.concatenate(([True], invoice[1:] != invoice[:-1]))
    rank = np.arange(len(lines)) - np.maximum.accumulate(np.where(first, np.arange(len(lines)), 0))
    size, wanted = counts[invoice], np.abs(residual[invoice])
    added[lines] = sign * (wanted // size + (rank < wanted % size))
    return added


class _Items:
    """Every invoice's line items at once: per invoice (in the ledger's order), its items as its document holds them
    (`fitted`), their JSON (the inside of the document's `[...]`: `texts`), the problems of fitting them, or the
    mapping problem that holds it back. What `_line_items` and `_fitted_invoice` give, invoice by invoice."""

    def __init__(self, invoices: pd.DataFrame, lines: pd.DataFrame, rules: _Rules) -> None:
        n = len(invoices)
        self.items: list[list[dict] | None] = [None] * n
        # an invoice's items' JSON: flat[text_start[i]:text_end[i]] joined by ", " (an item's JSON, or an invoice's)
        self.flat: list[str] = []
        self.text_start = np.zeros(n, dtype=np.int64)
        self.text_end = np.zeros(n, dtype=np.int64)
        self.fitting: dict[int, list[str]] = {}  # invoice position -> its line items' fitting problems
        self.refused: dict[int, MappingProblem] = {}  # invoice position -> why it is held back
        self.rules = rules
        self.invoices = {c: invoices[c].to_numpy(dtype=object) for c in invoices.columns}
        if not n:  # no invoice (its frame may lack columns); the lines' own are read as one invoice at a time would
            lines.sort_values("line_no")[[*LINE_FIELDS, "tax"]]
            return
        live = self.invoices["status"] != "deleted"
        keys = pd.Index(self.invoices["invoice_key"])
        if not keys.is_unique:  # two invoices of one key: each takes every line of the key, one at a time
            self._by_key(lines, live)
        else:
            self._by_invoice(keys, lines, live)
        for i in np.flatnonzero(~live).tolist():  # deleted: no line
            self._made(i, [], "")

    def _by_invoice(self, keys: pd.Index, lines: pd.DataFrame, live: np.ndarray) -> None:
        # the lines in invoice order, each invoice's in line_no order (ties: ledger order), as one sort gives them
        owners = keys.get_indexer(lines["invoice_key"].to_numpy(dtype=object))
        by_number = lines["line_no"].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
        owners = owners[by_number]
        taken = owners >= 0
        taken[taken] = live[owners[taken]]
        order, owners = by_number[taken], owners[taken]
        regroup = np.argsort(owners, kind="stable")
        self.order, self.owner = order[regroup], owners[regroup]
        counts = np.bincount(self.owner, minlength=len(keys))
        ends = np.cumsum(counts)
        starts = ends - counts
        self.lines, self.starts, self.ends = lines, starts, ends
        fast = live & self._line_sums(self.owner, starts, ends)
        self._fast(fast, counts)
        self._exact(np.flatnonzero(live & ~fast))

    def _made(self, i: int, items: list[dict], text: str) -> None:
        self.items[i] = items
        self.text_start[i] = len(self.flat)
        self.flat.append(text)
        self.text_end[i] = len(self.flat)

    def texts(self, which: list[int]) -> list[str]:
        """The items' JSON of the invoices `which`."""
        flat = self.flat
        spans = zip(self.text_start[which].tolist(), self.text_end[which].tolist(), strict=True)
        return [flat[a] if b - a == 1 else ", ".join(flat[a:b]) for a, b in spans]

    def field(self, name: str) -> np.ndarray:
        """A line field, in `order`."""
        return self.lines[name].to_numpy(dtype=object)[self.order]

    def _line_sums(self, owner: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Works out each distinct line's item (`codes`, `templates`, `fragments`: per line, its item and JSON), and
        returns which invoices take them as they are: no mapping problem, no value of another kind, and a total and
        tax in whole cents, over which `allocate`'s spread of the rounded lines (largest remainder first) is worked
        out here in integer cents."""
        rules, mapping = self.rules, self.rules.mapping
        n = len(starts)
        amount_codes, amounts = written_rows([self.field(name) for name in AMOUNT_FIELDS])
        other = np.array([w is None for w in amounts], dtype=bool)[amount_codes]
        descriptions, tax_names, item_codes = (self.field(c) for c in ("description", "tax_name", "item_code"))
        description_codes, odd = _text_codes(descriptions, none=False)
        other |= odd
        name_codes, odd = _text_codes(tax_names, none=True)
        other |= odd
        item_code_codes, odd_item_codes = _text_codes(item_codes, none=True)
        other |= odd_item_codes
        # the invoice's practitioner and business, where the mapping's accounts or tracking depend on them
        practitioners, businesses = self.invoices["practitioner_id"], self.invoices["business_id"]
        by_person = bool(mapping.accounts.by_practitioner or mapping.accounts.by_business or mapping.tracking)
        invoice_ok = np.ones(n, dtype=bool)
        if by_person:
            person_codes, odd = _text_codes(practitioners, none=True)
            business_codes, odd_business = _text_codes(businesses, none=True)
            invoice_ok &= ~(odd | odd_business)
            persons = _combined(person_codes, business_codes)
        else:
            persons = np.zeros(n, dtype=np.int64)

        def head(i: int) -> dict:
            return {"practitioner_id": practitioners[i], "business_id": businesses[i]}

        trackings: list[list[dict] | None] = []
        for i in first_positions(persons).tolist():  # tracking per practitioner and business
            try:
                trackings.append(rules.tracking(head(i)))
            except MappingProblem:
                trackings.append(None)
        invoice_ok &= np.array([t is not None for t in trackings], dtype=bool)[persons]
        line_persons = persons[owner]
        # an account per item code (and practitioner and business, where the mapping looks at them)
        by_account = bool(mapping.accounts.by_practitioner or mapping.accounts.by_business)
        account_keys = _combined(item_code_codes, line_persons if by_account else np.zeros_like(item_code_codes))
        answers: dict[str, int] = {}
        accounts: list[str | None] = []  # per answer id: the account, None for a problem
        account_ids = np.empty(int(account_keys.max(initial=-1)) + 1, dtype=np.int64)
        for key, r in enumerate(first_positions(account_keys).tolist()):
            try:
                if odd_item_codes[r]:
                    raise MappingProblem("an item code of another kind: the exact path")
                account = rules.account(item_codes[r], head(owner[r]))
            except MappingProblem:
                account_ids[key] = len(accounts)
                accounts.append(None)
                continue
            if account not in answers:
                answers[account] = len(accounts)
                accounts.append(account)
            account_ids[key] = answers[account]
        line_accounts = account_ids[account_keys]
        tracked = line_persons if mapping.tracking else np.zeros_like(line_persons)
        signature = _combined(description_codes, name_codes, amount_codes, line_accounts, tracked)
        # each distinct line's item, worked out as `_line_items` works out a line whose amounts need no spreading
        firsts = first_positions(signature).tolist()
        k = len(firsts)
        line_cents, line_tax = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
        exact = np.zeros(k, dtype=bool)
        templates: list[dict | None] = [None] * k
        fragments: list[str | None] = [None] * k
        inputs: list[tuple | None] = [None] * k  # what a line's item is made of, its amounts apart
        rounded_amounts: list[tuple[Decimal, Decimal] | None] = [None] * k  # its total and tax to the cent
        remainders: list[tuple[Decimal, Decimal] | None] = [None] * k  # part - rounded: who gets a spread cent
        for s, r in enumerate(firsts):
            account = accounts[line_accounts[r]]
            tracking = trackings[line_persons[r]]
            if other[r] or account is None or tracking is None:
                continue
            quantity, unit, rate, total, tax = amounts[amount_codes[r]]
            rounded, rounded_tax = rounded_cents(total), rounded_cents(tax)
            if rounded is None or rounded_tax is None or not all(v.is_finite() for v in (quantity, unit, rate)):
                continue
            inputs[s] = (descriptions[r], tax_names[r], quantity, unit, rate, account, tracking)
            rounded_amounts[s] = (rounded[0], rounded_tax[0])
            made = self._item(*inputs[s], *rounded_amounts[s])
            if made is not None:
                templates[s], fragments[s] = made
                (line_cents[s], line_tax[s]), exact[s] = (rounded[1], rounded_tax[1]), True
                remainders[s] = (total - rounded[0], tax - rounded_tax[0])
        # per invoice: every line has its item, and the rounded cents land on the total and the tax, or `allocate`
        # spreads the difference (largest remainder first)
        itemised = _sums((~exact[signature]).astype(np.int64), starts, ends) == 0
        (totals, taxes), (totals_ok, taxes_ok) = whole_cents([self.invoices["total"], self.invoices["tax_total"]])
        spreadable = invoice_ok & itemised & totals_ok & taxes_ok
        counts = ends - starts
        spread = [
            _spread(owner, _ranks([r and r[m] for r in remainders])[signature], residual, counts)
            for m, residual in enumerate(
                (
                    np.where(spreadable, totals - _sums(line_cents[signature], starts, ends), 0),
                    np.where(spreadable, taxes - _sums(line_tax[signature], starts, ends), 0),
                )
            )
        ]
        self.codes, self.templates, self.fragments = signature, templates, fragments
        if spread[0].any() or spread[1].any():  # lines with a cent more or less: their items too
            self.codes = _combined(signature, *spread)
            self.templates, self.fragments = [], []
            for r in first_positions(self.codes).tolist():
                s, more, more_tax = signature[r], int(spread[0][r]), int(spread[1][r])
                made = (templates[s], fragments[s])
                if (more or more_tax) and inputs[s] is not None:
                    amount, tax = rounded_amounts[s]  # as they are (a -0.00 stays -0.00) unless a cent is spread
                    made = self._item(
                        *inputs[s],
                        _in_cents(int(line_cents[s]) + more) if more else amount,
                        _in_cents(int(line_tax[s]) + more_tax) if more_tax else tax,
                    )
                    made = (None, None) if made is None else made
                self.templates.append(made[0])
                self.fragments.append(made[1])
            made_all = np.array([t is not None for t in self.templates], dtype=bool)
            itemised = _sums((~made_all[self.codes]).astype(np.int64), starts, ends) == 0
        none = starts == ends  # no line: no item, whatever the total (`allocate` of no part)
        return invoice_ok & itemised & (none | (totals_ok & taxes_ok))

    def _item(
        self, description: str, tax_name: str | None, quantity: Decimal, unit: Decimal, rate: Decimal,
        account: str, tracking: list[dict], amount: Decimal, tax: Decimal,
    ) -> tuple[dict, str] | None:  # fmt: skip
        """A line's item (as `_line_items` and `_fitted_invoice` make it) once `allocate` gave it `amount` and `tax`,
        and its JSON; None when the exact path must make it."""
        rules = self.rules
        try:
            priced = rules.priced(quantity, unit, rate, amount)
            if priced["Quantity"] != quantity:
                description = f"{description} (x{quantity.normalize()})"
            item = {
                "Description": description[:4000],
                **priced,
                "LineAmount": amount,
                "AccountCode": account,
                "TaxType": rules.tax_type(tax_name, rate),
            }
            if tax != (inclusive_tax(amount, rate) if rate else ZERO_TAX):
                item["TaxAmount"] = tax
        except (MappingProblem, ArithmeticError):
            return None
        if tracking:
            item["Tracking"] = tracking
        (item,), problems = _fitted_items([item])
        return None if problems else (item, _CANONICAL.encode(item))

    def _fast(self, fast: np.ndarray, counts: np.ndarray) -> None:
        """The items of the `fast` invoices: a copy of each of their lines' item (a dict of its own per line, as
        `_line_items` gives), and their JSON."""
        if not fast.any():
            return
        signature = self.codes[fast[self.owner]]
        templates = np.empty(len(self.templates), dtype=object)
        templates[:] = self.templates
        chosen = templates[signature]
        if any(t is not None and "Tracking" in t for t in self.templates):
            flat = [{**t, "Tracking": [dict(option) for option in t["Tracking"]]} if "Tracking" in t else t.copy()
                    for t in chosen]  # fmt: skip
        else:
            flat = list(map(dict.copy, chosen))
        del chosen
        fragments = np.empty(len(self.fragments), dtype=object)
        fragments[:] = self.fragments
        at = len(self.flat)
        self.flat += fragments[signature].tolist()
        ends = np.cumsum(counts[fast])
        starts = ends - counts[fast]
        self.text_start[fast], self.text_end[fast] = starts + at, ends + at
        items = [flat[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        if fast.all():
            self.items = items
            return
        for i, these in zip(np.flatnonzero(fast).tolist(), items, strict=True):
            self.items[i] = these

    def _exact(self, which: np.ndarray, positions: dict[int, np.ndarray] | None = None) -> None:
        """`_line_items` and `_fitted_items`, one invoice at a time, for the invoices `which` (positions in the
        ledger's invoices); `positions`: each one's lines (positions in the ledger's lines, in line order), else its
        range of `order`."""
        if not len(which):
            return
        if positions is None:
            positions = {i: self.order[self.starts[i] : self.ends[i]] for i in which.tolist()}
        taken = np.concatenate([positions[i] for i in which.tolist()]).astype(np.int64)
        columns = {f: self.lines[f].to_numpy(dtype=object)[taken].tolist() for f in (*LINE_FIELDS, "tax")}
        names = list(self.invoices)
        at = 0
        for i in which.tolist():
            count = len(positions[i])
            invoice = {name: self.invoices[name][i] for name in names}
            try:
                raw = _line_items(invoice, list(range(at, at + count)), columns, self.rules)
            except MappingProblem as problem:
                self.refused[i] = problem
            else:
                items, problems = _fitted_items(raw)
                self._made(i, items, ", ".join(map(_CANONICAL.encode, items)))
                if problems:
                    self.fitting[i] = problems
            at += count

    def _by_key(self, lines: pd.DataFrame, live: np.ndarray) -> None:
        """Invoice keys that repeat: every live invoice the exact way, with all the lines of its key."""
        self.lines = lines
        by_number = lines["line_no"].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
        of_key: dict[str, list[int]] = {}
        for n, key in zip(by_number.tolist(), lines["invoice_key"].to_numpy(dtype=object)[by_number], strict=True):
            of_key.setdefault(key, []).append(n)
        which = np.flatnonzero(live)
        keys = self.invoices["invoice_key"]
        self._exact(which, {i: np.array(of_key.get(keys[i], []), dtype=np.int64) for i in which.tolist()})


def payment_reference(payment_key: str) -> str:
    """`clio:allocation:88` -> `Clio payment 88`: shown in Xero, and how a payment is found again on its invoice."""
    source, _, rest = payment_key.partition(":")
    return f"{source.title()} payment {rest.split(':', 1)[-1]}"


def _common_source(keys: np.ndarray) -> str | None:
    """The source (`cliniko` of `cliniko:invoice:1`) when every key is a str of that one source, else None."""
    if not len(keys) or not isinstance(keys[0], str) or ":" not in keys[0]:
        return None
    lead = keys[0].split(":", 1)[0] + ":"
    try:
        return lead[:-1] if all(map(str.startswith, keys, repeat(lead))) else None
    except (AttributeError, TypeError):
        return None


_LAST = operator.itemgetter(-1)
_CHUNK = 1 << 16
_HEAD_FIELDS = ("InvoiceNumber", "contact_key", "Date", "DueDate", "Reference", "Status")


def _codes(values: np.ndarray) -> np.ndarray:
    """Codes of `values` numbered in order of appearance, a missing value (None, NaN) being one value too."""
    return pd.factorize(pd.factorize(values, use_na_sentinel=False)[0])[0]


def _days(issue_dates: np.ndarray, live: np.ndarray, mapping: Mapping, org: XeroOrg) -> dict[str, Any]:
    """Per invoice: its Date and DueDate, why it is held back (Xero's locked period) and where it was moved from,
    each distinct issue date worked out once as `to_xero` works out one invoice's. An error (an issue date that is
    no date) is raised where the first invoice meets it."""
    codes = _codes(issue_dates)
    due = timedelta(days=mapping.due_days)
    rule = mapping.rules.locked_period
    k = int(codes.max(initial=-1)) + 1
    dated = {name: np.empty(k, dtype=object) for name in ("date", "due", "live_date", "live_due", "locked", "from")}
    errors: dict[tuple[int, bool], Exception] = {}  # (code, live) -> the error an invoice of that date meets
    for u, value in enumerate(issue_dates[first_positions(codes)].tolist()):
        try:
            issued = date.fromisoformat(value)
        except Exception as error:  # noqa: BLE001 - raised below, where the first invoice of this date meets it
            errors[u, True] = errors[u, False] = error
            continue
        iso = issued.isoformat()
        try:
            dated["date"][u], dated["due"][u] = iso, (issued + due).isoformat()
        except Exception as error:  # noqa: BLE001
            errors[u, False] = error
        on, locked = placed(iso, org.lock_date, rule)
        dated["locked"][u] = locked
        if locked:
            continue
        if on != iso:
            dated["from"][u] = iso
            issued = date.fromisoformat(on)
        try:
            dated["live_date"][u], dated["live_due"][u] = issued.isoformat(), (issued + due).isoformat()
        except Exception as error:  # noqa: BLE001
            errors[u, True] = error
    out = {
        "Date": np.where(live, dated["live_date"][codes], dated["date"][codes]),
        "DueDate": np.where(live, dated["live_due"][codes], dated["due"][codes]),
        "locked": np.where(live, dated["locked"][codes], None),
        "from": np.where(live, dated["from"][codes], None),
        "errors": errors,
        "codes": codes,
    }
    return out


def _invoice_documents(
    invoices: pd.DataFrame, made: _Items, mapping: Mapping, org: XeroOrg
) -> tuple[pd.DataFrame, list[tuple], list[dict], list[dict]]:
    """The invoices' Xero documents (the frame of INVOICE_COLUMNS), the problems that hold invoices back (in the
    ledger's order), the invoices held back, and those dated past Xero's lock date (moved)."""
    n = len(invoices)
    if not n:  # (a frame of no invoice may lack columns)
        return pd.DataFrame([], columns=INVOICE_COLUMNS), [], [], []
    cols = made.invoices
    keys, status = cols["invoice_key"], cols["status"]
    live = status != "deleted"
    refused = np.zeros(n, dtype=bool)
    refused[list(made.refused)] = True
    days = _days(cols["issue_date"], live, mapping, org)
    if days["errors"]:  # the first invoice that meets an error raises it, as one invoice at a time would
        for i in np.flatnonzero(~refused).tolist():
            error = days["errors"].get((days["codes"][i], bool(live[i])))
            if error is not None and not (live[i] and days["locked"][i]):
                raise error
    locked = ~refused & (days["locked"] != None)  # noqa: E711 - elementwise
    numbers = cols["number"]
    prefix = mapping.invoice_number_prefix
    numbers_are_text = pd.api.types.infer_dtype(numbers, skipna=False) == "string"
    head = {
        "InvoiceNumber": list(map(prefix.__add__, numbers)) if numbers_are_text else [f"{prefix}{v}" for v in numbers],
        "contact_key": cols["contact_key"].tolist(),
        "Date": days["Date"].tolist(),
        "DueDate": days["DueDate"].tolist(),
    }
    source = _common_source(keys)
    if source is not None and numbers_are_text:
        head["Reference"] = list(map(f"{source.title()} invoice ".__add__, numbers))
    else:
        head["Reference"] = [f"{k.split(':')[0].title()} invoice {v}" for k, v in zip(keys, numbers, strict=True)]
    statuses = np.full(n, mapping.invoice_status, dtype=object)
    statuses[status == "draft"] = "DRAFT"  # never approved early
    head["Status"] = statuses.tolist()
    # Xero's limits: `_fitted("Invoice", ...)` for the documents whose bounded fields it would change or refuse
    too_long: dict[int, list[str]] = {}
    unfitted = _unfitted(head, "Invoice")
    for i in [] if unfitted is None else np.flatnonzero(unfitted & ~refused & ~locked).tolist():
        document, problems = _fitted("Invoice", {name: head[name][i] for name in _HEAD_FIELDS})
        for name in _HEAD_FIELDS:
            head[name][i] = document[name]
        if problems:
            too_long[i] = problems
    for i, problems in made.fitting.items():
        too_long[i] = too_long.get(i, []) + problems
    # what holds an invoice back, in the ledger's order, one reason each (the first that applies)
    problems: list[tuple] = []
    held: list[dict] = []
    moved: list[dict] = []
    for i in sorted(set(made.refused) | set(np.flatnonzero(locked).tolist()) | set(too_long)):
        source = keys[i].split(":", 1)[0]
        if i in made.refused:
            reason = str(made.refused[i])
        elif locked[i]:
            reason = days["locked"][i]
        else:
            reason = "; ".join(too_long[i])
        problems.append((i, (source, cols["source_id"][i], cols["day"][i], reason)))
        held.append({c: cols[c][i] for c in HELD_COLUMNS[:-1]})
    for i in np.flatnonzero((days["from"] != None) & ~refused & ~locked).tolist():  # noqa: E711
        moved.append({"key": keys[i], "day": cols["day"][i], "from": days["from"][i], "to": head["Date"][i]})
    kept = np.ones(n, dtype=bool)
    kept[[i for i, _ in problems]] = False
    columns = {
        "invoice_key": keys.tolist(),
        "day": cols["day"].tolist(),
        **head,
        "source_status": status.tolist(),
        "total": cols["total"].tolist(),
        "tax_total": cols["tax_total"].tolist(),
        "LineItems": made.items,
    }
    del head
    which = np.flatnonzero(kept).tolist()
    if not kept.all():
        columns = {name: [values[i] for i in which] for name, values in columns.items()}
    hashes: list[str] = []
    for at in range(0, len(which), _CHUNK):  # a chunk at a time: the documents' JSON is never all held at once
        part = slice(at, at + _CHUNK)
        fields = {name: columns[name][part] for name in _HEAD_FIELDS}
        hashes += _hashes(_json_documents({**fields, "LineItems[]": made.texts(which[part])}))
    columns["content_hash"] = hashes
    frame = _frame_of(columns, INVOICE_COLUMNS) if columns["invoice_key"] else pd.DataFrame([], columns=INVOICE_COLUMNS)
    return frame, [p for _, p in problems], held, moved


def _first_days(documents: pd.DataFrame) -> pd.Series:
    """Each contact's first day among `documents` (contact_key, day): what a stable sort by day and the first row of
    each contact give, without sorting strings."""
    days, day_values = pd.factorize(documents["day"].to_numpy(dtype=object), sort=True)
    days = np.where(days < 0, len(day_values), days)  # a missing day sorts last
    contacts, contact_values = pd.factorize(documents["contact_key"].to_numpy(dtype=object), use_na_sentinel=False)
    first = np.full(len(contact_values), len(day_values), dtype=np.int64)
    np.minimum.at(first, contacts, days)
    values = np.append(np.asarray(day_values, dtype=object), np.nan)[first]
    return pd.Series(values, index=contact_values, dtype=object)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the transform makes its dicts and lists (a million line items, none in a
    cycle: reference counting frees what is dropped): each of its collections would walk every one made so far."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    with _collector_paused():
        return _to_xero(ledger, mapping, org)


def _to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    # credit notes may be left out; the frames are only read here, so what no rule touches is not copied
    ledger = apply_rules(complete(ledger), mapping.rules, mapping.filters, copy=False)
    rules = _Rules(mapping, org)
    made = _Items(ledger["invoices"], ledger["lines"], rules)
    invoice_frame, problems, held, moved = _invoice_documents(ledger["invoices"], made, mapping, org)
    del made
    credit, credit_problems = credit_note_frames(ledger, mapping, org, content_hash, moved)
    used = pd.concat([invoice_frame["contact_key"], credit["credit_notes"]["contact_key"]]).unique()
    contacts, unsendable = contacts_frame(ledger["contacts"][ledger["contacts"]["contact_key"].isin(used)])
    if unsendable:  # an invoice goes only with its contact
        held_back = invoice_frame["contact_key"].isin(list(unsendable))
        problems += [
            (k.split(":", 1)[0], k.rsplit(":", 1)[-1], d, f"contact {c}: {unsendable[c]}")
            for k, d, c in invoice_frame.loc[held_back, ["invoice_key", "day", "contact_key"]].itertuples(index=False)
        ]
        keys = set(invoice_frame.loc[held_back, "invoice_key"])
        invoices = ledger["invoices"]
        held += [i for i in invoices[invoices["invoice_key"].isin(keys)].to_dict("records") if i["invoice_key"] in keys]
        invoice_frame = invoice_frame[~held_back].reset_index(drop=True)
        contacts = contacts[~contacts["contact_key"].isin(list(unsendable))].reset_index(drop=True)
    payments, held_payments = _payments(ledger["payments"], invoice_frame, mapping, org, problems, moved)
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
    contacts["day"] = contacts["contact_key"].map(_first_days(documents))  # each one's first day
    held_payments.attrs["all"] = not mapping.rules.sync_payments  # hands off every payment in Xero
    frames = {
        "contacts": contacts,
        "invoices": invoice_frame,
        "payments": payments,
        # payments held back (their reasons are in the rejects): left as they are in Xero, neither made nor reversed
        "held_payments": held_payments,
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


def _payments(
    ledger_payments: pd.DataFrame,
    invoice_frame: pd.DataFrame,
    mapping: Mapping,
    org: XeroOrg,
    problems: list[tuple],
    moved: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The payments of the invoices in `invoice_frame` (PAYMENT_COLUMNS) and those held back, a column at a time;
    their problems and moves are added to `problems` and `moved`, in the ledger's order."""
    invoice_keys = pd.Index(invoice_frame["invoice_key"].to_numpy(dtype=object))
    pay_keys = ledger_payments["invoice_key"].to_numpy(dtype=object)
    if invoice_keys.is_unique:
        at = invoice_keys.get_indexer(pay_keys)
    else:  # the last invoice of a key, as a dict of them gives
        last = {k: n for n, k in enumerate(invoice_keys)}
        at = np.array([last.get(k, -1) for k in pay_keys], dtype=np.int64)
    which = np.flatnonzero(at >= 0)
    if not len(which):  # (a frame of no payment may lack columns)
        return _frame(None), _frame(None)
    column = {c: ledger_payments[c].to_numpy(dtype=object)[which] for c in ("payment_key", "day", "date", "amount")}
    payment_keys = column["payment_key"].tolist()
    source = _common_source(column["payment_key"])
    if source is not None:  # `payment_reference` of keys of one source: the id after its kind, if it has one
        title = f"{source.title()} payment "
        references = list(map(title.__add__, map(_LAST, map(str.split, payment_keys, repeat(":"), repeat(2)))))
    else:
        references = list(map(payment_reference, payment_keys))
    payments = {
        "payment_key": payment_keys,
        "invoice_key": pay_keys[which].tolist(),
        "day": column["day"].tolist(),
        "InvoiceNumber": invoice_frame["InvoiceNumber"].to_numpy(dtype=object)[at[which]].tolist(),
        "Date": column["date"].tolist(),
        "Amount": column["amount"].tolist(),
        "AccountCode": [mapping.accounts.payments] * len(which),
        "Reference": references,
    }
    held: list[dict] = []
    if org.lock_date is not None:  # a payment dated in the locked period: moved, or held back with its reason
        dates = payments["Date"]
        placed_on: dict[Any, tuple[str, str | None]] = {}
        gone = []
        for n, on in enumerate(dates):
            if on not in placed_on:
                placed_on[on] = placed(on, org.lock_date, mapping.rules.locked_period)
            sent_on, locked = placed_on[on]
            if locked:
                p = {c: payments[c][n] for c in PAYMENT_COLUMNS}
                source_name, _, source_id = p["invoice_key"].split(":", 2)
                problems.append((source_name, source_id, p["day"], f"its payment {p['payment_key']} is {locked}"))
                held.append(p)
                gone.append(n)
            elif sent_on != on:
                moved.append({"key": payments["payment_key"][n], "day": payments["day"][n], "from": on, "to": sent_on})
                dates[n] = sent_on
        if gone:
            keep = np.ones(len(which), dtype=bool)
            keep[gone] = False
            payments = {c: [v for v, k in zip(values, keep, strict=True) if k] for c, values in payments.items()}
    frame = _frame(payments)
    if not mapping.rules.sync_payments:  # rules.sync_payments: false: neither written nor taken off
        return _frame(None), frame
    if len(frame) and not org.accepts_payments(mapping.accounts.payments):
        problems += [
            (
                k.split(":", 1)[0],
                k.rsplit(":", 1)[-1],
                d,
                f"payments account {mapping.accounts.payments!r} "
                "(accounts.payments in the mapping) is not a Xero bank account or payments-enabled account",
            )
            for k, d in zip(payments["invoice_key"], payments["day"], strict=True)
        ]
        return _frame(None), frame
    return frame, pd.DataFrame(held, columns=PAYMENT_COLUMNS)


def _frame(payments: dict[str, list] | None) -> pd.DataFrame:
    """A frame of PAYMENT_COLUMNS from a list per column (as from a dict per payment)."""
    if not payments or not payments["payment_key"]:
        return pd.DataFrame([], columns=PAYMENT_COLUMNS)
    return _frame_of(dict(payments), PAYMENT_COLUMNS)
