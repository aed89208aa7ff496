"""`clinic-etl sandbox serve` over real HTTP on loopback, with the environment pointing the real clients at it:
the deployment picks the real resource classes, and a second run of the day writes nothing."""

import dagster as dg
import pytest

from clinic_etl.deployment import resources
from clinic_etl.resources import ClinikoResource, XeroResource
from clinic_etl.sandbox.serve import environment
from clinic_etl.settings import Settings
from clinic_etl_tests.serving import serving

from .conftest import DAY, SYNC_ASSETS, checks, metadata


@pytest.fixture
def served(tmp_path):
    with serving(tmp_path / "served-xero.sqlite") as port:
        yield port


def test_sync_over_real_http_then_rerun_writes_nothing(served, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name, value in environment("127.0.0.1", served).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLINIC_ETL_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    chosen = resources(Settings.from_env())
    assert type(chosen["source"]) is ClinikoResource and type(chosen["xero"]) is XeroResource
    instance = dg.DagsterInstance.ephemeral()
    first = dg.materialize(SYNC_ASSETS, partition_key=DAY, resources=chosen, instance=instance)
    assert checks(first)["xero_matches_source"]
    assert metadata(first, "xero_sync")["invoice_created"] > 10
    second = dg.materialize(SYNC_ASSETS, partition_key=DAY, resources=resources(Settings.from_env()), instance=instance)
    assert checks(second)["xero_matches_source"]
    assert metadata(second, "xero_sync")["writes"] == 0
