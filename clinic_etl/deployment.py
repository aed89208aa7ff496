"""Which resources this deployment uses, chosen from the environment (secrets through Dagster EnvVar)."""

from __future__ import annotations

import os

import dagster as dg

from clinic_etl.resources import (
    ClinikoResource,
    MappingResource,
    SandboxClinikoResource,
    SandboxXeroResource,
    StateStoreResource,
    XeroResource,
)
from clinic_etl.settings import Settings


def _optional(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def xero_resource(settings: Settings) -> XeroResource:
    real = any(os.environ.get(v) for v in ("XERO_CLIENT_ID", "XERO_API_URL", "XERO_REFRESH_TOKEN"))
    if settings.source == "sandbox" and not real:
        return SandboxXeroResource()
    return XeroResource(
        client_id=dg.EnvVar("XERO_CLIENT_ID"),
        client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
        refresh_token=_optional("XERO_REFRESH_TOKEN"),
        tenant_id=os.environ.get("XERO_TENANT_ID") or None,
        api_url=os.environ.get("XERO_API_URL") or "https://api.xero.com",
        identity_url=os.environ.get("XERO_IDENTITY_URL") or "https://identity.xero.com",
    )


def cliniko_resource(settings: Settings) -> ClinikoResource:
    if settings.source == "sandbox":
        return SandboxClinikoResource()
    return ClinikoResource(api_key=dg.EnvVar("CLINIKO_API_KEY"), base_url=os.environ.get("CLINIKO_BASE_URL") or None)


def resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or Settings.from_env()
    return {
        "cliniko": cliniko_resource(settings),
        "xero": xero_resource(settings),
        "state_store": StateStoreResource(url=settings.database_url),
        "mapping": MappingResource(path=settings.config_path),
    }
