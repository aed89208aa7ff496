"""The code location loads as `dagster dev` and `dagster asset materialize -m clinic_etl.definitions` see it."""

import pytest

from clinic_etl.definitions import SYNC_ASSETS, defs
from clinic_etl.deployment import resources
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import ClinikoResource, SandboxClinikoResource, SandboxXeroResource, XeroResource
from clinic_etl.settings import Settings, SettingsError


def test_every_sync_asset_shares_the_daily_partitions_and_the_job_resolves():
    assert all(a.partitions_def == daily_partitions for a in SYNC_ASSETS)
    job = defs.resolve_job_def("daily_sync")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} >= {
        "source_records",
        "practice_ledger",
        "xero_documents",
        "xero_sync",
        "xero_reconciliation",
    }
    checks = {c.name for a in SYNC_ASSETS for c in a.check_specs}
    assert checks == {"lines_add_up_to_source_totals", "xero_matches_source", "nothing_quarantined"}
    assert daily_partitions.timezone == "Australia/Sydney"


def test_the_environment_picks_sandbox_or_real_classes(monkeypatch):
    chosen = resources(Settings.from_env({}))
    assert type(chosen["cliniko"]) is SandboxClinikoResource and type(chosen["xero"]) is SandboxXeroResource
    monkeypatch.setenv("XERO_CLIENT_ID", "id")
    chosen = resources(Settings.from_env({"CLINIC_ETL_SOURCE": "cliniko"}))
    assert type(chosen["cliniko"]) is ClinikoResource and type(chosen["xero"]) is XeroResource


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CLINIC_ETL_SOURCE": "clinko"}, "CLINIC_ETL_SOURCE"),
        ({"CLINIC_ETL_TIMEZONE": "Sydney"}, "CLINIC_ETL_TIMEZONE"),
    ],
)
def test_bad_settings_name_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
