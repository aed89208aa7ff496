"""The embedded simulators as resources: subclasses of the real ones that swap only the transport.

Imported by `clinic_etl.deployment` only when the sandbox is chosen (it needs the `[sandbox]` extra).
The simulated Xero keeps its organisation in a SQLite file, so every step, run and `clinic-etl sandbox serve`
sees the same Xero; the simulated Cliniko serves the deterministic synthetic practice.
"""

from __future__ import annotations

import httpx

from clinic_etl.resources.cliniko import ClinikoResource
from clinic_etl.resources.xero import XeroResource
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, build_practice
from clinic_etl.sandbox.cliniko import create_app as cliniko_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app


class SandboxClinikoResource(ClinikoResource):
    """The built-in Cliniko simulator, in-process: a real run with no account."""

    api_key: str = SANDBOX_CLINIKO_API_KEY
    base_url: str | None = "http://cliniko.sandbox/v1"

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(cliniko_app(build_practice()))


class SandboxXeroResource(XeroResource):
    """The built-in Xero simulator, in-process, its organisation kept in the file `state_path`."""

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    api_url: str = "http://xero.sandbox"
    identity_url: str = "http://xero.sandbox"
    state_path: str
    idempotency_ttl_s: float = 360.0  # Xero keeps an Idempotency-Key about 6 minutes

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(xero_app(self.state_path, idempotency_ttl_s=self.idempotency_ttl_s))
