"""What every source plug-in offers the sync graph: extract a window of days, map it to the practice ledger.

Everything after the ledger is shared; a new source (Clio) is a new subclass and a `sources/<name>/` folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pandas as pd
from pydantic import PrivateAttr

from clinic_etl.http.limits import CallBudget
from clinic_etl.partitions import SyncWindow


class SourceResource(dg.ConfigurableResource, ABC):
    @property
    @abstractmethod
    def name(self) -> str:
        """The source's key prefix, e.g. `cliniko` (keys read `cliniko:invoice:123`)."""

    @abstractmethod
    def extract(self, window: SyncWindow) -> dict[str, pd.DataFrame]:
        """The window's raw records as the API serves them (one pass: reference lists read once)."""

    @abstractmethod
    def to_ledger(
        self, raw: dict[str, pd.DataFrame], window: SyncWindow
    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        """Pure: raw frames -> (practice ledger frames, rejects with reasons)."""

    @property
    @abstractmethod
    def api_calls(self) -> int:
        """Requests sent so far in this run (retries included)."""


class HttpSourceResource(SourceResource):
    """A source read over HTTP: one client opened when a run starts and closed when it ends (the resource's
    lifecycle), its calls held to `calls_per_minute` across every process on the machine (`budget_path`). A subclass
    says how to open its client; the embedded simulators override `_transport` (and `_budget`)."""

    calls_per_minute: int
    budget_path: str | None = None  # SQLite file that shares the budget between every process on this machine
    budget_url: str | None = None  # or Redis / PostgreSQL, shared by every machine (CLINIC_ETL_CALL_BUDGET_URL)
    _client: Any = PrivateAttr(None)

    @abstractmethod
    def _open(self, transport: httpx.BaseTransport | None, budget: CallBudget | None) -> Any:
        """The API client, on `transport` (None: the network) within `budget`."""

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def _budget(self) -> CallBudget | None:
        path = Path(self.budget_path) if self.budget_path else None
        return CallBudget(self.calls_per_minute, path, url=self.budget_url)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = self._open(self._transport(), self._budget())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError(f"the {self.name} client is opened when a run starts: use it inside an asset")
        return self._client

    @property
    def api_calls(self) -> int:
        return self.client().calls
