"""One Clio bill (and its line items) -> one ledger invoice and its lines, or the problems that reject it.

States: draft and awaiting_approval -> `draft`; void and deleted -> `deleted` (no lines: Xero voids or deletes
it); awaiting_payment and paid -> `paid` when Clio's `balance` is 0 and `total` is more than 0, else `open`. The
status is decided from Clio's money fields, not from its state name: a bill Clio still calls awaiting_payment whose
allocations have settled it is `paid`, and one called paid that still has a balance is `open`.

Money: Clio's line `total` excludes tax (price x quantity less the line's discount); `tax` and `secondary_tax` are
the line's two tax slots, at the bill's `tax_rate` and `secondary_tax_rate` where the line is `taxable` /
`secondary_taxable`. A ledger line carries the line tax-inclusive: `total` = Clio total + tax + secondary_tax,
`tax` = tax + secondary_tax, `tax_rate` = the sum of the rates that apply, and `tax_name` names the slots that apply
(TAX_NAMES: "primary", "secondary", "primary+secondary"; None for an untaxed line). The mapping file maps these names
to Xero TaxTypes. A Xero rate with both components (e.g. 8.875 % + 2.5 % = 11.375 %) carries a doubly taxed line
exactly. Where Xero has no rate for the secondary tax, map "primary+secondary" to the primary's TaxType: the line
still goes to Xero tax-inclusive, so Xero's LineAmount, hence the invoice total, is the bill's total to the cent;
only the split of that amount between tax and net differs (the surcharge sits in the net, or in an overridden
TaxAmount). The bill's own figures are authoritative: the lines add up to `sub_total` exactly and, with the bill's
`interest_total`, to `total`; the lines' taxes add up to `tax_sum` and `secondary_tax_sum`, and where they differ
by at most a cent per taxed line (rounding per bill rather than per line) the bill's figure is spread over its taxed
lines, so the ledger lines' `total` and `tax` add up to the bill's `total` and `total_tax` to the cent.

Lines: Service and Expense alike, in Clio's `group_ordering` (then id), `item_code` = the line's kind ("Service",
"Expense"; a mapping key for accounts.by_item_code). A NoChargeLineItem is kept as a zero line (its quantity as
served, unit price 0, untaxed), so the Xero invoice shows what the client's bill shows; a bill of nothing else is
a zero invoice. Interest: a bill's `interest_total` (interest bills carry no
line items and are all interest) becomes one more line "Interest", item_code "Interest", untaxed.
A bill whose `due` differs from its `total` (a bill-level discount) is rejected: its discount has no ledger form yet.
"""

from __future__ import annotations

from decimal import Decimal

from clinic_etl.ledger.money import CENT, allocate, cents, to_decimal
from clinic_etl.sources.clio.records import key, truthy

HUNDRED = Decimal(100)
ZERO = Decimal(0)
ISSUED = ("awaiting_payment", "paid")
NOT_YET_APPROVED = ("draft", "awaiting_approval")
REMOVED = ("void", "deleted")
NO_CHARGE = "NoChargeLineItem"
PRIMARY, SECONDARY = "primary", "secondary"
TAX_NAMES = (PRIMARY, SECONDARY, f"{PRIMARY}+{SECONDARY}")
INTEREST = "Interest"


def money(value: object) -> Decimal:
    """A validated amount (None reads as 0)."""
    return ZERO if value is None else to_decimal(value)


def is_trust_request(bill: dict) -> bool:
    """A trust request (a request for trust funds, `kind` trust_kind; `type` trust as the list filter names it)."""
    kind = bill.get("type")
    return bill.get("kind") == "trust_kind" or (isinstance(kind, str) and kind.strip().casefold() == "trust")


def status_of(bill: dict) -> str:
    state = bill["state"]
    if state in REMOVED:
        return "deleted"
    if state in NOT_YET_APPROVED:
        return "draft"
    return "paid" if money(bill["balance"]) == 0 and money(bill["total"]) > 0 else "open"


def rates(bill: dict) -> tuple[Decimal, Decimal]:
    return money(bill.get("tax_rate")), money(bill.get("secondary_tax_rate"))


def item_problems(item: dict, bill: dict) -> list[str]:
    """What is wrong with a line item that passed `RawLineItem`, given its bill (which passed `RawBill`)."""
    problems = []
    total = money(item["total"])
    if item["type"] == NO_CHARGE:
        charged = [f"{c} {item[c]}" for c in ("total", "tax", "secondary_tax") if money(item.get(c)) != 0]
        return [f"a NoChargeLineItem carries {', '.join(charged)}"] if charged else []
    if item.get("sub_total") is not None and total > money(item["sub_total"]):
        problems.append(f"total {item['total']} is more than sub_total {item['sub_total']}")
    for slot, flag, rate in (
        ("tax", "taxable", rates(bill)[0]),
        ("secondary_tax", "secondary_taxable", rates(bill)[1]),
    ):
        tax = money(item.get(slot))
        expected = total * rate / HUNDRED if truthy(item.get(flag)) else ZERO
        if abs(tax - expected) > CENT:
            if truthy(item.get(flag)):
                problems.append(
                    f"{slot} {item[slot]} is not total {item['total']} at the bill's {rate}% ({cents(expected)})"
                )
            else:
                problems.append(f"{slot} {item[slot]} on a line that is not {flag}")
    return problems


