"""The Starlette app: identity routes, the accounting API under /api.xro/2.0/ and the test-only admin routes.

Every accounting call goes through the same steps as on Xero: bearer token (401), ``xero-tenant-id`` naming a
connected organisation (403), that organisation's rate limits (429, counted in the state file), its concurrent
calls (429), then the resource, which sees that organisation's books alone. Writes run in one ``BEGIN IMMEDIATE``
transaction together with the organisation's Idempotency-Key check and record.
Injected faults (``POST /__sandbox__/faults``) are consumed after the rate-limit check; an
``after_write`` fault lets the request commit and then answers with the fault status.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    admin,
    auth,
    connections,
    contacts,
    creditnotes,
    email,
    idempotency,
    invoices,
    locks,
    payments,
    settings,
    tracking_options,
)
from .context import Ctx
from .org import seed
from .ratelimit import ConcurrencyLimiter, check_and_count
from .serialize import Resp, not_found, problem
from .state import Store

log = logging.getLogger(__name__)
PREFIX = "/api.xro/2.0/"
RESOURCES = {
    name.lower(): name
    for name in (
        "Organisation",
        "Accounts",
        "TaxRates",
        "TrackingCategories",
        "Contacts",
        "Invoices",
        "Payments",
        "CreditNotes",
    )
}
QUERY_NAMES = {
    name.lower(): name
    for name in (
        "where",
        "order",
        "IDs",
        "InvoiceNumbers",
        "ContactIDs",
        "Statuses",
        "page",
        "pageSize",
        "includeArchived",
        "createdByMyApp",
        "unitdp",
        "summaryOnly",
        "searchTerm",
        "summarizeErrors",
        "authEventId",
    )
}


class Incoming:
    """The parts of an HTTP request the simulator needs, read on the event loop."""

    def __init__(self, request: Request, body: bytes) -> None:
        self.method = request.method.upper()
        self.path = request.url.path
        self.url = self.path + ("?" + request.url.query if request.url.query else "")
        self.headers = {k.lower(): v for k, v in request.headers.items()}
        self.body = body
        self.query: dict[str, str] = {}
        for key in request.query_params:
            name = QUERY_NAMES.get(key.lower(), key)
            self.query[name] = ",".join(request.query_params.getlist(key))


class Simulator:
    def __init__(
        self,
        state_path: str | os.PathLike[str],
        clock: Callable[[], float],
        calls_per_minute: int,
        calls_per_day: int,
        max_concurrent: int,
        idempotency_ttl_s: float,
        token_ttl_s: float,
        time_scale: float = 1,
        region: str = "AU",
        organisations: int = 1,
    ) -> None:
        self.clock = clock
        self.time_scale = time_scale  # > 1: the rate-limit windows run that many times faster (a benchmark)
        self.store = Store(state_path, lambda conn: seed(conn, clock(), region))
        with self.store.write() as tx:
            connections.connect(tx, organisations, clock())
        self.calls_per_minute, self.calls_per_day = calls_per_minute, calls_per_day
        self.idempotency_ttl_s, self.token_ttl_s = idempotency_ttl_s, token_ttl_s
        self.concurrency = ConcurrencyLimiter(max_concurrent)

    # ---- ASGI endpoints ---------------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        incoming = Incoming(request, await request.body())
        if incoming.path.startswith("/__sandbox__/"):
            handler: Callable[[Incoming], Resp] = self.admin
        elif incoming.path == "/connect/token":
            handler = self.token
        elif incoming.path.lower() == "/connections":
            handler = self.connections
        else:
            handler = self.accounting
        resp = await run_in_threadpool(self.safely, handler, incoming)
        return Response(resp.payload(), resp.status, resp.headers, media_type="application/json; charset=utf-8")

    def safely(self, handler: Callable[[Incoming], Resp], incoming: Incoming) -> Resp:
        try:
            return handler(incoming)
        except Exception:  # pragma: no cover - a bug in the simulator, reported like Xero's 500
            log.exception("xero sandbox failed on %s %s", incoming.method, incoming.url)
            return Resp(500, problem(500, "Internal Server Error", "An unexpected error occurred in the sandbox."))

    # ---- identity ---------------------------------------------------------------------------------
    def _preflight(self, incoming: Incoming) -> admin.Fault | None:
        with self.store.write() as tx:
            admin.record_call(tx, incoming.method, incoming.path)
            return admin.pop_fault(tx, incoming.method, incoming.path)

    def token(self, incoming: Incoming) -> Resp:
        if incoming.method != "POST":
            return Resp(405, {"error": "invalid_request"})
        fault = self._preflight(incoming)
        if fault and not fault.after_write:
            return fault.response({})
        resp = auth.token_endpoint(
            self.store, self.clock, self.token_ttl_s, incoming.headers.get("authorization", ""), incoming.body
        )
        return fault.response({}) if fault else resp

    def connections(self, incoming: Incoming) -> Resp:
        with self.store.write() as tx:
            admin.record_call(tx, incoming.method, incoming.path)
            denied = auth.authenticate(tx, incoming.headers.get("authorization", ""), self.clock())
            if denied:
                return denied
            fault = admin.pop_fault(tx, incoming.method, incoming.path)
            found = connections.listing(tx, incoming.query.get("authEventId"))
        if fault:
            return fault.response({})
        if incoming.method != "GET":
            return Resp(405, problem(405, "Method Not Allowed", "Only GET is supported by the sandbox here"))
        return Resp(200, found)

    # ---- accounting -------------------------------------------------------------------------------
    def accounting(self, incoming: Incoming) -> Resp:
        now = self.clock()
        with self.store.write() as tx:
            admin.record_call(tx, incoming.method, incoming.path)
            denied = auth.authenticate(tx, incoming.headers.get("authorization", ""), now)
            if denied is not None:
                return denied
            tenant = connections.tenant_of(tx, incoming.headers.get("xero-tenant-id", ""))
            if tenant is None:
                return auth.forbidden()
            admin.record_tenant_call(tx, tenant, incoming.method, incoming.path)
            rate = check_and_count(tx, tenant, now, self.calls_per_minute, self.calls_per_day, self.time_scale)
            if rate.limited:
                admin.record_refusal(tx, tenant, rate.limited)
                return rate.response()
            fault = admin.pop_fault(tx, incoming.method, incoming.path)
        headers = {**rate.headers, "Xero-Correlation-Id": str(uuid.uuid4())}
        if fault and not fault.after_write:
            return fault.response(headers)
        if not self.concurrency.acquire(tenant):
            return ConcurrencyLimiter.refused(headers)
        try:
            resp = self.dispatch(incoming, tenant, now)
        finally:
            self.concurrency.release(tenant)
        if fault:
            return fault.response(headers)
        resp.headers.update(headers)
        return resp

    def dispatch(self, incoming: Incoming, tenant: str, now: float) -> Resp:
        if not incoming.path.lower().startswith(PREFIX.lower()):
            return not_found()
        parts = [unquote(p) for p in incoming.path[len(PREFIX) :].split("/") if p]
        resource = RESOURCES.get(parts[0].lower()) if parts else None
        sub = parts[2].lower() if len(parts) > 2 else None
        nested = {("CreditNotes", "allocations"), ("Invoices", "email"), ("TrackingCategories", "options")}
        if resource is None or len(parts) > 4 or (sub and (resource, sub) not in nested):
            return not_found()
        ref, sub_ref = (parts[1] if len(parts) > 1 else None), (parts[3] if len(parts) > 3 else None)
        if incoming.method == "GET":
            with self.store.read() as tx:
                ctx = Ctx(tx, tenant, now, incoming.query, "GET")
                return self.route(ctx, incoming, resource, ref, sub, sub_ref)
        key = incoming.headers.get("idempotency-key")
        if key is not None and (bad := idempotency.invalid_key(key)) is not None:
            return bad
        with self.store.write() as tx:
            fingerprint = idempotency.fingerprint(incoming.method, incoming.url, incoming.body)
            if key is not None:
                replay = idempotency.lookup(tx, tenant, key, fingerprint, now, self.idempotency_ttl_s)
                if replay is not None:
                    return replay
            ctx = Ctx(tx, tenant, now, incoming.query, incoming.method)
            resp = self.route(ctx, incoming, resource, ref, sub, sub_ref)
            if key is not None:
                idempotency.remember(tx, tenant, key, fingerprint, resp, now)
        return Resp(resp.status, resp.payload(), resp.headers)

    @staticmethod
    def route(
        ctx: Ctx, incoming: Incoming, resource: str, ref: str | None, sub: str | None, sub_ref: str | None
    ) -> Resp:
        method, body, ims = incoming.method, incoming.body, incoming.headers.get("if-modified-since")
        if resource == "TrackingCategories" and sub == "options" and ref is not None and sub_ref is None:
            return tracking_options.create(ctx, method, ref, body)
        if resource in ("Organisation", "Accounts", "TaxRates", "TrackingCategories"):
            return settings.handle(ctx, resource, method, ref, ims)
        if sub == "allocations" and ref is not None:
            return creditnotes.allocations(ctx, method, ref, sub_ref, body)
        if sub == "email" and ref is not None and sub_ref is None:
            return email.send(ctx, method, ref)
        handlers = {
            "Contacts": contacts.handle,
            "Invoices": invoices.handle,
            "Payments": payments.handle,
            "CreditNotes": creditnotes.handle,
        }
        return handlers[resource](ctx, method, ref, body, ims)

    # ---- admin ------------------------------------------------------------------------------------
    def admin(self, incoming: Incoming) -> Resp:
        name, method = incoming.path[len("/__sandbox__/") :].strip("/"), incoming.method
        with self.store.write() as tx:
            if name == "faults" and method == "POST":
                try:
                    spec = json.loads(incoming.body or b"null")
                except json.JSONDecodeError:
                    return Resp(400, {"error": "body must be JSON"})
                return admin.queue_fault(tx, spec)
            if name == "faults" and method == "GET":
                return Resp(200, {"faults": admin.list_faults(tx)})
            if name == "faults" and method == "DELETE":
                tx.conn.execute("DELETE FROM faults")
                return Resp(200, {"faults": []})
            if name == "lock_date" and method == "POST":  # test-only: set an organisation's lock dates
                tenant = admin.admin_tenant(tx, incoming.query)
                if tenant is None:
                    return admin.unknown_tenant(incoming.query)
                try:
                    spec = json.loads(incoming.body or b"null")
                except json.JSONDecodeError:
                    return Resp(400, {"error": "body must be JSON"})
                if not isinstance(spec, dict):
                    return Resp(400, {"error": "body must be a JSON object"})
                locks.set_lock_dates(tx, tenant, spec, int(self.clock() * 1000))
                return Resp(200, {"PeriodLockDate": spec.get("PeriodLockDate")})
            if name == "stats" and method == "GET":
                if "tenant" not in incoming.query:
                    return Resp(200, admin.stats(tx))
                tenant = admin.admin_tenant(tx, incoming.query)
                return Resp(200, admin.stats(tx, tenant)) if tenant else admin.unknown_tenant(incoming.query)
            if name == "stats" and method == "DELETE":
                admin.clear_stats(tx)
                return Resp(200, admin.stats(tx))
        return not_found()


def create_app(
    state_path: str | os.PathLike[str],
    *,
    clock: Callable[[], float] = time.time,
    calls_per_minute: int = 60,
    calls_per_day: int = 5000,
    max_concurrent: int = 5,
    idempotency_ttl_s: float = 360.0,
    token_ttl_s: float = 1800.0,
    time_scale: float = 1,
    region: str = "AU",
    organisations: int = 1,
) -> Starlette:
    """A Xero Accounting API simulator whose whole state lives in the SQLite file ``state_path``. ``time_scale``
    > 1 runs the rate-limit windows (minute, day) that many times faster than real time, for a benchmark. ``region``
    (AU or US) is that of the organisations seeded when the state file is new (`org.py`). ``organisations`` connects
    the app to the first N organisations of the catalogue (`catalogue.SANDBOX_TENANTS`), seeding those new to the
    state file; a state file keeps the connections it has (none is ever disconnected)."""
    sim = Simulator(
        state_path,
        clock,
        calls_per_minute,
        calls_per_day,
        max_concurrent,
        idempotency_ttl_s,
        token_ttl_s,
        time_scale,
        region,
        organisations,
    )
    methods = ["GET", "PUT", "POST", "DELETE", "PATCH"]
    app = Starlette(routes=[Route("/{path:path}", sim.endpoint, methods=methods)])
    app.state.xero = sim
    return app
