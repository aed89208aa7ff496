"""The `dry_run_sync` job, launched as Dagster launches it: the day's plan per tenant in the run's metadata, nothing
sent to Xero, nothing recorded in the state store."""

import dagster as dg
import httpx

from clinic_etl.definitions import DRY_RUN_JOB, SYNC_JOB, build_definitions
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import create_app
from clinic_etl.settings import Settings
from clinic_etl.store import StateStore

DAY = "2026-10-14"


def xero_writes(state: str) -> int:
    with httpx.Client(transport=InProcessTransport(create_app(state)), base_url="http://x") as http:
        calls = http.get("/__sandbox__/stats").json()["calls"]
    return sum(n for call, n in calls.items() if "api.xro" in call and not call.startswith("GET"))


def test_the_dry_run_job_plans_the_day_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    settings = Settings.from_env({"DAGSTER_HOME": str(tmp_path)})
    defs = build_definitions(settings)
    job = defs.resolve_job_def(DRY_RUN_JOB)
    result = job.execute_in_process(partition_key=DAY, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    plan = next(m.metadata["run_by_tenant"].value for m in result.asset_materializations_for_node("xero_sync"))[
        "default"
    ]
    assert plan["invoice_created"] > 0 and plan["payment_created"] > 0 and plan["invoice_created_amount"]
    state = str(settings.state_dir / "sandbox" / "xero.sqlite")
    assert xero_writes(state) == 0
    with StateStore.open(settings.store_url) as store:
        assert store.writes() == []  # nothing recorded
    real = defs.resolve_job_def(SYNC_JOB).execute_in_process(
        partition_key=DAY, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    done = next(m.metadata["run_by_tenant"].value for m in real.asset_materializations_for_node("xero_sync"))
    assert real.success and done["default"]["invoice_created"] == plan["invoice_created"]
    assert done["default"]["invoice_created_amount"] == plan["invoice_created_amount"]
