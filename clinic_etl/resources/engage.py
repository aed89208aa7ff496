"""The outbound systems as resources (GoHighLevel, Mailchimp): one HTTP client opened when a run starts and closed when
it ends, its calls held to the system's limits across every process on the machine (`budget_path`). The embedded
simulators are subclasses in `clinic_etl.sandbox.resources` that swap the transport (never imported here)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import dagster as dg
import httpx
from pydantic import PrivateAttr


class HttpApiResource(dg.ConfigurableResource):
    budget_path: str | None = None  # SQLite file that shares the budgets between every process on this machine
    _client: Any = PrivateAttr(None)
    _transport_: httpx.BaseTransport | None = PrivateAttr(None)

    @abstractmethod
    def _open(self, transport: httpx.BaseTransport | None) -> Any:
        """The API client, on `transport` (None: the network)."""

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._transport_ = self._transport()
        self._client = self._open(self._transport_)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
        if self._transport_ is not None:
            self._transport_.close()
        self._client, self._transport_ = None, None

    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError(f"the {type(self).__name__} client is opened when a run starts: use it inside an asset")
        return self._client
