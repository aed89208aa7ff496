"""What every source plug-in offers the sync graph: extract a window of days, map it to the practice ledger.

Everything after the ledger is shared; a new source (Clio) is a new subclass and a `sources/<name>/` folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import dagster as dg
import pandas as pd

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
