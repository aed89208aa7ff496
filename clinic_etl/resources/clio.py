"""Clio Manage as a resource: one HTTP client (OAuth refresh grant) opened when a run starts and closed when it ends.

The embedded simulator is a subclass in `clinic_etl.sandbox.resources` (swapped by class, never imported here).
Secrets (client id and secret, refresh token) come through Dagster `EnvVar`s in a deployment.
"""

from __future__ import annotations

import httpx
import pandas as pd

from clinic_etl.http.limits import CallBudget
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources.source import HttpSourceResource
from clinic_etl.sources.clio import extract, to_ledger
from clinic_etl.sources.clio.client import DEFAULT_BASE_URL, ClioClient


class ClioResource(HttpSourceResource):
    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = DEFAULT_BASE_URL  # the firm's region: https://{eu.,ca.,au.}app.clio.com
    calls_per_minute: int = 50  # Clio Manage's per-token limit at peak hours (FACTS §5)

    def _open(self, transport: httpx.BaseTransport | None, budget: CallBudget | None) -> ClioClient:
        return ClioClient(
            self.base_url, self.client_id, self.client_secret, self.refresh_token, transport=transport, budget=budget
        )

    # ---- the source plug-in
    @property
    def name(self) -> str:
        return to_ledger.SOURCE

    def extract(self, window: SyncWindow) -> dict[str, pd.DataFrame]:
        return extract.extract(self.client(), window)

    def to_ledger(
        self, raw: dict[str, pd.DataFrame], window: SyncWindow
    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        return to_ledger.to_ledger(raw, window)
