"""Which resources this deployment uses, chosen from the settings (secrets through Dagster EnvVar).

The sandbox classes are imported only when the sandbox is chosen, so a deployment against real accounts
never imports the simulators or their dependencies (the `[sandbox]` extra).
"""

from __future__ import annotations

import dagster as dg

from clinic_etl.engage.gohighlevel.client import DEFAULT_BASE_URL as GHL_DEFAULT_URL
from clinic_etl.mapping import Mapping, load_mapping
from clinic_etl.resources import ClinikoResource, ClioResource, MappingResource, StateStoreResource, XeroResource
from clinic_etl.resources.gohighlevel import GoHighLevelResource
from clinic_etl.resources.mailchimp import MailchimpResource
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


def budget_url(settings: Settings) -> dg.EnvVar | None:
    """The call budgets' server when they are held across machines (a secret: through EnvVar)."""
    return dg.EnvVar("CLINIC_ETL_CALL_BUDGET_URL") if settings.call_budget_url else None


def xero_resource(settings: Settings, dry_run: bool = False, organisations: int = 1) -> XeroResource:
    """The real Xero, or the sandbox's simulated one (connected to `organisations` of its organisations: as many as
    the mapping's tenants route to)."""
    budget = str(settings.state_dir / "budgets.sqlite")
    if not settings.real_xero:  # the law firm's books are a US organisation of their own
        law_firm = settings.source == "clio-sandbox"
        state = str(settings.state_dir / "sandbox" / ("xero-us.sqlite" if law_firm else "xero.sqlite"))
        sandbox = _sandbox().SandboxXeroResource  # type: ignore[attr-defined]
        region = "US" if law_firm else "AU"
        shared = budget_url(settings)
        quota = settings.xero_calls_per_day
        return sandbox(
            state_path=state,
            budget_path=budget,
            budget_url=shared,
            calls_per_day=quota,
            dry_run=dry_run,
            region=region,
            organisations=organisations,
        )
    return XeroResource(
        client_id=dg.EnvVar("XERO_CLIENT_ID"),
        client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
        refresh_token=dg.EnvVar("XERO_REFRESH_TOKEN") if settings.xero_refresh_token else None,
        tenant_id=settings.xero_tenant_id,
        api_url=settings.xero_api_url or "https://api.xero.com",
        identity_url=settings.xero_identity_url or "https://identity.xero.com",
        calls_per_minute=settings.xero_calls_per_minute,
        calls_per_day=settings.xero_calls_per_day,
        budget_path=budget,
        budget_url=budget_url(settings),
        dry_run=dry_run,
    )


