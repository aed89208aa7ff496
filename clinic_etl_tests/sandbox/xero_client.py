"""A small synchronous client for driving the simulator in tests (httpx over ASGI, no network)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
from starlette.applications import Starlette

from clinic_etl.sandbox.xero.app import create_app
from clinic_etl.sandbox.xero.org import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID
from clinic_etl.sandbox.xero.serialize import dumps

API = "/api.xro/2.0"


class SandboxClient:
    """``client.put("Invoices", json=...)`` sends an authenticated accounting call to the app."""

    def __init__(
        self,
        app: Starlette | None = None,
        *,
        state_path: str | os.PathLike[str] | None = None,
        **app_options: Any,
    ) -> None:
        if app is None:
            if state_path is None:
                raise ValueError("give an app or a state_path")
            app = create_app(state_path, **app_options)
        self.app = app
        self.access_token: str | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Like httpx's; ``json=`` may hold Decimals, which are sent verbatim (``10.333``)."""
        if "json" in kwargs:
            kwargs["content"] = dumps(kwargs.pop("json")).encode("utf-8")
            kwargs["headers"] = {"Content-Type": "application/json", **(kwargs.get("headers") or {})}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://xero.sandbox") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def token(self, **form: str) -> httpx.Response:
        data = {"grant_type": "client_credentials", **form}
        return self.request("POST", "/connect/token", data=data, auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET))

    def headers(self, **extra: str) -> dict[str, str]:
        if self.access_token is None:
            self.access_token = self.token().json()["access_token"]
        return {"Authorization": f"Bearer {self.access_token}", "xero-tenant-id": SANDBOX_TENANT_ID, **extra}

    def call(
        self, method: str, resource: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.request(method, f"{API}/{resource.lstrip('/')}", headers=self.headers(**(headers or {})), **kwargs)

    def get(self, resource: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", resource, **kwargs)

    def put(self, resource: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", resource, **kwargs)

    def post(self, resource: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", resource, **kwargs)


class FakeClock:
    """An adjustable clock for ``create_app(clock=...)``."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:  # 2026-09-21
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def accrec(contact_id: str, *lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An ACCREC invoice body element (AUTHORISED, dated 2026-10-01, due 2026-10-31 unless overridden)."""
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-10-01",
        "DueDate": "2026-10-31",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": list(lines)
        or [
            {
                "Description": "Consultation",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }
    body.update(fields)
    return body
