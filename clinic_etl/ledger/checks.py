"""The ledger contract's column checks, each taking a whole column and asking its values in C.

pandera's own forms of these ask Python once per value: `Series[str]` maps an `isinstance` lambda over the column,
`str_matches` runs pandas' string accessor, `element_wise` checks call three Python functions a value. On a million
lines they were most of the contract's time; these give the same answers (the same failure cases, by row) faster:

- `Text`: the `str` dtype, a column of text and missing values, told in one C pass (`infer_dtype`); a column holding
  anything else is checked value by value as pandera does, so its failure cases are the same.
- `matches(pattern)`: the regular expression matched over the column by `map` in C.
- `iso_date`: a calendar date written YYYY-MM-DD, asked once per distinct value (a month has a few dozen).
- `money_column`, `positive_column`: finite Decimals (and > 0), `Decimal.is_finite` mapped over the column.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.extensions as extensions
from pandera import dtypes
from pandera.engines import pandas_engine

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ZERO = Decimal(0)


@pandas_engine.Engine.register_dtype
@dtypes.immutable
class Text(pandas_engine.NpString):
    """`str` (Python strings in an object column, missing values allowed), told for the whole column in C."""

    def check(self, pandera_dtype: dtypes.DataType, data_container: pd.Series | None = None) -> bool | pd.Series:
        if data_container is not None and data_container.dtype == object:
            kind = pd.api.types.infer_dtype(data_container.to_numpy(), skipna=True)
            if kind in ("string", "empty"):
                return True
        return super().check(pandera_dtype, data_container)


@extensions.register_check_method(statistics=["pattern"], supported_types=pd.Series)
def matches(series: pd.Series, *, pattern: str) -> pd.Series:
    """Each value is text that `pattern` matches from its start (as pandera's `str_matches`)."""
    expression = re.compile(pattern)
    values = series.to_numpy(dtype=object)
    try:
        found = np.fromiter(map(bool, map(expression.match, values)), dtype=bool, count=len(values))
    except TypeError:  # not every value is text
        found = np.array([isinstance(v, str) and expression.match(v) is not None for v in values], dtype=bool)
    return pd.Series(found, index=series.index, dtype=bool)


def calendar_date(value: object) -> date | None:
    """`value` as the day it names, if it is text `YYYY-MM-DD` naming a day of the calendar (not 2026-02-30)."""
    if not isinstance(value, str) or ISO_DATE.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@extensions.register_check_method(supported_types=pd.Series)
def iso_date(series: pd.Series) -> pd.Series:
    """Each value is a calendar date written YYYY-MM-DD; each distinct value asked once."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object))
    # the last answer is for code -1 (missing): not a date
    answers = np.array([calendar_date(v) is not None for v in distinct] + [False], dtype=bool)
    return pd.Series(answers[codes], index=series.index, dtype=bool)


def money_column(series: pd.Series) -> pd.Series:
    """Each value is a finite Decimal."""
    values = series.to_numpy(dtype=object)
    try:
        finite = np.fromiter(map(Decimal.is_finite, values), dtype=bool, count=len(values))
    except TypeError:  # not every value is a Decimal
        finite = np.array([isinstance(v, Decimal) and v.is_finite() for v in series], dtype=bool)
    return pd.Series(finite, index=series.index, dtype=bool)


def positive_column(series: pd.Series) -> pd.Series:
    """Each value is a finite Decimal above zero."""
    finite = money_column(series)
    if not finite.all():
        return pd.Series(
            [isinstance(v, Decimal) and v.is_finite() and v > 0 for v in series], index=series.index, dtype=bool
        )
    values = series.to_numpy(dtype=object)
    return pd.Series(np.fromiter(map(_ZERO.__lt__, values), dtype=bool, count=len(values)), index=series.index)
