"""The code location loads as `dagster dev` and `dagster asset materialize -m clinic_etl.definitions` see it,
built from one settings object (never from the environment at import time)."""

import dagster as dg
import pytest

from clinic_etl.definitions import SYNC_JOB, build_definitions
from clinic_etl.deployment import resources
from clinic_etl.resources import ClinikoResource, RunMemoryIOManager, XeroResource
from clinic_etl.sandbox.resources import SandboxClinikoResource, SandboxXeroResource
from clinic_etl.settings import Settings, SettingsError

REAL = {"CLINIC_ETL_SOURCE": "cliniko", "CLINIKO_API_KEY": "k-au2", "XERO_CLIENT_ID": "i", "XERO_CLIENT_SECRET": "s"}


def sync_assets(defs: dg.Definitions) -> list[dg.AssetsDefinition]:
    return [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]


def test_every_sync_asset_shares_the_daily_partitions_backfills_in_one_run_and_the_job_resolves():
    defs = build_definitions(Settings.from_env({}))
    assets = sync_assets(defs)
    partitions = {a.partitions_def for a in assets}
    assert len(partitions) == 1
    (daily,) = partitions
    assert isinstance(daily, dg.DailyPartitionsDefinition) and daily.timezone == "Australia/Sydney"
    assert all(a.backfill_policy == dg.BackfillPolicy.single_run() for a in assets)
    job = defs.resolve_job_def(SYNC_JOB)
    assert job.executor_def is dg.in_process_executor
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "source_records",
        "practice_ledger",
        "xero_documents",
        "xero_sync",
        "xero_reconciliation",
    }
    checks = {c.name for a in assets for c in a.check_specs}
    assert checks == {"lines_add_up_to_source_totals", "xero_matches_source", "nothing_quarantined"}


def test_the_zone_and_start_come_from_the_settings_object_not_the_environment(monkeypatch):
    monkeypatch.setenv("CLINIC_ETL_TIMEZONE", "Europe/London")  # exported, but the settings passed win
    defs = build_definitions(
        Settings.from_env({"CLINIC_ETL_TIMEZONE": "America/New_York", "CLINIC_ETL_START_DATE": "2026-01-01"})
    )
    (daily,) = {a.partitions_def for a in sync_assets(defs)}
    assert daily.timezone == "America/New_York" and daily.start.date().isoformat() == "2026-01-01"


def test_the_environment_picks_sandbox_or_real_classes():
    chosen = resources(Settings.from_env({}))
    assert type(chosen["source"]) is SandboxClinikoResource and type(chosen["xero"]) is SandboxXeroResource
    assert type(chosen["io_manager"]) is RunMemoryIOManager
    chosen = resources(Settings.from_env(REAL))
    assert type(chosen["source"]) is ClinikoResource and type(chosen["xero"]) is XeroResource


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"CLINIC_ETL_SOURCE": "clinko"}, "CLINIC_ETL_SOURCE='clinko' is not supported: use one of sandbox, cliniko"),
        ({"CLINIC_ETL_TIMEZONE": "Sydney"}, "CLINIC_ETL_TIMEZONE='Sydney' is not an IANA time zone"),
        ({"CLINIC_ETL_START_DATE": "01/01/2025"}, "CLINIC_ETL_START_DATE='01/01/2025' is not a date: use YYYY-MM-DD"),
        ({"CLINIC_ETL_DATABASE_URL": "state.db"}, "CLINIC_ETL_DATABASE_URL='state.db' is not a SQLAlchemy URL"),
        ({"CLINIC_ETL_CONFIG": "/no/such.yaml"}, "CLINIC_ETL_CONFIG='/no/such.yaml' is not a file"),
        ({"CLINIC_ETL_SOURCE": "cliniko"}, "CLINIKO_API_KEY is not set, and CLINIC_ETL_SOURCE=cliniko needs it"),
        ({**REAL, "XERO_CLIENT_SECRET": ""}, "XERO_CLIENT_SECRET is not set"),
        ({"XERO_CLIENT_ID": "real-app"}, "XERO_CLIENT_SECRET is not set"),
    ],
)
def test_bad_settings_are_one_line_naming_the_variable_and_the_fix(env, line):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert line in str(raised.value) and "\n" not in str(raised.value)


def test_secrets_never_appear_in_a_settings_error():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**REAL, "CLINIKO_API_KEY": "top-secret-au2", "CLINIC_ETL_TIMEZONE": "Nowhere"})
    assert "top-secret" not in str(raised.value) and "top-secret" not in repr(Settings.from_env(REAL))
