"""Cliniko's invoice arithmetic, in Decimal throughout (never float).

Per item: `unit_price` is tax-exclusive; gross = unit_price x quantity x (1 + rate/100). A money discount
(`discounted_amount`) is tax-inclusive and `discount_percentage` = discount / gross x 100 (4 dp); a
percentage discount gives discounted_amount = gross x pct / 100 (2 dp). `total_including_tax` = gross -
discount (2 dp, half-up); `net_price` = total / (1 + rate/100) (3 dp); the deprecated `tax_amount` is the
tax before the discount. Invoice: total = sum of item totals, discounted = sum of discounts, net = sum of
net prices (2 dp), tax = total - net. Checked against the example item: 100.0 + 10% GST, 20.0 money
discount -> 18.1818 %, total 90.0, net 81.818, tax_amount 10.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clinic_etl.sandbox.cliniko.wire import BASIS, CENT, MILLI, money, round_half_up

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ItemAmounts:
    unit_price: Decimal
    quantity: int
    tax_rate: Decimal | None
    discount_percentage: Decimal
    discounted_amount: Decimal
    is_monetary_discount: bool
    total_including_tax: Decimal
    net_price: Decimal
    tax_amount: Decimal

    def wire(self) -> dict[str, object]:
        """The amount fields of an invoice item in Cliniko's JSON shape."""
        return {
            "unit_price": money(self.unit_price),
            "quantity": self.quantity,
            "tax_rate": None if self.tax_rate is None else money(self.tax_rate),
            "discount_percentage": money(self.discount_percentage),
            "discounted_amount": money(self.discounted_amount),
            "is_monetary_discount": self.is_monetary_discount,
            "total_including_tax": money(self.total_including_tax),
            "net_price": money(self.net_price),
            "tax_amount": money(self.tax_amount),
        }


def item_amounts(
    unit_price: Decimal,
    quantity: int,
    tax_rate: Decimal | None,
    *,
    discount_money: Decimal | None = None,
    discount_percent: Decimal | None = None,
) -> ItemAmounts:
    """Amounts of one line; at most one of `discount_money` (tax-inclusive) and `discount_percent`."""
    if discount_money is not None and discount_percent is not None:
        raise ValueError("an item has either a money discount or a percentage discount")
    factor = 1 + (tax_rate or Decimal(0)) / HUNDRED
    gross = unit_price * quantity * factor
    if discount_money is not None:
        discounted = discount_money
        percentage = round_half_up(discounted / gross * HUNDRED, BASIS) if gross else Decimal(0)
    elif discount_percent is not None:
        percentage = discount_percent
        discounted = round_half_up(gross * discount_percent / HUNDRED, CENT)
    else:
        percentage = discounted = Decimal(0)
    total = round_half_up(gross - discounted, CENT)
    return ItemAmounts(
        unit_price=unit_price,
        quantity=quantity,
        tax_rate=tax_rate,
        discount_percentage=percentage,
        discounted_amount=discounted,
        is_monetary_discount=discount_money is not None,
        total_including_tax=total,
        net_price=round_half_up(total / factor, MILLI),
        tax_amount=round_half_up(unit_price * quantity * (tax_rate or Decimal(0)) / HUNDRED, CENT),
    )


def invoice_amounts(items: list[ItemAmounts]) -> dict[str, str]:
    """An invoice's totals from its (live) items, in Cliniko's JSON shape."""
    total = sum((item.total_including_tax for item in items), Decimal(0))
    net = round_half_up(sum((item.net_price for item in items), Decimal(0)), CENT)
    return {
        "total_amount": money(total),
        "net_amount": money(net),
        "tax_amount": money(total - net),
        "discounted_amount": money(sum((item.discounted_amount for item in items), Decimal(0))),
    }
