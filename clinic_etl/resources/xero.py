"""Xero as a resource: one authenticated client per organisation per run (token, tenant and chart read once), closed
at its end. The organisations share the app's token; each has its own call budget (Xero's limits are per tenant).

The embedded simulator is a subclass in `clinic_etl.sandbox.resources` (swapped by class, never imported here).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
from pydantic import PrivateAttr

from clinic_etl.http.limits import Budgets, CallBudget, DailyQuota
from clinic_etl.resources.dry_run import tagged_dry_run
from clinic_etl.store import StateStore
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient
from clinic_etl.xero.dry_run import DryRunXeroClient
from clinic_etl.xero.org import XeroOrg


class XeroResource(dg.ConfigurableResource):
    client_id: str
    client_secret: str
    refresh_token: str | None = None
    tenant_id: str | None = None
    api_url: str = "https://api.xero.com"
    identity_url: str = "https://identity.xero.com"
    calls_per_minute: int = 60  # Xero's per-tenant minute limit
    calls_per_day: int = 0  # the client's share of Xero's 5,000 a day per tenant: a run stops before it (0: no quota)
    budget_path: str | None = None  # SQLite file that shares the budget between every process on this machine
    budget_url: str | None = None  # or Redis / PostgreSQL, shared by every machine (CLINIC_ETL_CALL_BUDGET_URL)
    dry_run: bool = False  # read Xero, plan every write, send none
    _transport_: httpx.BaseTransport | None = PrivateAttr(None)
    _clients: dict[str | None, XeroClient] = PrivateAttr(default_factory=dict)
    _orgs: dict[str | None, XeroOrg] = PrivateAttr(default_factory=dict)
    _auth: XeroAuth | None = PrivateAttr(None)
    _dry: bool = PrivateAttr(False)

    def _transport(self) -> httpx.BaseTransport | None:
        return None

    def _budget(self) -> CallBudget | Budgets:
        path = Path(self.budget_path) if self.budget_path else None
        return self._with_quota(CallBudget(self.calls_per_minute, path, url=self.budget_url))

    def _with_quota(self, minute: CallBudget, day_s: float = 86400) -> CallBudget | Budgets:
        """The minute's budget, behind the day's quota when there is one (a full quota refuses, never waits)."""
        if self.calls_per_day <= 0:
            return minute
        path = Path(self.budget_path) if self.budget_path else None
        quota = DailyQuota(self.calls_per_day, path, day_s, url=self.budget_url, service="Xero")
        return Budgets(quota, minute)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._transport_ = self._transport()
        self._dry = self.dry_run or tagged_dry_run(context)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for client in self._clients.values():
            client.close()
        if self._transport_ is not None:
            self._transport_.close()
        self._clients, self._orgs, self._auth, self._transport_ = {}, {}, None, None

    def client(self, store: StateStore, tenant_id: str | None = None) -> XeroClient:
        """The run's client of organisation `tenant_id` (None: `tenant_id` of the resource, else the connection's
        organisation); `store` keeps rotated refresh tokens (read on first use only)."""
        tenant = tenant_id or self.tenant_id
        if tenant not in self._clients:
            if self._auth is None:
                self._auth = XeroAuth(
                    self.identity_url,
                    self.client_id,
                    self.client_secret,
                    refresh_token=self.refresh_token,
                    store=store,
                    transport=self._transport_,
                )
            kind = DryRunXeroClient if self._dry else XeroClient
            client = kind(self.api_url, self._auth, tenant, transport=self._transport_, budget=self._budget())
            self._clients[tenant] = client
        return self._clients[tenant]

    def org(self, store: StateStore, tenant_id: str | None = None, *, tracking: bool = True) -> XeroOrg:
        """The organisation's accounts, tax rates, tracking categories and lock dates, read once per run. `tracking`
        False (a mapping that names no tracking category): its categories are not read, a call saved every run."""
        tenant = tenant_id or self.tenant_id
        if tenant not in self._orgs:
            client = self.client(store, tenant)
            self._orgs[tenant] = XeroOrg.from_api(
                client.get("Accounts").get("Accounts", []),
                client.get("TaxRates").get("TaxRates", []),
                client.get("TrackingCategories").get("TrackingCategories", []) if tracking else [],
                (client.get("Organisation").get("Organisations") or [{}])[0],
            )
        return self._orgs[tenant]
