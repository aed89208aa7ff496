"""Cliniko as a resource: one HTTP client opened when a run starts and closed when it ends.

The embedded simulator is a subclass in `clinic_etl.sandbox.resources` (swapped by class, never imported here).
"""

from __future__ import annotations

import httpx
import pandas as pd

from clinic_etl.http.limits import CallBudget
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources.source import HttpSourceResource
from clinic_etl.sources.cliniko import extract, to_ledger
from clinic_etl.sources.cliniko.client import ClinikoClient


class ClinikoResource(HttpSourceResource):
    api_key: str
    base_url: str | None = None
    calls_per_minute: int = 200  # Cliniko's per-key limit
    invoice_from: str = "invoices"  # the mapping file's invoice_from: invoices | appointments
    require_arrival: bool = False  # the mapping file's require_arrival (appointments only)

    def _open(self, transport: httpx.BaseTransport | None, budget: CallBudget | None) -> ClinikoClient:
        return ClinikoClient(self.api_key, self.base_url, transport=transport, budget=budget)

    # ---- the source plug-in
    @property
    def name(self) -> str:
        return to_ledger.SOURCE

    def extract(self, window: SyncWindow) -> dict[str, pd.DataFrame]:
        return extract.extract(self.client(), window, invoice_from=self.invoice_from)

    def to_ledger(
        self, raw: dict[str, pd.DataFrame], window: SyncWindow
    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        return to_ledger.to_ledger(raw, window, require_arrival=self.require_arrival)
