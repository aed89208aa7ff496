"""Cliniko's `q[]=<field>:<operator><value>` filters: parsing, validation per field type, and matching.

Operators per type follow the developer portal ("Filtering Results"): a date-time field has no `=`, only a
numeric `=` takes a comma list, `?`/`!?`/`*` take no value. Comparisons with a null column are false, as in
SQL; `~` and `~~` are case-insensitive (ILIKE), `=`/`!=` on strings are exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clinic_etl.sandbox.cliniko.wire import parse_utc

NOT_SEARCHABLE = "This column is not searchable."

OPERATORS: dict[str, tuple[str, ...]] = {
    "date": ("=", ">=", ">", "<=", "<", "?", "!?"),
    "datetime": (">=", ">", "<=", "<", "?", "!?", "*"),
    "numeric": ("=", "!=", ">=", ">", "<=", "<", "?", "!?"),
    "decimal": ("=", "!=", ">=", ">", "<=", "<", "?", "!?"),  # the portal's numeric operators, on a decimal string
    "string": ("=", "!=", "~", "~~", "?", "!?"),
    "boolean": ("=", "!="),
    "array": ("~",),
}
_LONGEST_FIRST = ("!?", "!=", ">=", "<=", "~~", "=", ">", "<", "~", "?", "*")
_NO_VALUE = ("?", "!?", "*")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_PATTERN = re.compile(r"^[\d*]{4}-[\d*]{2}-[\d*]{2}$")
_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


class FilterError(ValueError):
    """A filter the API refuses with HTTP 400 and `{"message": str(error)}`."""


@dataclass(frozen=True)
class Filter:
    field: str
    kind: str
    op: str
    value: Any

    def matches(self, record: dict[str, Any]) -> bool:
        actual = record.get(self.field)
        if self.op == "*":
            return True
        if self.op == "?":
            return actual is not None
        if self.op == "!?":
            return actual is None
        if actual is None:
            return False
        if self.kind == "numeric":
            return int(actual) in self.value if self.op == "=" else _COMPARE[self.op](int(actual), self.value)
        if self.kind == "decimal":
            number = Decimal(actual)
            return number in self.value if self.op == "=" else _COMPARE[self.op](number, self.value)
        if self.kind == "datetime":
            return _COMPARE[self.op](parse_utc(actual), self.value)
        if self.kind == "date":
            if isinstance(self.value, str):  # wildcard pattern such as ****-05-**
                return len(actual) == 10 and all(p in ("*", a) for p, a in zip(self.value, actual, strict=True))
            return _COMPARE[self.op](date.fromisoformat(actual), self.value)
        if self.kind == "string":
            if self.op in ("~", "~~"):
                return self.value.fullmatch(actual) is not None
            return _COMPARE[self.op](actual, self.value)
        if self.kind == "boolean":
            return _COMPARE[self.op](bool(actual), self.value)
        return str(self.value) in {str(item) for item in actual}  # array ~


def parse_filter(text: str, searchable: dict[str, str]) -> Filter:
    field, colon, rest = text.partition(":")
    if not colon or not field:
        raise FilterError(f"Invalid filter '{text}': expected <field>:<operator><value>.")
    if field not in searchable:
        raise FilterError(NOT_SEARCHABLE)
    kind = searchable[field]
    op = next((candidate for candidate in _LONGEST_FIRST if rest.startswith(candidate)), None)
    if op is None or op not in OPERATORS[kind]:
        raise FilterError(f"Invalid filter '{text}': unsupported operator for a {kind} field.")
    raw = rest[len(op) :]
    if op in _NO_VALUE:
        if raw:
            raise FilterError(f"Invalid filter '{text}': the {op} operator takes no value.")
        return Filter(field, kind, op, None)
    return Filter(field, kind, op, _parse_value(text, kind, op, raw))


def parse_filters(texts: list[str], searchable: dict[str, str]) -> list[Filter]:
    return [parse_filter(text, searchable) for text in texts if text != ""]


def _parse_value(text: str, kind: str, op: str, raw: str) -> Any:
    invalid = FilterError(f"Invalid filter '{text}': malformed {kind} value.")
    if kind == "numeric":
        parts = raw.split(",") if op == "=" else [raw]
        if not all(_INTEGER.match(part) for part in parts):
            raise invalid
        return {int(part) for part in parts} if op == "=" else int(parts[0])
    if kind == "decimal":
        parts = raw.split(",") if op == "=" else [raw]
        if not all(_DECIMAL.match(part) for part in parts):
            raise invalid
        return {Decimal(part) for part in parts} if op == "=" else Decimal(parts[0])
    if kind == "datetime":
        if not _DATETIME.match(raw):
            raise FilterError(f"Invalid filter '{text}': date-times must be UTC, e.g. 2014-08-30T18:00:00Z.")
        try:
            return parse_utc(raw)
        except ValueError:
            raise invalid from None
    if kind == "date":
        if op == "=" and "*" in raw and _DATE_PATTERN.match(raw):
            return raw
        try:
            if not _DATE.match(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise FilterError(f"Invalid filter '{text}': dates must be YYYY-MM-DD.") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise invalid
        return raw.lower() == "true"
    if kind == "array":
        if not _INTEGER.match(raw):
            raise invalid
        return raw
    if op == "~":
        return re.compile(".*" + re.escape(raw) + ".*", re.IGNORECASE | re.DOTALL)
    if op == "~~":
        pattern = ".*".join(re.escape(part) for part in raw.split("%"))
        return re.compile(pattern, re.IGNORECASE | re.DOTALL)
    return raw
