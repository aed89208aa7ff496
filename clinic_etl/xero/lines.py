"""One ledger line -> one Xero line whose arithmetic lands exactly on the source amount.

Lines are sent tax-inclusive (LineAmountTypes=Inclusive), so Xero's Total is the sum of our LineAmounts,
which are the source line totals in cents. Xero computes LineAmount = Quantity x UnitAmount - DiscountAmount
(UnitAmount to 4 dp with unitdp=4); when the source quantity and price cannot reproduce the amount exactly,
the line is sent as one unit of its amount. The line's tax is Xero's own per-line rounding unless the source
tax differs, in which case TaxAmount carries the source figure.
"""

from __future__ import annotations

from decimal import Decimal

from clinic_etl.ledger.money import cents, places

HUNDRED = Decimal(100)


def inclusive_tax(amount: Decimal, rate: Decimal) -> Decimal:
    """Xero's tax inside a tax-inclusive line amount, rounded half-up to the cent."""
    return cents(amount * rate / (HUNDRED + rate)) if rate else Decimal("0.00")


def quantity_price(quantity: Decimal, unit_ex_tax: Decimal, rate: Decimal, amount: Decimal) -> dict[str, Decimal]:
    """Quantity, UnitAmount and DiscountAmount such that Quantity x UnitAmount - DiscountAmount == amount."""
    unit = unit_ex_tax * (HUNDRED + rate) / HUNDRED
    if quantity > 0 and places(quantity) == 0 and places(unit) <= 4:
        gross = quantity * unit
        if gross == amount:
            return {"Quantity": quantity, "UnitAmount": unit.normalize()}
        if places(gross) <= 2 and gross > amount >= 0:
            return {"Quantity": quantity, "UnitAmount": unit.normalize(), "DiscountAmount": (gross - amount)}
    return {"Quantity": Decimal(1), "UnitAmount": amount}
