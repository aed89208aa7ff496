"""How the mapping and the organisation book one line: its account, tax type and tracking (`_Rules` answers each
distinct question once), and a line's Xero item worked out one invoice at a time (the path for what the columnar
one in `line_items` does not take). Anything the mapping or Xero cannot support raises MappingProblem naming the
mapping key to fix."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clinic_etl.ledger.money import allocate
from clinic_etl.mapping import Mapping
from clinic_etl.xero.fields import fitted, limits
from clinic_etl.xero.fitting import _fitted
from clinic_etl.xero.lines import inclusive_tax, quantity_price
from clinic_etl.xero.org import XeroOrg


class MappingProblem(ValueError):
    pass


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
