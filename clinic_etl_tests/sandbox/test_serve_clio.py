"""`clinic-etl sandbox serve` serves the Clio simulator next to Cliniko and Xero on one port, under Clio's own paths
(/api/v4, /oauth) that clash with neither; the printed CLIO_* variables point `CLINIC_ETL_SOURCE=clio` (the real
client and resource) at it, over real HTTP, and the ledger stages run on it."""

from __future__ import annotations

from datetime import date

import dagster as dg
import httpx
import pytest

from clinic_etl.definitions import build_definitions
from clinic_etl.deployment import resources
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import ClioResource
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY
from clinic_etl.sandbox.clio import FIRM_TIME_ZONE, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from clinic_etl.sandbox.serve import clio_environment, combined_app, environment
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID as XERO_ID
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_SECRET as XERO_SECRET
from clinic_etl.settings import Settings
from clinic_etl.sources.clio.client import ClioClient
from clinic_etl.sources.clio.extract import extract
from clinic_etl.sources.clio.to_ledger import to_ledger
from clinic_etl_tests.serving import serving


def test_each_simulator_answers_under_its_own_paths(tmp_path):
    transport = InProcessTransport(combined_app(tmp_path / "xero.sqlite"))
    with httpx.Client(transport=transport, base_url="http://sandbox") as http:
        clio = http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": SANDBOX_REFRESH_TOKEN,
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
            },
        )
        assert clio.status_code == 200 and clio.json()["token_type"].lower() == "bearer"
        token = clio.json()["access_token"]
        bills = http.get(
            "/api/v4/bills.json",
            params={"fields": "id,number", "limit": 1},
            headers={"Authorization": f"Bearer {token}", "X-API-VERSION": "4.0.9"},
        )
        assert bills.status_code == 200 and len(bills.json()["data"]) == 1
        xero = http.post("/connect/token", data={"grant_type": "client_credentials"}, auth=(XERO_ID, XERO_SECRET))
        assert xero.status_code == 200 and "access_token" in xero.json()
        agent = {"User-Agent": "clinic-etl tests (tests@example.com)"}
        cliniko = http.get("/v1/businesses", auth=(SANDBOX_CLINIKO_API_KEY, ""), headers=agent)
        assert cliniko.status_code == 200 and "businesses" in cliniko.json()


def test_the_printed_clio_variables_choose_the_real_clio_resource():
    env = clio_environment("127.0.0.1", 8765)
    assert set(environment("127.0.0.1", 8765)) - {"CLINIKO_API_KEY", "CLINIKO_BASE_URL"} <= set(env)
    settings = Settings.from_env(env)
    assert settings.source == "clio" and settings.timezone == FIRM_TIME_ZONE
    chosen = resources(settings)
    assert type(chosen["source"]) is ClioResource and chosen["source"].base_url == "http://127.0.0.1:8765"


@pytest.fixture
def served(tmp_path):
    with serving(tmp_path / "served-xero.sqlite") as port:
        yield port


def test_the_ledger_stages_over_real_http(served, tmp_path, monkeypatch):
    env = {**clio_environment("127.0.0.1", served), "DAGSTER_HOME": str(tmp_path)}
    settings = Settings.from_env(env)
    defs = build_definitions(settings)
    for name in ("CLIO_CLIENT_ID", "CLIO_CLIENT_SECRET", "CLIO_REFRESH_TOKEN"):  # the resource's EnvVars
        monkeypatch.setenv(name, env[name])
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets,
        selection=["source_records", "practice_ledger"],
        resources=defs.resources,
        instance=dg.DagsterInstance.ephemeral(),
        partition_key="2026-10-14",
    )
    assert result.success
    figures = next(
        e for e in result.asset_materializations_for_node("practice_ledger") if e.partition == "2026-10-14"
    ).metadata
    with ClioClient(env["CLIO_BASE_URL"], SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN) as client:
        window = SyncWindow(date(2026, 10, 14), date(2026, 10, 14), settings.zone)
        ledger, rejected = to_ledger(extract(client, window), window)
    assert rejected.empty and figures["invoices"].value == len(ledger["invoices"]) > 10
    assert figures["payments"].value == len(ledger["payments"]) > 5
    assert figures["quarantined"].value == 0


def test_a_whole_sync_over_real_http_reconciles_and_a_rerun_writes_nothing(served, tmp_path, monkeypatch):
    """CLINIC_ETL_SOURCE=clio with the printed variables: the real Clio and Xero clients, the law firm's own Xero."""
    env = {**clio_environment("127.0.0.1", served), "DAGSTER_HOME": str(tmp_path)}
    for name, value in env.items():  # the resources read their secrets through EnvVar
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(env)
    assets = [a for a in build_definitions(settings).assets if isinstance(a, dg.AssetsDefinition)]
    instance = dg.DagsterInstance.ephemeral()
    tags = {"dagster/asset_partition_range_start": "2026-10-12", "dagster/asset_partition_range_end": "2026-10-13"}
    runs = []
    for _ in range(2):
        defs = build_definitions(settings)
        result = dg.materialize(assets, resources=defs.resources, instance=instance, tags=tags)
        checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "xero_matches_source"]
        assert result.success and checks and all(e.passed for e in checks)
        runs.append(result)
    loads = [
        {k: getattr(v, "value", v) for k, v in e.metadata.items()}
        for e in runs[1].asset_materializations_for_node("xero_sync")
        if e.partition is None
    ]
    first_writes = sum(
        getattr(e.metadata.get("writes"), "value", 0) or 0
        for e in runs[0].asset_materializations_for_node("xero_sync")
        if e.partition is not None
    )
    rerun_writes = sum(
        getattr(e.metadata.get("writes"), "value", 0) or 0
        for e in runs[1].asset_materializations_for_node("xero_sync")
        if e.partition is not None
    )
    assert first_writes > 10 and rerun_writes == 0, loads


def test_the_served_xero_connects_as_many_organisations_as_asked(tmp_path):
    from clinic_etl.sandbox.xero.catalogue import SANDBOX_TENANTS

    for organisations, state in ((1, "one.sqlite"), (2, "two.sqlite")):
        transport = InProcessTransport(combined_app(tmp_path / state, organisations))
        with httpx.Client(transport=transport, base_url="http://sandbox") as http:
            token = http.post("/connect/token", data={"grant_type": "client_credentials"}, auth=(XERO_ID, XERO_SECRET))
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            connected = [c["tenantId"] for c in http.get("/connections", headers=bearer).json()]
        assert connected == list(SANDBOX_TENANTS[:organisations])
