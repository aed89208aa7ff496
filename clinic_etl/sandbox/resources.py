"""The embedded simulators as resources: subclasses of the real ones that swap only the transport.

Imported by `clinic_etl.deployment` only when the sandbox is chosen (it needs the `[sandbox]` extra).
The simulated Xero keeps its organisation in a SQLite file, so every step, run and `clinic-etl sandbox serve`
sees the same Xero; the simulated Cliniko serves the deterministic synthetic practice; the simulated GoHighLevel
sub-account and Mailchimp account (on when the mapping file enables them) keep theirs in files beside Xero's.

A benchmark (`clinic-etl bench`) sets `time_scale` (the simulators' rate-limit windows, and the client's call
budgets with them, run that many times faster than real time) and, for Cliniko, the practice's `shape`; the
defaults are the sandbox as everyone else sees it.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import dagster as dg
import httpx

from clinic_etl.engage.budgets import CallBudgets
from clinic_etl.http.limits import Budgets, CallBudget
from clinic_etl.resources.cliniko import ClinikoResource
from clinic_etl.resources.clio import ClioResource
from clinic_etl.resources.gohighlevel import GoHighLevelResource
from clinic_etl.resources.mailchimp import MailchimpResource
from clinic_etl.resources.xero import XeroResource
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, build_practice
from clinic_etl.sandbox.cliniko import create_app as cliniko_app
from clinic_etl.sandbox.cliniko.practice import DEFAULT_SHAPE, Practice, Shape
from clinic_etl.sandbox.clio import SANDBOX_CLIENT_ID as CLIO_SANDBOX_CLIENT_ID
from clinic_etl.sandbox.clio import SANDBOX_CLIENT_SECRET as CLIO_SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.clio import SANDBOX_REFRESH_TOKEN as CLIO_SANDBOX_REFRESH_TOKEN
from clinic_etl.sandbox.clio import build_firm
from clinic_etl.sandbox.clio import create_app as clio_app
from clinic_etl.sandbox.gohighlevel import SANDBOX_GHL_TOKEN, SANDBOX_LOCATION_ID
from clinic_etl.sandbox.gohighlevel import create_app as ghl_app
from clinic_etl.sandbox.mailchimp import SANDBOX_AUDIENCE_ID, SANDBOX_MAILCHIMP_KEY
from clinic_etl.sandbox.mailchimp import create_app as mailchimp_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app


class PracticeShape(dg.Config):
    """The synthetic practice's size (`clinic_etl.sandbox.cliniko.practice.Shape`; the defaults are the sandbox's)."""

    first_day: str = DEFAULT_SHAPE.window[0].isoformat()
    last_day: str = DEFAULT_SHAPE.window[1].isoformat()
    sites: int = DEFAULT_SHAPE.sites
    practitioners: int = DEFAULT_SHAPE.practitioners
    invoices_per_day: list[int] = list(DEFAULT_SHAPE.invoices_per_day)
    patients: int = DEFAULT_SHAPE.patients

    def shape(self) -> Shape:
        low, high = self.invoices_per_day
        window = (date.fromisoformat(self.first_day), date.fromisoformat(self.last_day))
        return Shape(window, self.sites, self.practitioners, (low, high), self.patients)


@functools.lru_cache(maxsize=2)
def benchmark_practice(shape: Shape) -> Practice:
    """A larger practice is built once per process (a benchmark's runs only read it)."""
    return build_practice(shape=shape)


def scaled_window(time_scale: float) -> float:
    """A minute, in real seconds, when the simulators' clock runs `time_scale` times faster."""
    return 60 if time_scale == 1 else 60 / time_scale


class SandboxClinikoResource(ClinikoResource):
    """The built-in Cliniko simulator, in-process: a real run with no account."""

    api_key: str = SANDBOX_CLINIKO_API_KEY
    base_url: str | None = "http://cliniko.sandbox/v1"
    time_scale: float = 1.0
    shape: PracticeShape | None = None

    def _transport(self) -> httpx.BaseTransport | None:
        shape = self.shape.shape() if self.shape is not None else DEFAULT_SHAPE
        practice = build_practice() if shape == DEFAULT_SHAPE else benchmark_practice(shape)
        return InProcessTransport(cliniko_app(practice, time_scale=self.time_scale))

    def _budget(self) -> CallBudget | None:
        path = Path(self.budget_path) if self.budget_path else None
        return CallBudget(self.calls_per_minute, path, scaled_window(self.time_scale), url=self.budget_url)


class SandboxXeroResource(XeroResource):
    """The built-in Xero simulator, in-process, its organisations kept in the file `state_path`."""

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    api_url: str = "http://xero.sandbox"
    identity_url: str = "http://xero.sandbox"
    state_path: str
    idempotency_ttl_s: float = 360.0  # Xero keeps an Idempotency-Key about 6 minutes
    time_scale: float = 1.0
    region: str = "AU"  # the organisations seeded in a new state file: AU (the clinic's) or US (the law firm's)
    organisations: int = 1  # the app is connected to the first N of the simulator's organisations (SANDBOX_TENANTS)

    def _transport(self) -> httpx.BaseTransport | None:
        app = xero_app(
            self.state_path,
            idempotency_ttl_s=self.idempotency_ttl_s,
            time_scale=self.time_scale,
            region=self.region,
            organisations=self.organisations,
        )
        return InProcessTransport(app)

    def _budget(self) -> CallBudget | Budgets:
        path = Path(self.budget_path) if self.budget_path else None
        minute = CallBudget(self.calls_per_minute, path, scaled_window(self.time_scale), url=self.budget_url)
        return self._with_quota(minute, 86400 / self.time_scale)


class SandboxClioResource(ClioResource):
    """The built-in Clio simulator (the synthetic New York law firm, `build_firm()`), in-process: a real run with no
    account, through the real client (OAuth refresh, fields, cursor paging, Clio's 50 requests a minute per token)."""

    client_id: str = CLIO_SANDBOX_CLIENT_ID
    client_secret: str = CLIO_SANDBOX_CLIENT_SECRET
    refresh_token: str = CLIO_SANDBOX_REFRESH_TOKEN
    base_url: str = "http://clio.sandbox"

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(clio_app(build_firm()))


class SandboxGoHighLevelResource(GoHighLevelResource):
    """The built-in GoHighLevel simulator, in-process, its sub-account kept in the file `state_path`."""

    token: str = SANDBOX_GHL_TOKEN
    location_id: str = SANDBOX_LOCATION_ID
    base_url: str = "http://gohighlevel.sandbox"
    state_path: str
    time_scale: float = 1.0  # > 1: the simulator's rate-limit windows (and the client's budgets) run faster

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(ghl_app(self.state_path, time_scale=self.time_scale))

    def _budget(self) -> CallBudgets:
        path = Path(self.budget_path) if self.budget_path else None
        burst, day = self.burst_window_s / self.time_scale, 86400.0 / self.time_scale
        return CallBudgets(CallBudget(self.burst_calls, path, burst), CallBudget(self.daily_calls, path, day))


class SandboxMailchimpResource(MailchimpResource):
    """The built-in Mailchimp simulator, in-process, its account kept in the file `state_path`."""

    api_key: str = SANDBOX_MAILCHIMP_KEY
    audience_id: str = SANDBOX_AUDIENCE_ID
    base_url: str | None = "http://us21.api.mailchimp.sandbox/3.0"
    state_path: str

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(mailchimp_app(self.state_path))
