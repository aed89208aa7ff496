"""The Clio Manage API v4 simulator: a Starlette app serving a Firm under `/api/v4` (read side), Clio's OAuth
token endpoint, and a test-only stats route.

Routes (each also without the `.json` suffix, as Rails serves both):
  POST /oauth/token, POST /oauth/deauthorize
  GET  /api/v4/<resource>.json            {"data": [...], "meta": {"paging": {...}, "records": N}}
  GET  /api/v4/<resource>/{id}.json       {"data": {...}} with ETag / Last-Modified (304 on a match)
  GET  /api/v4/settings/billing.json, GET /api/v4/users/who_am_i.json   {"data": {...}}
  GET  /__sandbox__/stats
Resources: bills, line_items, allocations, credit_memos, bank_accounts, bank_transactions, contacts, matters,
trust_line_items, interest_charges, users, currencies, practice_areas, bill_themes (no GET by id where the
spec has none). Read-only: other methods get 405. The app reads the firm's lists on every request, so rows
added or altered afterwards are served as they are.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clinic_etl.sandbox.clio import fields, filters
from clinic_etl.sandbox.clio.admin import Stats
from clinic_etl.sandbox.clio.errors import ApiError, ClioJSON, invalid_token, not_found
from clinic_etl.sandbox.clio.firm import Firm, build_firm
from clinic_etl.sandbox.clio.guard import Guard
from clinic_etl.sandbox.clio.listing import CURSOR_ORDER, paginate, parse_order, sort_rows
from clinic_etl.sandbox.clio.oauth import ACCESS_TOKEN_TTL_S, TokenStore, bearer, token_endpoint
from clinic_etl.sandbox.clio.ratelimit import DEFAULT_PER_MINUTE, RateLimiter
from clinic_etl.sandbox.clio.render import render
from clinic_etl.sandbox.clio.resources import NO_ORDER, NO_SHOW, RESOURCES, Resource
from clinic_etl.sandbox.clio.wire import ZONE, etag, http_date, parse_stamp

Endpoint = Callable[[Request], Awaitable[Response]]
PREFIX = "/api/v4"


def _both(path: str, endpoint: Endpoint, methods: list[str] | None = None) -> list[Route]:
    """`<path>.json` and `<path>`."""
    return [Route(f"{path}.json", endpoint, methods=methods), Route(path, endpoint, methods=methods)]


def _record_id(raw: str) -> int:
    raw = raw.removesuffix(".json")
    if not raw.isdigit():
        raise not_found()
    return int(raw)


def _not_modified(request: Request, row: dict, tag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is not None:
        candidates = {part.strip().removeprefix("W/") for part in wanted.split(",")}
        return "*" in candidates or tag in candidates
    since = request.headers.get("if-modified-since")
    if since and row.get("updated_at"):
        try:
            return parse_stamp(row["updated_at"]).replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _single(request: Request, kind: str, row: dict, firm: Firm) -> Response:
    selection = fields.parse(request.query_params.get("fields"), kind)
    tag = etag(row)
    headers = {"ETag": tag}
    if row.get("updated_at"):
        headers["Last-Modified"] = http_date(row["updated_at"])
    if _not_modified(request, row, tag):
        return Response(status_code=304, headers=headers)
    return ClioJSON({"data": render(kind, row, selection, firm)}, headers=headers)


def _routes(firm: Firm, tokens: TokenStore, stats: Stats, clock: Callable[[], float]) -> list[Route]:
    def index(resource: Resource) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            params = request.query_params
            selection = fields.parse(params.get("fields"), resource.kind)
            if resource.path in NO_ORDER:
                order, key, descending = CURSOR_ORDER, (lambda row: row["id"]), False
            else:
                order, _, descending = parse_order(params.get("order"), resource.default_order, resource.orders)
                key = resource.sort_key(order.partition("(")[0], firm)
            today = datetime.fromtimestamp(clock(), ZONE).date()
            rows = [row for row in resource.rows(firm) if resource.listed(row, params)]
            rows = filters.apply(rows, resource.filters, params, filters.Context(firm, today))
            page, meta = paginate(sort_rows(rows, key, descending), order, request.url, params, resource.max_limit)
            return ClioJSON({"data": [render(resource.kind, row, selection, firm) for row in page], "meta": meta})

        return endpoint

    def show(resource: Resource) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            record_id = _record_id(request.path_params["id"])
            row = firm.find(resource.collection, record_id)
            if row is None or not resource.shown(row):
                raise not_found(resource.kind)
            return _single(request, resource.kind, row, firm)

        return endpoint

    async def billing_settings(request: Request) -> Response:
        return _single(request, "BillingSetting", firm.billing_settings[0], firm)

    async def who_am_i(request: Request) -> Response:
        return _single(request, "User", firm.users[0], firm)

    async def token(request: Request) -> Response:
        return await token_endpoint(request, tokens)

    async def deauthorize(request: Request) -> Response:
        presented = bearer(request)
        if presented is None or not tokens.valid(presented):
            return invalid_token()
        tokens.revoke_grant()
        return ClioJSON({})

    async def stats_endpoint(request: Request) -> Response:
        return ClioJSON(stats.snapshot())

    routes = [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/deauthorize", deauthorize, methods=["POST"]),
        Route("/__sandbox__/stats", stats_endpoint, methods=["GET"]),
        *_both(f"{PREFIX}/settings/billing", billing_settings, ["GET"]),
        *_both(f"{PREFIX}/users/who_am_i", who_am_i, ["GET"]),
    ]
    for path, resource in RESOURCES.items():
        routes += _both(f"{PREFIX}/{path}", index(resource), ["GET"])
        if path not in NO_SHOW:
            routes.append(Route(f"{PREFIX}/{path}/{{id}}", show(resource), methods=["GET"]))
    return routes


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kinds = {404: "RecordNotFound", 405: "MethodNotAllowed"}
    message = "The requested resource could not be found." if exc.status_code == 404 else str(exc.detail)
    error = ApiError(exc.status_code, kinds.get(exc.status_code, "Error"), message, dict(exc.headers or {}))
    return error.response()


def create_app(
    firm: Firm | None = None,
    *,
    clock: Callable[[], float] = time.time,
    requests_per_minute: int = DEFAULT_PER_MINUTE,
    token_ttl_s: float = ACCESS_TOKEN_TTL_S,
) -> Starlette:
    """The simulator over `firm` (default: build_firm()). `clock` drives token expiry and rate-limit windows;
    `token_ttl_s` is the access tokens' lifetime (`expires_in`); `requests_per_minute` the per-token limit."""
    data = firm if firm is not None else build_firm()
    tokens = TokenStore(clock, token_ttl_s)
    stats = Stats()
    limiter = RateLimiter(requests_per_minute, clock)
    app = Starlette(
        routes=_routes(data, tokens, stats, clock),
        middleware=[Middleware(Guard, tokens=tokens, limiter=limiter, stats=stats)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.firm, app.state.tokens, app.state.stats = data, tokens, stats
    return app
