"""Ordering and page-number pagination of list routes, with Cliniko's `links` (self/next/previous).

Cliniko: `page` is 1-based, `per_page` defaults to 50 and goes "up to 100". Choice where the docs are
silent: a `per_page` above 100 is clamped to 100 (the request is served, not refused), and the links keep
the caller's query string verbatim except `page`; a `page` or `per_page` that is not a positive integer, an
unknown sort column or an `order` other than asc/desc is a 400. Default order is `created_at` ascending,
`id` breaks ties; nulls sort last ascending and first descending, as in PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import URL, QueryParams

from clinic_etl.sandbox.cliniko.filters import FilterError

DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _typed(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool | int):
        return (0, Decimal(int(value)))
    if isinstance(value, str) and _NUMBER.match(value):
        return (0, Decimal(value))
    return (1, value if isinstance(value, str) else str(value))


def _sort_key(column: str) -> Callable[[dict[str, Any]], tuple]:
    return lambda row: (row.get(column) is None, _typed(row.get(column)))


def order_rows(rows: list[dict[str, Any]], sort: str | None, order: str | None) -> list[dict[str, Any]]:
    direction = (order or "asc").lower()
    if direction not in ("asc", "desc"):
        raise FilterError("Invalid order: use asc or desc.")
    keys: list[tuple[str, bool]] = []
    for part in (sort or "created_at").split(","):
        column, _, explicit = part.strip().partition(":")
        explicit = (explicit or direction).lower()
        if explicit not in ("asc", "desc"):
            raise FilterError(f"Invalid sort direction '{explicit}'.")
        if rows and not any(column in row for row in rows):
            raise FilterError(f"Invalid sort column '{column}'.")
        keys.append((column, explicit == "desc"))
    ordered = sorted(rows, key=_sort_key("id"))
    for column, descending in reversed(keys):
        ordered.sort(key=_sort_key(column), reverse=descending)
    return ordered


def _positive(params: QueryParams, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise FilterError(f"Invalid {name} '{raw}': expected a positive integer.")
    return int(raw)


def page_url(url: URL, params: QueryParams, page: int) -> str:
    pairs = [("page", str(page))] + [(k, v) for k, v in params.multi_items() if k != "page"]
    return str(url.replace(query=urlencode(pairs, quote_via=quote)))


def paginate(
    rows: list[dict[str, Any]], plural: str, url: URL, params: QueryParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of the requested page and the envelope (`total_entries`, `links`) around them."""
    page = _positive(params, "page", 1)
    per_page = min(_positive(params, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    start = (page - 1) * per_page
    links = {"self": page_url(url, params, page)}
    if start + per_page < len(rows):
        links["next"] = page_url(url, params, page + 1)
    if page > 1:
        links["previous"] = page_url(url, params, page - 1)
    return rows[start : start + per_page], {"total_entries": len(rows), "links": links}
