"""Xero's field limits and text cleaning, taken from Xero's own OpenAPI schema, not field by field.

`field_limits.json` (made by `scripts/extract_xero_schema.py` from Xero's official spec) lists, per schema, the
string properties with a `maxLength` and the properties that lead to other such schemas. `fitted` walks a
request element along it: every bounded string is made one line (control characters and line breaks become a
space, runs of spaces one) and cut to its limit; an identity field (ContactNumber, InvoiceNumber) that does not fit
is not cut, since cutting it would merge two records, but reported so that its record is held back.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

IDENTITIES = frozenset({"ContactNumber", "InvoiceNumber", "CreditNoteNumber"})
_SURROGATES = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SPACES = re.compile(r" {2,}")


@cache
def limits() -> dict[str, dict[str, int | str]]:
    return json.loads((Path(__file__).with_name("field_limits.json")).read_text(encoding="utf-8"))["schemas"]


def valid_text(value: str) -> str:
    """Lone surrogates (which no UTF-8 request can carry) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", value)


def one_line(value: str) -> str:
    return _SPACES.sub(" ", _BREAKS.sub(" ", valid_text(value))).strip()


def fitted(schema: str, element: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The element with its bounded strings cleaned and cut to Xero's limits, and the identity fields too long to
    send (each as a reason naming the field and the limit)."""
    bounds = limits().get(schema, {})
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in element.items():
        bound = bounds.get(name)
        if isinstance(bound, int) and isinstance(value, str):
            value = one_line(value)
            if len(value) > bound and name in IDENTITIES:
                problems.append(f"{schema}.{name} is {len(value)} characters; Xero allows at most {bound}")
            elif len(value) > bound:
                value = value[:bound].rstrip()
        elif isinstance(bound, str) and isinstance(value, dict):
            value, inner = fitted(bound, value)
            problems += inner
        elif isinstance(bound, str) and isinstance(value, list):
            parts = [fitted(bound, v) if isinstance(v, dict) else (v, []) for v in value]
            value = [v for v, _ in parts]
            problems += [p for _, inner in parts for p in inner]
        out[name] = value
    return out, problems