def _spread(figure: Decimal, served: list[Decimal], taxed: list[bool]) -> list[Decimal] | None:
    """The lines' taxes adding up to the bill's `figure`: as served when they do; the bill's figure spread over the
    taxed lines when it differs by at most a cent per taxed line; None when it differs by more."""
    if sum(served, ZERO) == figure:
        return served
    positions = [n for n, t in enumerate(taxed) if t]
    if not positions or abs(sum(served, ZERO) - figure) > CENT * len(positions):
        return None
    spread = allocate(figure, [served[n] for n in positions])
    out = list(served)
    for n, value in zip(positions, spread, strict=True):
        out[n] = value
    return out


def tax_name(primary: bool, secondary: bool) -> str | None:
    return "+".join(name for name, on in ((PRIMARY, primary), (SECONDARY, secondary)) if on) or None


def lines_of(bill: dict, items: list[dict]) -> tuple[list[dict], list[str]]:
    """The ledger lines of a live bill (items already checked), or the problems that reject the bill."""
    invoice_key = key("bill", bill["id"])
    primary_rate, secondary_rate = rates(bill)
    charged = sorted(items, key=lambda i: (money(i.get("group_ordering")), int(i["id"])))
    problems = []
    sub_total = sum((money(i["total"]) for i in charged), ZERO)
    if sub_total != money(bill["sub_total"]):
        problems.append(f"line items add up to {sub_total} but sub_total is {bill['sub_total']}")
    taxes = {}
    for slot, figure_name, flag, rate in (
        ("tax", "tax_sum", "taxable", primary_rate),
        ("secondary_tax", "secondary_tax_sum", "secondary_taxable", secondary_rate),
    ):
        served = [money(i.get(slot)) for i in charged]
        figure = money(bill.get(figure_name)) if bill.get(figure_name) is not None else sum(served, ZERO)
        taxed = [truthy(i.get(flag)) and rate > 0 and i["type"] != NO_CHARGE for i in charged]
        spread = _spread(figure, served, taxed)
        if spread is None:
            problems.append(f"line items carry {sum(served, ZERO)} of {slot} but {figure_name} is {figure}")
        taxes[slot] = spread or served
    interest = money(bill.get("interest_total"))
    total_tax = sum(taxes["tax"], ZERO) + sum(taxes["secondary_tax"], ZERO)
    if total_tax != money(bill["total_tax"]):
        problems.append(f"line items carry {total_tax} of tax but total_tax is {bill['total_tax']}")
    if sub_total + total_tax + interest != money(bill["total"]):
        problems.append(
            f"total {bill['total']} is not sub_total {sub_total} + total_tax {total_tax} + interest {interest}"
        )
    if bill.get("due") is not None and money(bill["due"]) != money(bill["total"]):
        problems.append(
            f"due {bill['due']} differs from total {bill['total']} (a bill-level discount): not mapped; apply the"
            " discount to the line items or issue a credit memo"
        )
    if not charged and interest == 0:
        problems.append("the bill has no line items and no interest")
    if problems:
        return [], problems
    lines = []
    for n, (item, tax, secondary) in enumerate(zip(charged, taxes["tax"], taxes["secondary_tax"], strict=True), 1):
        free = item["type"] == NO_CHARGE
        primary_on = truthy(item.get("taxable")) and primary_rate > 0 and not free
        secondary_on = truthy(item.get("secondary_taxable")) and secondary_rate > 0 and not free
        rate = (primary_rate if primary_on else ZERO) + (secondary_rate if secondary_on else ZERO)
        net = money(item["total"])
        off = money(item.get("sub_total")) - net if item.get("sub_total") is not None and not free else ZERO
        lines.append(
            {
                "invoice_key": invoice_key,
                "line_no": n,
                "source_id": item["id"],
                "description": (item.get("description") or "").strip() or item["kind"],
                "item_code": item["kind"],
                "quantity": to_decimal(item["quantity"]),
                "unit_price": ZERO if free else to_decimal(item["price"]),
                "tax_rate": rate,
                "tax_name": tax_name(primary_on, secondary_on),
                "discount": cents(off * (HUNDRED + rate) / HUNDRED) if off > 0 else ZERO,
                "total": cents(net + tax + secondary),
                "tax": cents(tax + secondary),
            }
        )
    if interest:
        lines.append(interest_line(invoice_key, len(lines) + 1, cents(interest)))
    return lines, []


def interest_line(invoice_key: str, line_no: int, amount: Decimal) -> dict:
    return {
        "invoice_key": invoice_key,
        "line_no": line_no,
        "source_id": "interest",
        "description": INTEREST,
        "item_code": INTEREST,
        "quantity": Decimal(1),
        "unit_price": amount,
        "tax_rate": ZERO,
        "tax_name": None,
        "discount": ZERO,
        "total": amount,
        "tax": ZERO,
    }


def invoice_of(bill: dict, issue_date: str, day: str) -> dict:
    return {
        "invoice_key": key("bill", bill["id"]),
        "source_id": bill["id"],
        "number": bill["number"].strip(),
        "issue_date": issue_date,
        "contact_key": key("contact", bill["client_id"]),
        "business_id": None,
        "practitioner_id": None,
        "status": status_of(bill),
        "day": day,
        "total": cents(money(bill["total"])),
        "tax_total": cents(money(bill["total_tax"])),
        "url": None,
    }
