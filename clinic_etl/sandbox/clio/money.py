"""Bill arithmetic, in Decimal to the cent (never float).

Per line: `sub_total` = price x quantity (cents, half-up); a line discount (percentage of, or money off, the
sub-total) gives `total` = sub_total - discount, tax-exclusive; `tax` = total x bill tax_rate / 100 when the
line is `taxable`, `secondary_tax` = total x secondary_tax_rate / 100 when `secondary_taxable` (rule "Pre":
both on the line total). A NoChargeLineItem shows its price and quantity but is worth zero.
Per bill: sub_total = sum of line totals, tax_sum / secondary_tax_sum = sums of the lines' taxes (rounded
per line, so the lines add up to the bill exactly), total = sub_total + total_tax + interest, due = total (no
bill-level discount in the synthetic firm), paid = valid payment allocations, credits_issued = valid
credit-memo allocations, balance = due - paid - credits_issued.
Unverified against Clio: whether a line's `total` is tax-exclusive (assumed), whether taxes round per line or
per bill (per line assumed), whether `paid` includes credit-memo allocations (assumed not: they are
`credits_issued`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clinic_etl.sandbox.clio.wire import ZERO, cents

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineAmounts:
    sub_total: Decimal
    discount: Decimal
    total: Decimal
    tax: Decimal
    secondary_tax: Decimal


def line_amounts(line: dict[str, Any], tax_rate: Decimal, secondary_rate: Decimal) -> LineAmounts:
    """Amounts of a stored line row (uses price, quantity, type, taxable, secondary_taxable, discount)."""
    if line["type"] == "NoChargeLineItem":
        return LineAmounts(ZERO, ZERO, ZERO, ZERO, ZERO)
    sub_total = cents(Decimal(line["price"]) * Decimal(line["quantity"]))
    discount = ZERO
    rule = line.get("discount") or {}
    if rule.get("rate"):
        rate = Decimal(rule["rate"])
        discount = (
            cents(sub_total * rate / HUNDRED) if rule.get("type") == "percentage" else min(cents(rate), sub_total)
        )
    total = sub_total - discount
    tax = cents(total * tax_rate / HUNDRED) if line["taxable"] else ZERO
    secondary = cents(total * secondary_rate / HUNDRED) if line["secondary_taxable"] else ZERO
    return LineAmounts(sub_total, discount, total, tax, secondary)


def bill_totals(bill: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The bill's line-derived money fields (lines already carry their own amounts)."""
    services = [line for line in lines if line["kind"] == "Service"]
    interest = Decimal((bill.get("interest") or {}).get("total") or ZERO)

    def total(rows: list[dict[str, Any]], key: str) -> Decimal:
        return sum((Decimal(row[key]) for row in rows), ZERO)

    sub_total, tax_sum, secondary_sum = total(lines, "total"), total(lines, "tax"), total(lines, "secondary_tax")
    grand = sub_total + tax_sum + secondary_sum + interest
    return {
        "sub_total": sub_total,
        "tax_sum": tax_sum,
        "secondary_tax_sum": secondary_sum,
        "total_tax": tax_sum + secondary_sum,
        "services_sub_total": total(services, "total"),
        "services_tax": total(services, "tax"),
        "services_secondary_tax": total(services, "secondary_tax"),
        "taxable_sub_total": total([line for line in lines if line["taxable"]], "total"),
        "secondary_taxable_sub_total": total([line for line in lines if line["secondary_taxable"]], "total"),
        "services_taxable_sub_total": total([line for line in services if line["taxable"]], "total"),
        "services_secondary_taxable_sub_total": total([s for s in services if s["secondary_taxable"]], "total"),
        "total": grand,
        "due": grand,
    }


def trust_totals(trust_lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """A trust request: the sum of its trust lines, no tax."""
    amount = sum((Decimal(row["total"]) for row in trust_lines), ZERO)
    zero_keys = ("tax_sum", "secondary_tax_sum", "total_tax", "services_sub_total", "services_tax",
                 "services_secondary_tax", "taxable_sub_total", "secondary_taxable_sub_total",
                 "services_taxable_sub_total", "services_secondary_taxable_sub_total")  # fmt: skip
    return {"sub_total": amount, **dict.fromkeys(zero_keys, ZERO), "total": amount, "due": amount}
