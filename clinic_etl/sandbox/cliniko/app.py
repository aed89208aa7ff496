"""The Cliniko API v1 simulator: a Starlette app serving a Practice under `/v1` (GET only).

Links are built from the request's own scheme/host/port, so they work in-process (httpx ASGITransport)
and behind uvicorn. Choices where the reference is silent: a 404 body is `{"message": "Not Found"}`; the
single-record routes without a `q[]` parameter in the spec (/practitioners/{id}, /taxes/{id}) refuse any
filter as not searchable; an inactive practitioner is still served by /practitioners/{id} (invoices link
to it); /invoices/{id}/invoice_items answers 404 only when the invoice does not exist at all (its items
are hidden with it when it is deleted or archived, unless asked for with `q[]=deleted_at:*` etc.);
/appointments/{appointment_id}/invoices (the spec's "List invoices for appointment") lists the invoices whose
`appointment` link names that id, empty when there are none (whether an unknown appointment is a 404 is not said).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clinic_etl.sandbox.cliniko.filters import FilterError
from clinic_etl.sandbox.cliniko.guard import SANDBOX_CLINIKO_API_KEY, FixedWindowLimiter, Guard
from clinic_etl.sandbox.cliniko.listing import order_rows, paginate
from clinic_etl.sandbox.cliniko.practice import Practice, build_practice
from clinic_etl.sandbox.cliniko.resources import RESOURCES, Resource, Row, filters_for, visible
from clinic_etl.sandbox.cliniko.settings import public_settings

Endpoint = Callable[[Request], Awaitable[Response]]


def _api_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/v1"


def _filter_texts(request: Request) -> list[str]:
    return request.query_params.getlist("q[]") + request.query_params.getlist("q")


def _record_id(raw: str) -> str:
    if not raw.isdigit():
        raise HTTPException(404, "Not Found")
    return str(int(raw))


def _listing(request: Request, resource: Resource, rows: list[Row]) -> JSONResponse:
    params = request.query_params
    ordered = order_rows(rows, params.get("sort"), params.get("order"))
    page, envelope = paginate(ordered, resource.plural, request.url, params)
    base = _api_base(request)
    return JSONResponse({resource.plural: [resource.render(row, base) for row in page], **envelope})


def _routes(practice: Practice) -> list[Route]:
    def list_endpoint(resource: Resource, route: str, scope: Callable[[Row], bool] | None = None) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            filters = filters_for(route, _filter_texts(request))
            return _listing(request, resource, visible(resource.rows(practice), filters, scope))

        return endpoint

    def get_endpoint(resource: Resource, route: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            filters = filters_for(route, _filter_texts(request))
            record_id = _record_id(request.path_params["id"])
            found = visible([row for row in resource.rows(practice) if row["id"] == record_id], filters)
            if not found:
                raise HTTPException(404, "Not Found")
            return JSONResponse(resource.render(found[0], _api_base(request)))

        return endpoint

    async def items_of_invoice(request: Request) -> Response:
        route = "/invoices/{invoice_id}/invoice_items"
        filters = filters_for(route, _filter_texts(request))
        invoice_id = _record_id(request.path_params["invoice_id"])
        if not any(invoice["id"] == invoice_id for invoice in practice.invoices):
            raise HTTPException(404, "Not Found")
        rows = visible(practice.invoice_items, filters, lambda row: row["invoice_id"] == invoice_id)
        return _listing(request, RESOURCES["invoice_items"], rows)

    async def invoices_of_appointment(request: Request) -> Response:
        route = "/appointments/{appointment_id}/invoices"
        filters = filters_for(route, _filter_texts(request))
        appointment_id = _record_id(request.path_params["appointment_id"])
        rows = visible(practice.invoices, filters, lambda row: row["appointment_id"] == appointment_id)
        return _listing(request, RESOURCES["invoices"], rows)

    async def settings(request: Request) -> Response:
        return JSONResponse(public_settings())

    practitioners = RESOURCES["practitioners"]
    routes = [
        Route("/v1/invoices/{invoice_id}/invoice_items", items_of_invoice),
        Route("/v1/appointments/{appointment_id}/invoices", invoices_of_appointment),
        Route("/v1/practitioners/inactive", list_endpoint(practitioners, "/practitioners/inactive",
                                                          lambda row: not row["active"])),
        Route("/v1/practitioners", list_endpoint(practitioners, "/practitioners", lambda row: row["active"])),
        Route("/v1/settings/public", settings),
    ]  # fmt: skip
    for plural, resource in RESOURCES.items():
        if plural != "practitioners":
            routes.append(Route(f"/v1/{plural}", list_endpoint(resource, f"/{plural}")))
        routes.append(Route(f"/v1/{plural}/{{id}}", get_endpoint(resource, f"/{plural}/{{id}}")))
    return routes


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": str(exc)}, status_code=400)


def create_app(
    practice: Practice | None = None,
    *,
    api_key: str = SANDBOX_CLINIKO_API_KEY,
    requests_per_minute: int = 200,
    clock: Callable[[], float] = time.time,
    time_scale: float = 1,
) -> Starlette:
    """The simulator over `practice` (default: build_practice()); the app reads the practice's lists on
    every request, so rows added or altered afterwards are served as they are. `time_scale` > 1 runs the
    rate-limit window that many times faster than real time (a benchmark's minutes last seconds)."""
    data = practice if practice is not None else build_practice()
    limiter = FixedWindowLimiter(requests_per_minute, clock, 60 if time_scale == 1 else 60 / time_scale)
    handlers: dict[Any, Any] = {HTTPException: _http_error, FilterError: _bad_request}
    app = Starlette(
        routes=_routes(data),
        middleware=[Middleware(Guard, api_key=api_key, limiter=limiter)],
        exception_handlers=handlers,
    )
    app.state.practice = data
    return app
