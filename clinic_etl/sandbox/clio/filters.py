"""List filters: query parameters such as `updated_since`, `state`, `client_id`, `ids[]` (from the spec's
parameters of each index route), their parsing (a malformed value is a 400) and matching.

Choices where the spec is silent (unverified): "after" / "before" filters are strict (`updated_since` keeps
records updated strictly after the given instant, `issued_after=D` keeps bills issued after D); a date-time
without an offset is UTC; a parameter the route does not take is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio.errors import bad_request
from clinic_etl.sandbox.clio.wire import parse_stamp

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm

Row = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What a matcher may consult besides the row: the firm and today's date (the app's clock, New York)."""

    firm: Firm
    today: date


@dataclass(frozen=True)
class Filter:
    parse: Callable[[str, str], Any]  # (parameter name, raw text) -> value, or raises a 400
    match: Callable[[Row, Any, Context], bool]
    many: bool = False  # `ids[]`: every occurrence is one value


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: '{raw}' is not an integer.") from None


def _nullable_int(name: str, raw: str) -> int | None:
    return None if raw == "null" else _int(name, raw)


def _bool(name: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"Invalid value for {name}: '{raw}' is not a boolean.")
    return raw.lower() == "true"


def _date(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: '{raw}' is not an ISO-8601 date.") from None


def _stamp(name: str, raw: str) -> datetime:
    try:
        return parse_stamp(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: '{raw}' is not an ISO-8601 timestamp.") from None


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in allowed:
            raise bad_request(f"Invalid value for {name}: '{raw}'. Expected one of: {', '.join(allowed)}.")
        return raw

    return parse


def equals(key: str, nullable: bool = False) -> Filter:
    """An id filter on a stored id, or on a list of ids (a bill's `matter_ids`)."""

    def match(row: Row, value: Any, ctx: Context) -> bool:
        stored = row.get(key)
        if isinstance(stored, list):
            return value in stored if value is not None else not stored
        return stored == value

    return Filter(_nullable_int if nullable else _int, match)


def ids(key: str = "id", exclude: bool = False) -> Filter:
    return Filter(_int, lambda row, values, firm: (row.get(key) in values) != exclude, many=True)


def since(key: str) -> Filter:
    return Filter(_stamp, lambda row, moment, firm: row.get(key) is not None and parse_stamp(row[key]) > moment)


def date_after(key: str) -> Filter:
    return Filter(_date, lambda row, day, firm: bool(row.get(key)) and date.fromisoformat(row[key][:10]) > day)


def date_before(key: str) -> Filter:
    return Filter(_date, lambda row, day, firm: bool(row.get(key)) and date.fromisoformat(row[key][:10]) < day)


def date_on(key: str) -> Filter:
    return Filter(_date, lambda row, day, firm: bool(row.get(key)) and date.fromisoformat(row[key][:10]) == day)


def choice(match: Callable[[Row, str, Context], bool], *allowed: str) -> Filter:
    return Filter(_choice(*allowed), match)


def flag(match: Callable[[Row, bool, Context], bool]) -> Filter:
    return Filter(_bool, match)


def text(match: Callable[[Row, str, Context], bool]) -> Filter:
    return Filter(lambda name, raw: raw, match)


def integer(match: Callable[[Row, int, Context], bool]) -> Filter:
    return Filter(_int, match)


COMMON: dict[str, Filter] = {
    "ids[]": ids(),
    "updated_since": since("updated_at"),
    "created_since": since("created_at"),
}


def apply(rows: list[Row], specs: dict[str, Filter], params: Any, ctx: Context) -> list[Row]:
    """Keep the rows matching every given parameter the route takes (`params`: Starlette QueryParams)."""
    checks: list[tuple[Filter, Any]] = []
    for name, spec in specs.items():
        raw = params.getlist(name)
        if not raw:
            continue
        if spec.many:
            checks.append((spec, {spec.parse(name, item) for item in raw}))
        else:
            checks.append((spec, spec.parse(name, raw[-1])))
    return [row for row in rows if all(spec.match(row, value, ctx) for spec, value in checks)]
