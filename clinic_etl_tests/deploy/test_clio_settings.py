"""CLINIC_ETL_SOURCE=clio and clio-sandbox: the variables each needs, one line naming the variable and the fix when one
is missing or wrong (never a secret's value), the Clio sandbox's own defaults (New York, its first day, its mapping
file), the resource classes each picks, and the CLIO_* variables in `clinic-etl --help`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from clinic_etl.cli import main
from clinic_etl.deployment import resources
from clinic_etl.mapping import load_mapping
from clinic_etl.resources import ClioResource, XeroResource
from clinic_etl.sandbox.clio import FIRM_TIME_ZONE, SANDBOX_WINDOW
from clinic_etl.sandbox.resources import SandboxClioResource, SandboxXeroResource
from clinic_etl.sandbox.xero.org import accounts, organisation, tax_rates
from clinic_etl.settings import CLIO_APP_FIX, CLIO_SANDBOX_DEFAULTS, Settings, SettingsError

XERO = {"XERO_CLIENT_ID": "i", "XERO_CLIENT_SECRET": "s"}
CLIO = {"CLINIC_ETL_SOURCE": "clio", "CLIO_CLIENT_ID": "app", "CLIO_CLIENT_SECRET": "sec", "CLIO_REFRESH_TOKEN": "tok"}
FIX = "register an app in Clio's developer portal of the firm's region"


@pytest.mark.parametrize("missing", ["CLIO_CLIENT_ID", "CLIO_CLIENT_SECRET", "CLIO_REFRESH_TOKEN"])
def test_clio_needs_its_app_and_refresh_token(missing):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**CLIO, **XERO, missing: ""})
    line = str(raised.value)
    assert line.startswith(f"{missing} is not set, and CLINIC_ETL_SOURCE=clio needs it: {FIX}") and "\n" not in line


def test_clio_names_every_missing_variable_first_the_first():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CLINIC_ETL_SOURCE": "clio"})
    assert str(raised.value).startswith("CLIO_CLIENT_ID is not set, and CLINIC_ETL_SOURCE=clio needs it")
    assert "(also missing: CLIO_CLIENT_SECRET, CLIO_REFRESH_TOKEN, XERO_CLIENT_ID, XERO_CLIENT_SECRET)" in str(
        raised.value
    )


def test_clio_with_real_xero_needs_the_xero_app_too():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(CLIO)
    assert str(raised.value).startswith("XERO_CLIENT_ID is not set, and CLINIC_ETL_SOURCE=clio needs it")


@pytest.mark.parametrize("url", ["app.clio.com", "ftp://app.clio.com", "https://user@app.clio.com", "https://"])
def test_a_clio_base_url_that_is_not_a_region_root(url):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**CLIO, **XERO, "CLIO_BASE_URL": url})
    line = str(raised.value)
    assert line.startswith("CLIO_BASE_URL=")
    assert "is not the root URL of a Clio region: use https://app.clio.com" in line


def test_an_unknown_source_lists_the_clio_sources():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CLINIC_ETL_SOURCE": "cleo"})
    assert str(raised.value) == (
        "CLINIC_ETL_SOURCE='cleo' is not supported: use one of sandbox, cliniko, clio, clio-sandbox"
    )


def test_clio_secrets_never_appear_in_a_settings_error():
    env = {**CLIO, **XERO, "CLIO_CLIENT_SECRET": "very-secret-1", "CLIO_REFRESH_TOKEN": "very-secret-2"}
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**env, "CLINIC_ETL_TIMEZONE": "Nowhere"})
    assert "very-secret" not in str(raised.value)
    assert "very-secret" not in repr(Settings.from_env(env))


def test_real_clio_picks_the_real_resources_with_secrets_from_the_environment():
    settings = Settings.from_env({**CLIO, **XERO, "CLIO_BASE_URL": "https://eu.app.clio.com"})
    assert settings.real_xero and settings.timezone == "Australia/Sydney"  # nothing of the sandbox's defaults
    chosen = resources(settings)
    source = chosen["source"]
    assert type(source) is ClioResource and type(chosen["xero"]) is XeroResource
    assert source.base_url == "https://eu.app.clio.com" and source.calls_per_minute == 50
    for field, variable in (
        ("client_id", "CLIO_CLIENT_ID"),
        ("client_secret", "CLIO_CLIENT_SECRET"),
        ("refresh_token", "CLIO_REFRESH_TOKEN"),
    ):
        assert isinstance(getattr(source, field), dg.EnvVar) and getattr(source, field).env_var_name == variable
    assert resources(Settings.from_env({**CLIO, **XERO}))["source"].base_url == "https://app.clio.com"


def test_the_clio_sandbox_is_new_york_from_its_first_day_with_its_mapping_and_the_embedded_xero():
    settings = Settings.from_env({"CLINIC_ETL_SOURCE": "clio-sandbox"})
    assert settings.timezone == FIRM_TIME_ZONE and settings.start_date == SANDBOX_WINDOW[0]
    assert Path(settings.config_path) == Path(CLIO_SANDBOX_DEFAULTS["CLINIC_ETL_CONFIG"]) and not settings.real_xero
    chosen = resources(settings)
    assert type(chosen["source"]) is SandboxClioResource and type(chosen["xero"]) is SandboxXeroResource
    assert chosen["mapping"].path == settings.config_path
    mine = Settings.from_env(
        {
            "CLINIC_ETL_SOURCE": "Clio-Sandbox",
            "CLINIC_ETL_TIMEZONE": "Europe/London",
            "CLINIC_ETL_START_DATE": "2026-10-01",
            "CLINIC_ETL_CONFIG": __file__,
        }
    )
    assert (mine.source, mine.timezone, mine.start_date, mine.config_path) == (
        "clio-sandbox",
        "Europe/London",
        date(2026, 10, 1),
        __file__,
    )
    assert Settings.from_env({}).timezone == "Australia/Sydney"  # the Cliniko sandbox keeps its own defaults


def test_the_settings_defaults_are_the_firms():
    assert CLIO_SANDBOX_DEFAULTS["CLINIC_ETL_TIMEZONE"] == FIRM_TIME_ZONE
    assert CLIO_SANDBOX_DEFAULTS["CLINIC_ETL_START_DATE"] == SANDBOX_WINDOW[0].isoformat()


def test_the_clio_sandbox_mapping_names_accounts_and_tax_types_the_simulated_xero_has():
    mapping = load_mapping(CLIO_SANDBOX_DEFAULTS["CLINIC_ETL_CONFIG"])
    active = {a["Code"]: a for a in accounts("US") if a["Status"] == "ACTIVE"}
    rates = {t["TaxType"]: t["EffectiveRate"] for t in tax_rates("US")}
    taxes = set(rates)
    assert mapping.currency == "USD" == organisation(0, "US")["BaseCurrency"]  # the law firm's own organisation
    assert active[mapping.accounts.payments]["Type"] == "BANK"
    for code in (mapping.accounts.revenue, *mapping.accounts.by_item_code.values()):
        assert active[code]["Type"] == "REVENUE"
    assert set(mapping.accounts.by_item_code) == {"Expense", "Interest"}
    assert set(mapping.taxes.by_name) == {"primary", "secondary", "primary+secondary"}
    assert {mapping.taxes.exempt, mapping.taxes.taxable, *mapping.taxes.by_name.values()} <= taxes
    assert [rates[mapping.taxes.by_name[n]] for n in ("primary", "secondary", "primary+secondary")] == [
        "8.875",
        "2.5",
        "11.375",
    ]


def test_the_help_names_the_clio_variables():
    text = CliRunner().invoke(main, ["--help"]).output
    for name in ("CLIO_CLIENT_ID", "CLIO_CLIENT_SECRET", "CLIO_REFRESH_TOKEN", "CLIO_BASE_URL", "clio-sandbox"):
        assert name in text


def test_dagster_load_with_clio_missing_a_credential_is_one_line(tmp_path):
    keep = ("CLINIC_ETL_", "XERO_", "CLINIKO_", "CLIO_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(keep)}
    env.update(DAGSTER_HOME=str(tmp_path), CLINIC_ETL_SOURCE="clio", CLIO_CLIENT_ID="app", **XERO)
    program = "from clinic_etl.definitions import defs; defs()"
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"clinic-etl: CLIO_CLIENT_SECRET is not set, and CLINIC_ETL_SOURCE=clio needs it: {CLIO_APP_FIX} (also "
        "missing: CLIO_REFRESH_TOKEN)"
    ]
