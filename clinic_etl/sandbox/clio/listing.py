"""Ordering and pagination of index routes, and the `meta` around a page (paging docs, FACTS §4).

`limit` is 1-200 (default 200; 1-2,000 on /users; outside that range -> 400, unverified). Cursor
pagination applies when the order is `id(asc)` (the default of most routes) and no `offset` is given:
`meta.paging.next` is the same URL with an opaque `page_token`, followed serially, unlimited. Any other order
(including the `date(asc)` default of allocations and credit memos) or an explicit `offset` uses offset
pagination, capped at 10,000 records: a page reaching past the cap is a 422 ArgumentError. `next`/`previous`
are omitted when there is no such page; `meta.records` is the number of matching records (corroborated by
client code, not by Clio's docs). Unverified: an offset page's `next` link is given even when that page
would be refused by the cap.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import URL, QueryParams

from clinic_etl.sandbox.clio.errors import ApiError, bad_request

MAX_LIMIT, OFFSET_CAP = 200, 10_000
CURSOR_ORDER = "id(asc)"
Row = dict[str, Any]
SortKey = Callable[[Row], Any]


def parse_order(raw: str | None, default: str, orders: dict[str, SortKey]) -> tuple[str, SortKey, bool]:
    """(order text, key, descending) for `field(asc|desc)` among the route's orders."""
    text = raw if raw else default
    field, _, direction = text.partition("(")
    direction = direction.rstrip(")")
    if field not in orders or direction not in ("asc", "desc") or not text.endswith(")"):
        raise bad_request(f"Invalid order: '{text}'.")
    return text, orders[field], direction == "desc"


def sort_rows(rows: list[Row], key: SortKey, descending: bool) -> list[Row]:
    """Nulls last ascending, first descending (as in PostgreSQL); id breaks ties in the same direction."""

    def full(row: Row) -> tuple:
        value = key(row)
        if isinstance(value, Decimal):
            value = float(value)
        return (value is None, value if value is not None else 0, row["id"])

    present = [row for row in rows if key(row) is not None]
    missing = [row for row in rows if key(row) is None]
    present.sort(key=full, reverse=descending)
    missing.sort(key=lambda row: row["id"], reverse=descending)
    return missing + present if descending else present + missing


def _limit(params: QueryParams, most: int) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return most
    if not raw.lstrip("-").isdigit() or not 1 <= int(raw) <= most:
        raise bad_request(f"Invalid limit '{raw}': limit can range between 1 and {most}.")
    return int(raw)


def _token(after: int | None = None, before: int | None = None) -> str:
    text = f"after:{after}" if after is not None else f"before:{before}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _untoken(raw: str) -> tuple[str, int]:
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        direction, _, value = decoded.partition(":")
        if direction not in ("after", "before"):
            raise ValueError(decoded)
        return direction, int(value)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Invalid page_token.") from None


def _link(url: URL, params: QueryParams, drop: tuple[str, ...], extra: dict[str, str]) -> str:
    pairs = [(k, v) for k, v in params.multi_items() if k not in drop] + list(extra.items())
    return str(url.replace(query=urlencode(pairs, quote_via=quote, safe="{},()[]")))


def paginate(
    rows: list[Row], order: str, url: URL, params: QueryParams, most: int = MAX_LIMIT
) -> tuple[list[Row], dict[str, Any]]:
    """`rows` already filtered and ordered by `order`; the page and the `meta` object. `most` is the route's
    largest (and default) `limit`: 200, except /users (2,000 per the spec)."""
    limit = _limit(params, most)
    raw_offset, raw_token = params.get("offset"), params.get("page_token")
    if raw_offset is not None and raw_token is not None:
        raise bad_request("Use either offset or page_token, not both.")
    if raw_offset is None and order == CURSOR_ORDER:
        return _cursor(rows, limit, raw_token, url, params)
    if raw_token is not None:
        raise bad_request("page_token requires order=id(asc) (cursor pagination).")
    if raw_offset is not None and (not raw_offset.isdigit()):
        raise bad_request(f"Invalid offset '{raw_offset}'.")
    offset = int(raw_offset or 0)
    if offset + limit > OFFSET_CAP:
        raise ApiError(422, "ArgumentError", f"Offset pagination is limited to {OFFSET_CAP} records; "
                       "use cursor pagination (order=id(asc), no offset) to retrieve more.")  # fmt: skip
    page = rows[offset : offset + limit]
    paging: dict[str, str] = {}
    if offset > 0:
        paging["previous"] = _link(url, params, ("offset",), {"offset": str(max(0, offset - limit))})
    if offset + limit < len(rows):
        paging["next"] = _link(url, params, ("offset",), {"offset": str(offset + limit)})
    return page, {"paging": paging, "records": len(rows)}


def _cursor(
    rows: list[Row], limit: int, raw_token: str | None, url: URL, params: QueryParams
) -> tuple[list[Row], dict[str, Any]]:
    if raw_token is None:
        page = rows[:limit]
    else:
        direction, pivot = _untoken(raw_token)
        if direction == "after":
            page = [row for row in rows if row["id"] > pivot][:limit]
        else:
            page = [row for row in rows if row["id"] < pivot][-limit:]
    paging: dict[str, str] = {}
    if page and any(row["id"] > page[-1]["id"] for row in rows):
        paging["next"] = _link(url, params, ("page_token",), {"page_token": _token(after=page[-1]["id"])})
    if page and any(row["id"] < page[0]["id"] for row in rows):
        paging["previous"] = _link(url, params, ("page_token",), {"page_token": _token(before=page[0]["id"])})
    return page, {"paging": paging, "records": len(rows)}
