"""Text fitted to Xero's field limits and one line (`xero/fields.py`), for one element or a whole column at once
(checking a column in C and fitting only the values that need it), and a frame built from columns."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd

from clinic_etl.xero.fields import fitted, limits, one_line


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
