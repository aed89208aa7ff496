"""GoHighLevel as a resource: a Private Integration Token (through Dagster EnvVar) and the location it belongs to; the
location's limits (100 requests per 10 s, 200,000 a day) held by call budgets shared across processes."""

from __future__ import annotations

from pathlib import Path

import httpx

from clinic_etl.engage.budgets import CallBudgets
from clinic_etl.engage.gohighlevel.client import BURST_CALLS, BURST_WINDOW_S, DAILY_CALLS, DEFAULT_BASE_URL, GhlClient
from clinic_etl.http.limits import CallBudget
from clinic_etl.resources.engage import HttpApiResource


class GoHighLevelResource(HttpApiResource):
    token: str
    location_id: str
    base_url: str = DEFAULT_BASE_URL
    burst_calls: int = BURST_CALLS  # per burst window
    burst_window_s: float = BURST_WINDOW_S
    daily_calls: int = DAILY_CALLS

    def _budget(self) -> CallBudgets:
        path = Path(self.budget_path) if self.budget_path else None
        return CallBudgets(
            CallBudget(self.burst_calls, path, self.burst_window_s), CallBudget(self.daily_calls, path, 86400.0)
        )

    def _open(self, transport: httpx.BaseTransport | None) -> GhlClient:
        return GhlClient(self.token, self.location_id, self.base_url, transport=transport, budget=self._budget())  # type: ignore[arg-type]
