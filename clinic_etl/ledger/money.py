"""Exact money: parse source strings to Decimal, round half-up, split totals without losing a cent."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

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


# Whole columns of money at once (the transform of a million lines): each distinct row of Decimals, as written (str,
# which tells 90.0 from 90.00 and -0 from 0), is worked out once and its answer spread over the column by numpy.
MAX_CENTS = 10**15  # |cents| beyond it takes the exact Decimal path: int64 sums of a million such values stay exact


def decimal_mask(values: np.ndarray) -> np.ndarray:
    """Which of `values` (an object array) are Decimals."""
    if pd.api.types.infer_dtype(values, skipna=False) == "decimal":
        return np.ones(len(values), dtype=bool)
    return np.fromiter((isinstance(v, Decimal) for v in values), dtype=bool, count=len(values))


def written_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[Decimal, ...] | None]]:
    """Codes of the rows of `columns` (object arrays of one length) by their Decimals as written, and per code the
    Decimals of its first row; a row holding anything but Decimals gets a code of its own, and None."""
    every = np.ones(len(columns[0]), dtype=bool)
    for column in columns:
        every &= decimal_mask(column)
    form = " ".join(["%s"] * len(columns))  # a Decimal's str has no space
    if every.all():
        text = list(map(form.__mod__, zip(*columns, strict=True)))
    else:
        rows = zip(*columns, strict=True)
        text = [form % row if ok else None for row, ok in zip(rows, every.tolist(), strict=True)]
    codes, uniques = pd.factorize(np.array(text, dtype=object))
    written: list[tuple[Decimal, ...] | None] = [tuple(c[r] for c in columns) for r in first_positions(codes).tolist()]
    if not every.all():  # each row of another kind (code -1) its own code, with no Decimals
        others = np.flatnonzero(codes < 0)
        codes[others] = len(uniques) + np.arange(len(others))
        written += [None] * len(others)
    return codes, written


def first_positions(codes: np.ndarray) -> np.ndarray:
    """Where each code of `pd.factorize` (numbered in order of appearance; -1 aside) first appears."""
    seen = np.maximum.accumulate(np.concatenate(([-1], codes[:-1]))) if len(codes) else codes
    return np.flatnonzero(codes > seen)


def whole_cents(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per column of `columns` (object arrays of one length) and value: its amount in integer cents and True when it
    is a finite Decimal worth a whole number of cents (any exponent: 90, 90.0 and 90.000 are 9000) below MAX_CENTS
    (else 0 and False), each distinct row worked out once. Two arrays of shape (columns, values)."""
    codes, rows = written_rows(columns)
    amounts = np.zeros((len(rows), len(columns)), dtype=np.int64)
    exact = np.zeros((len(rows), len(columns)), dtype=bool)
    for n, row in enumerate(rows):
        for m, value in enumerate(row or ()):
            found = _whole_cents(value)
            if found is not None:
                amounts[n, m], exact[n, m] = found, True
    return amounts[codes].T, exact[codes].T


def _whole_cents(value: Decimal | None) -> int | None:
    if value is None or not value.is_finite() or (value and value.adjusted() > 12):
        return None
    numerator, denominator = value.as_integer_ratio()
    whole, rest = divmod(numerator * 100, denominator)
    return whole if rest == 0 and abs(whole) < MAX_CENTS else None


def rounded_cents(value: Decimal) -> tuple[Decimal, int] | None:
    """`cents(value)` and its amount in integer cents, or None for a value that is not a finite Decimal below
    MAX_CENTS (the caller then takes the exact path)."""
    if not isinstance(value, Decimal) or not value.is_finite() or (value and value.adjusted() > 12):
        return None
    rounded = cents(value)
    return rounded, _whole_cents(rounded)
