"""Cliniko: the real API (key from the environment) or the embedded simulator, swapped by class."""

from __future__ import annotations

from functools import cache

import dagster as dg
import httpx

from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY
from clinic_etl.sources.cliniko.client import ClinikoClient


class ClinikoResource(dg.ConfigurableResource):
    api_key: str
    base_url: str | None = None
    requests_per_minute: int = 200

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def client(self) -> ClinikoClient:
        from clinic_etl.http.limits import CallBudget
        from clinic_etl.settings import state_dir

        budget = CallBudget(self.requests_per_minute, state_dir() / "budgets.sqlite")
        return ClinikoClient(self.api_key, self.base_url, transport=self._transport(), budget=budget)


@cache
def _sandbox_transport() -> httpx.BaseTransport:
    from clinic_etl.sandbox.cliniko import build_practice, create_app
    from clinic_etl.sandbox.transport import InProcessTransport

    return InProcessTransport(create_app(build_practice()))


class SandboxClinikoResource(ClinikoResource):
    """The built-in Cliniko simulator, in-process: a real run with no account."""

    api_key: str = SANDBOX_CLINIKO_API_KEY
    base_url: str | None = "http://cliniko.sandbox/v1"

    def _transport(self) -> httpx.BaseTransport | None:
        return _sandbox_transport()

    def client(self) -> ClinikoClient:
        return ClinikoClient(self.api_key, self.base_url, transport=self._transport())
