"""Clio Manage as a resource: one HTTP client (OAuth refresh grant) opened when a run starts and closed when it ends.

The embedded simulator is a subclass in `clinic_etl.sandbox.resources` (swapped by class, never imported here).
Secrets (client id and secret, refresh token) come through Dagster `EnvVar`s in a deployment.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import pandas as pd
from pydantic import PrivateAttr

from clinic_etl.http.limits import CallBudget
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources.source import SourceResource
from clinic_etl.sources.clio import extract, to_ledger
from clinic_etl.sources.clio.client import DEFAULT_BASE_URL, ClioClient


class ClioResource(SourceResource):
    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = DEFAULT_BASE_URL  # the firm's region: https://{eu.,ca.,au.}app.clio.com
    calls_per_minute: int = 50  # Clio Manage's per-token limit at peak hours (FACTS §5)
    budget_path: str | None = None  # SQLite file that shares the budget between every process on this machine
    _client: ClioClient | None = PrivateAttr(None)

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def _budget(self) -> CallBudget | None:
        return CallBudget(self.calls_per_minute, Path(self.budget_path) if self.budget_path else None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = ClioClient(
            self.base_url,
            self.client_id,
            self.client_secret,
            self.refresh_token,
            transport=self._transport(),
            budget=self._budget(),
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> ClioClient:
        if self._client is None:
            raise RuntimeError("the Clio client is opened when a run starts: use it inside an asset")
        return self._client

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

    @property
    def api_calls(self) -> int:
        return self.client().calls
