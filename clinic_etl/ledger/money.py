"""Exact money: parse source strings to Decimal, round half-up, split totals without losing a cent."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def plain_decimal(value: object) -> Decimal | None:
    """A decimal string as Cliniko serialises money ("81.818", "50.0", "-5.5") -> Decimal, else None: no exponent
    ("1e3"), grouping ("1,000.00", "1_000"), spaces, sign "+", non-ASCII digits, "", NaN or non-string (a JSON
    number is turned into text by the extract first, exactly: 81.8 -> "81.8")."""
    if not isinstance(value, str) or _PLAIN.fullmatch(value) is None:
        return None
    return Decimal(value)


def to_decimal(value: object) -> Decimal:
    """'81.818', 81.818 (a JSON number) or Decimal -> Decimal, via str so no binary float leaks in."""
    if isinstance(value, Decimal):
        return value
    if value is None or isinstance(value, bool):
        raise InvalidOperation(f"not a number: {value!r}")
    result = Decimal(str(value).strip())
    if not result.is_finite():
        raise InvalidOperation(f"not a finite number: {value!r}")
    return result


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def allocate(total: Decimal, parts: list[Decimal]) -> list[Decimal]:
    """Round each part to cents so that they add up exactly to `total` (largest remainder method)."""
    rounded = [p.quantize(CENT, ROUND_HALF_UP) for p in parts]
    added = sum(rounded, Decimal(0)) if len(rounded) != 1 else rounded[0]
    if added == total:  # the usual case: nothing to spread (the residual below is then 0)
        return rounded
    residual = int((total - added) / CENT)
    if not parts or residual == 0:
        return rounded
    sign = 1 if residual > 0 else -1
    order = sorted(range(len(parts)), key=lambda i: (parts[i] - rounded[i]) * sign, reverse=True)
    for n in range(abs(residual)):
        rounded[order[n % len(order)]] += CENT * sign
    return rounded
