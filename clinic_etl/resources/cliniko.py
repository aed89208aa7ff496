"""Cliniko as a resource: one HTTP client opened when a run starts and closed when it ends.

The embedded simulator is a subclass in `clinic_etl.sandbox.resources` (swapped by class, never imported here).
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
from clinic_etl.sources.cliniko import extract, to_ledger
from clinic_etl.sources.cliniko.client import ClinikoClient


class ClinikoResource(SourceResource):
    api_key: str
    base_url: str | None = None
    calls_per_minute: int = 200  # Cliniko's per-key limit
    budget_path: str | None = None  # SQLite file that shares the budget between every process on this machine
    _client: ClinikoClient | None = PrivateAttr(None)

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def _budget(self) -> CallBudget | None:
        return CallBudget(self.calls_per_minute, Path(self.budget_path) if self.budget_path else None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = ClinikoClient(self.api_key, self.base_url, transport=self._transport(), budget=self._budget())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> ClinikoClient:
        if self._client is None:
            raise RuntimeError("the Cliniko client is opened when a run starts: use it inside an asset")
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
