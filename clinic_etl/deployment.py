"""Which resources this deployment uses, chosen from the settings (secrets through Dagster EnvVar).

The sandbox classes are imported only when the sandbox is chosen, so a deployment against real accounts
never imports the simulators or their dependencies (the `[sandbox]` extra).
"""

from __future__ import annotations

import dagster as dg

from clinic_etl.resources import ClinikoResource, ClioResource, MappingResource, StateStoreResource, XeroResource
from clinic_etl.resources.run_memory import RunMemoryIOManager
from clinic_etl.settings import Settings, SettingsError
from clinic_etl.sources.clio.client import DEFAULT_BASE_URL as DEFAULT_CLIO_URL

SANDBOX_EXTRA = ("starlette", "uvicorn", "jsonschema", "referencing")  # pyproject's [sandbox] extra


def _sandbox() -> object:
    try:
        from clinic_etl.sandbox import resources as sandbox
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SANDBOX_EXTRA:
            raise
        raise SettingsError(
            f"the embedded sandbox needs the [sandbox] extra ({exc.name} is not installed): "
            "pip install 'clinic-etl[sandbox]', or set CLINIC_ETL_SOURCE=cliniko with real credentials"
        ) from None
    return sandbox


def xero_resource(settings: Settings, dry_run: bool = False) -> XeroResource:
    budget = str(settings.state_dir / "budgets.sqlite")
    if not settings.real_xero:  # the law firm's books are a US organisation of their own
        law_firm = settings.source == "clio-sandbox"
        state = str(settings.state_dir / "sandbox" / ("xero-us.sqlite" if law_firm else "xero.sqlite"))
        sandbox = _sandbox().SandboxXeroResource  # type: ignore[attr-defined]
        return sandbox(state_path=state, budget_path=budget, dry_run=dry_run, region="US" if law_firm else "AU")
    return XeroResource(
        client_id=dg.EnvVar("XERO_CLIENT_ID"),
        client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
        refresh_token=dg.EnvVar("XERO_REFRESH_TOKEN") if settings.xero_refresh_token else None,
        tenant_id=settings.xero_tenant_id,
        api_url=settings.xero_api_url or "https://api.xero.com",
        identity_url=settings.xero_identity_url or "https://identity.xero.com",
        calls_per_minute=settings.xero_calls_per_minute,
        budget_path=budget,
        dry_run=dry_run,
    )


def source_resource(settings: Settings) -> ClinikoResource | ClioResource:
    if settings.source == "sandbox":
        return _sandbox().SandboxClinikoResource()  # type: ignore[attr-defined]
    if settings.source == "clio-sandbox":
        return _sandbox().SandboxClioResource()  # type: ignore[attr-defined]
    if settings.source == "clio":
        return ClioResource(
            client_id=dg.EnvVar("CLIO_CLIENT_ID"),
            client_secret=dg.EnvVar("CLIO_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("CLIO_REFRESH_TOKEN"),
            base_url=settings.clio_base_url or DEFAULT_CLIO_URL,
            budget_path=str(settings.state_dir / "budgets.sqlite"),
        )
    return ClinikoResource(
        api_key=dg.EnvVar("CLINIKO_API_KEY"),
        base_url=settings.cliniko_base_url,
        calls_per_minute=settings.cliniko_calls_per_minute,
        budget_path=str(settings.state_dir / "budgets.sqlite"),
    )


def resources(settings: Settings, *, dry_run: bool = False) -> dict[str, object]:
    """`dry_run`: Xero is read and every write planned, none sent; the state store is read, nothing recorded."""
    return {
        "source": source_resource(settings),
        "xero": xero_resource(settings, dry_run),
        "state_store": StateStoreResource(
            url=settings.store_url,
            secret_key=dg.EnvVar("CLINIC_ETL_SECRET_KEY") if settings.secret_key else None,
            key_file=None if settings.real_xero else str(settings.state_dir / "secret.key"),
            dry_run=dry_run,
        ),
        "mapping": MappingResource(path=settings.config_path),
        "io_manager": RunMemoryIOManager(),
    }
