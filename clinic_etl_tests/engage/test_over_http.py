"""`clinic-etl sandbox serve` serves the GoHighLevel and Mailchimp simulators over real HTTP beside Cliniko and Xero;
with the printed variables the deployment picks the real resource classes (secrets through EnvVar) and both steps
work over the network, a batch's results fetched from the URL the server gives; a re-run sends nothing."""

from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml

from clinic_etl.deployment import engage_resources, resources
from clinic_etl.mapping import load_mapping
from clinic_etl.resources.gohighlevel import GoHighLevelResource
from clinic_etl.resources.mailchimp import MailchimpResource
from clinic_etl.sandbox.serve import engage_environment, environment
from clinic_etl.settings import Settings
from clinic_etl_tests.serving import serving

from .conftest import ONBOARDING, PARTITIONS, RANGE_END, RANGE_START, SYNC_ASSETS, change, metadata
from .test_engage_config import SAMPLE


@pytest.fixture
def served(tmp_path):
    with serving(tmp_path / "sandbox" / "xero.sqlite") as port:
        yield port


def test_both_steps_over_real_http(served, tmp_path, monkeypatch):
    from clinic_etl.assets import follow_ups

    sample = yaml.safe_load(Path(SAMPLE).read_text())
    sample["mailchimp"]["days_overdue"] = 1  # the 13th's invoices are a day overdue on the 14th
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(sample))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name, value in {**environment("127.0.0.1", served), **engage_environment("127.0.0.1", served)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLINIC_ETL_CONFIG", str(tmp_path / "m.yaml"))
    monkeypatch.setenv("CLINIC_ETL_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    settings = Settings.from_env()
    mapping = load_mapping(settings.config_path)

    def chosen() -> dict:
        return {**resources(settings), **engage_resources(settings, mapping)}

    assert type(chosen()["gohighlevel"]) is GoHighLevelResource and type(chosen()["mailchimp"]) is MailchimpResource
    assets = [*SYNC_ASSETS, ONBOARDING, follow_ups.build(PARTITIONS, mapping.mailchimp)]
    window = {"tags": {RANGE_START: "2026-10-13", RANGE_END: "2026-10-14"}}
    instance = dg.DagsterInstance.ephemeral()
    first = dg.materialize(assets, resources=chosen(), instance=instance, **window)
    assert first.success
    assert metadata(first, "gohighlevel_onboarding", "2026-10-14")["new_patients"] == 2
    sent = metadata(first, "mailchimp_follow_ups", "2026-10-14")
    assert sent["followed_up"] > 5 and sent["tagged"] > 5

    def stats() -> dict:
        root = f"http://127.0.0.1:{served}"
        return {
            "ghl": httpx.get(f"{root}/gohighlevel/__sandbox__/stats").json()["calls"],
            "chimp": httpx.get(f"{root}/mailchimp/__sandbox__/stats").json()["calls"],
        }

    before = stats()
    assert before["chimp"]["GET /batch-results/{file}"] == 2  # both batches' results, through the served URL
    again = dg.materialize(assets, resources=chosen(), instance=instance, **window)
    assert again.success
    after = stats()
    assert change(before["ghl"], after["ghl"]) == {} and change(before["chimp"], after["chimp"]) == {}