def source_resource(settings: Settings, mapping: Mapping) -> ClinikoResource | ClioResource:
    """The source's resource; Cliniko's bills from its invoices or its appointments as the mapping file says."""
    billing = {"invoice_from": mapping.invoice_from, "require_arrival": mapping.require_arrival}
    if settings.source == "sandbox":
        return _sandbox().SandboxClinikoResource(**billing)  # type: ignore[attr-defined]
    if settings.source == "clio-sandbox":
        return _sandbox().SandboxClioResource()  # type: ignore[attr-defined]
    if settings.source == "clio":
        return ClioResource(
            client_id=dg.EnvVar("CLIO_CLIENT_ID"),
            client_secret=dg.EnvVar("CLIO_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("CLIO_REFRESH_TOKEN"),
            base_url=settings.clio_base_url or DEFAULT_CLIO_URL,
            budget_path=str(settings.state_dir / "budgets.sqlite"),
            budget_url=budget_url(settings),
        )
    return ClinikoResource(
        api_key=dg.EnvVar("CLINIKO_API_KEY"),
        base_url=settings.cliniko_base_url,
        calls_per_minute=settings.cliniko_calls_per_minute,
        budget_path=str(settings.state_dir / "budgets.sqlite"),
        budget_url=budget_url(settings),
        **billing,
    )


def alert_resource(settings: Settings) -> object:
    """Where alerts go (secrets through EnvVar): `clinic_etl.alerts.AlertResource`."""
    from clinic_etl.alerts import AlertResource

    return AlertResource(
        webhook_url=dg.EnvVar("CLINIC_ETL_ALERT_WEBHOOK") if settings.alert_webhook else None,
        smtp_host=settings.alert_smtp_host,
        smtp_port=settings.alert_smtp_port,
        smtp_tls=settings.alert_smtp_tls,
        smtp_user=settings.alert_smtp_user,
        smtp_password=dg.EnvVar("CLINIC_ETL_ALERT_SMTP_PASSWORD") if settings.alert_smtp_password else None,
        smtp_from=settings.alert_smtp_from,
        smtp_to=settings.alert_smtp_to,
        ui_url=settings.alert_ui_url,
    )


def resources(settings: Settings, *, dry_run: bool = False) -> dict[str, object]:
    """`dry_run`: Xero is read and every write planned, none sent; the state store is read, nothing recorded."""
    mapping = load_mapping(settings.config_path)
    return {
        "source": source_resource(settings, mapping),
        "xero": xero_resource(settings, dry_run, max(1, len(mapping.tenants))),
        "state_store": StateStoreResource(
            url=settings.store_url,
            secret_key=dg.EnvVar("CLINIC_ETL_SECRET_KEY") if settings.secret_key else None,
            key_file=None if settings.real_xero else str(settings.state_dir / "secret.key"),
            dry_run=dry_run,
        ),
        "mapping": MappingResource(path=settings.config_path),
        "io_manager": RunMemoryIOManager(),
        **({"alerts": alert_resource(settings)} if settings.alerts_on else {}),
    }


def engage_resources(settings: Settings, mapping: Mapping) -> dict[str, object]:
    """The outbound systems the mapping file turns on (`gohighlevel`, `mailchimp` sections): the real APIs with a token
    or key (through EnvVar), else in the sandbox their simulators, whose state lives beside the sandbox's Xero."""
    out: dict[str, object] = {}
    budget = str(settings.state_dir / "budgets.sqlite")
    if mapping.gohighlevel is not None:
        if settings.source in ("clio", "clio-sandbox"):
            raise SettingsError(
                "the mapping file's gohighlevel section needs Cliniko's appointments, and CLINIC_ETL_SOURCE is "
                f"{settings.source}: remove the section, or use CLINIC_ETL_SOURCE=cliniko (or sandbox)"
            )
        if settings.real_ghl and settings.ghl_token is None:
            raise SettingsError(
                "GHL_TOKEN is not set, and the mapping file's gohighlevel section needs it: a Private Integration "
                "Token of the sub-account (Settings > Private Integrations, scope contacts.write), with GHL_LOCATION_ID"
            )
        if settings.real_ghl:
            out["gohighlevel"] = GoHighLevelResource(
                token=dg.EnvVar("GHL_TOKEN"),
                location_id=str(settings.ghl_location_id),
                base_url=settings.ghl_base_url or GHL_DEFAULT_URL,
                budget_path=budget,
            )
        else:
            state = str(settings.state_dir / "sandbox" / "gohighlevel.sqlite")
            out["gohighlevel"] = _sandbox().SandboxGoHighLevelResource(state_path=state, budget_path=budget)  # type: ignore[attr-defined]
    if mapping.mailchimp is not None:
        if settings.real_mailchimp and settings.mailchimp_api_key is None:
            raise SettingsError(
                "MAILCHIMP_API_KEY is not set, and the mapping file's mailchimp section needs it: an API key of the "
                "account (Profile > Extras > API keys), with MAILCHIMP_AUDIENCE_ID"
            )
        if settings.real_mailchimp:
            out["mailchimp"] = MailchimpResource(
                api_key=dg.EnvVar("MAILCHIMP_API_KEY"),
                audience_id=str(settings.mailchimp_audience_id),
                base_url=settings.mailchimp_base_url,
                budget_path=budget,
            )
        else:
            state = str(settings.state_dir / "sandbox" / "mailchimp.sqlite")
            out["mailchimp"] = _sandbox().SandboxMailchimpResource(state_path=state, budget_path=budget)  # type: ignore[attr-defined]
    return out
