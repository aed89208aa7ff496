"""What goes on an invoice: the random choice of lines (services, retail, fees) and their discounts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from clinic_etl.sandbox.cliniko.money import ItemAmounts, item_amounts
from clinic_etl.sandbox.cliniko.reference import (
    BILLABLE_ITEMS,
    CONCESSION_PRICES,
    GST_FREE_ID,
    GST_ID,
    PRODUCTS,
)

TAXES: dict[str | None, tuple[str | None, Decimal | None]] = {
    GST_ID: ("GST", Decimal("10.0")),
    GST_FREE_ID: ("GST Free", Decimal("0.0")),
    None: (None, None),  # no tax link at all
}
SERVICE_MENU = {
    "physio": ("1", "2", "2", "2", "2", "3", "9"),
    "massage": ("4", "4", "5"),
    "ep": ("6", "7", "7", "7", "9"),
    "podiatry": ("8",),
}
_BILLABLE = {row[0]: row for row in BILLABLE_ITEMS}
_PRODUCT = {row[0]: row for row in PRODUCTS}


@dataclass
class Line:
    name: str
    code: str
    unit_price: Decimal
    quantity: int
    tax_id: str | None
    billable_item_id: str | None = None
    product_id: str | None = None
    concession: str = ""
    discount_money: Decimal | None = None
    discount_percent: Decimal | None = None

    def amounts(self) -> ItemAmounts:
        return item_amounts(
            self.unit_price,
            self.quantity,
            TAXES[self.tax_id][1],
            discount_money=self.discount_money,
            discount_percent=self.discount_percent,
        )


def service(item_id: str, quantity: int = 1, concession: bool = False) -> Line:
    _id, code, name, price, tax_id, _discipline, _archived = _BILLABLE[item_id]
    unit = CONCESSION_PRICES[item_id] if concession else price
    label = "Pensioner" if concession else ""
    return Line(name, code, Decimal(unit), quantity, tax_id, billable_item_id=item_id, concession=label)


def product(product_id: str, quantity: int = 1) -> Line:
    _id, code, name, ex_tax, _inc, _cost, _stock = _PRODUCT[product_id]
    return Line(name, code, Decimal(ex_tax), quantity, GST_ID, product_id=product_id)


def random_lines(rng: random.Random, discipline: str | None) -> list[Line]:
    """1-3 lines. No discipline (no practitioner) means a retail-only sale."""
    if discipline is None:
        chosen = rng.sample(sorted(_PRODUCT), rng.choice((1, 1, 2)))
        return [_discounted(rng, product(pid, rng.choice((1, 1, 1, 2, 3)))) for pid in chosen]
    if rng.random() < 0.03:
        return [service("11")]  # missed appointment fee, no tax
    lines = [_random_service(rng, discipline)]
    if rng.random() < 0.18:
        lines.append(product(rng.choice(sorted(_PRODUCT)), rng.choice((1, 1, 2))))
    if discipline in ("physio", "ep") and rng.random() < 0.05:
        lines.append(service("10"))
    if len(lines) < 3 and rng.random() < 0.07:
        lines.append(_random_service(rng, discipline))
    return [_discounted(rng, line) for line in lines]


def _random_service(rng: random.Random, discipline: str) -> Line:
    item_id = rng.choice(SERVICE_MENU[discipline])
    quantity = rng.choice((1, 1, 5)) if item_id == "9" else 1  # 5-class Pilates packs
    return service(item_id, quantity, concession=item_id in CONCESSION_PRICES and rng.random() < 0.1)


def _discounted(rng: random.Random, line: Line) -> Line:
    roll = rng.random()
    if roll < 0.004:
        line.discount_percent = Decimal(100)
    elif roll < 0.08:
        line.discount_percent = Decimal(rng.choice(("5", "10", "12.5", "15", "20")))
    elif roll < 0.15:
        gross = line.amounts().total_including_tax
        options = [Decimal(v) for v in ("5", "10", "15", "20", "7.5") if Decimal(v) < gross]
        line.discount_money = rng.choice(options) if options else None
    return line
