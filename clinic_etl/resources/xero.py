"""Xero: the real API (credentials from the environment) or the embedded simulator, swapped by class."""

from __future__ import annotations

from functools import cache

import dagster as dg
import httpx

from clinic_etl.http.limits import CallBudget
from clinic_etl.settings import state_dir
from clinic_etl.store import StateStore
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient


class XeroResource(dg.ConfigurableResource):
    client_id: str
    client_secret: str
    refresh_token: str | None = None
    tenant_id: str | None = None
    api_url: str = "https://api.xero.com"
    identity_url: str = "https://identity.xero.com"
    calls_per_minute: int = 60  # Xero's per-tenant minute limit, shared by every process on this machine

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def client(self, store: StateStore) -> XeroClient:
        transport = self._transport()
        auth = XeroAuth(
            self.identity_url,
            self.client_id,
            self.client_secret,
            refresh_token=self.refresh_token,
            store=store,
            transport=transport,
        )
        budget = CallBudget(self.calls_per_minute, state_dir() / "budgets.sqlite")
        return XeroClient(self.api_url, auth, self.tenant_id, transport=transport, budget=budget)


@cache
def _sandbox_transport(state_path: str, idempotency_ttl_s: float = 360.0) -> httpx.BaseTransport:
    from clinic_etl.sandbox.transport import InProcessTransport
    from clinic_etl.sandbox.xero import create_app

    return InProcessTransport(create_app(state_path, idempotency_ttl_s=idempotency_ttl_s))


class SandboxXeroResource(XeroResource):
    """The built-in Xero simulator, in-process, its organisation kept in a file shared by every step and run."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    api_url: str = "http://xero.sandbox"
    identity_url: str = "http://xero.sandbox"
    state_path: str = ""
    idempotency_ttl_s: float = 360.0  # Xero keeps an Idempotency-Key about 6 minutes

    def _transport(self) -> httpx.BaseTransport | None:
        path = self.state_path or str(state_dir() / "sandbox" / "xero.sqlite")
        return _sandbox_transport(path, self.idempotency_ttl_s)
