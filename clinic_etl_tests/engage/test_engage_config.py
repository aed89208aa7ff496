"""Both features are off unless the mapping file has their section; on, their assets join the sync job on the same
daily partitions with the single-run backfill policy; the sandbox gets the simulators, a deployment the real APIs with
secrets through EnvVar; a wrong or missing setting stops the load with one line naming it (never a secret's value)."""

from pathlib import Path

import dagster as dg
import pytest

from clinic_etl.definitions import SYNC_JOB, build_definitions
from clinic_etl.deployment import engage_resources
from clinic_etl.mapping import MappingError, load_mapping
from clinic_etl.resources.gohighlevel import GoHighLevelResource
from clinic_etl.resources.mailchimp import MailchimpResource
from clinic_etl.sandbox.gohighlevel import SANDBOX_WORKFLOW_ID
from clinic_etl.sandbox.mailchimp import SANDBOX_JOURNEY_ID, SANDBOX_STEP_ID
from clinic_etl.sandbox.resources import SandboxGoHighLevelResource, SandboxMailchimpResource
from clinic_etl.settings import Settings, SettingsError

SAMPLE = str(Path(__file__).resolve().parents[2] / "clinic_etl" / "sandbox" / "engage.yaml")
REAL = {"CLINIC_ETL_SOURCE": "cliniko", "CLINIKO_API_KEY": "k-au2", "XERO_CLIENT_ID": "i", "XERO_CLIENT_SECRET": "s"}
ENGAGE = {"gohighlevel_onboarding", "mailchimp_follow_ups"}


def assets(defs: dg.Definitions) -> dict[str, dg.AssetsDefinition]:
    return {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition)}


def test_both_features_are_off_unless_the_mapping_file_has_their_section():
    defs = build_definitions(Settings.from_env({}))
    assert not ENGAGE & set(assets(defs))
    assert "gohighlevel" not in defs.resources and "mailchimp" not in defs.resources


def test_the_sample_mapping_turns_both_on_in_the_sync_job_on_the_same_partitions():
    defs = build_definitions(Settings.from_env({"CLINIC_ETL_CONFIG": SAMPLE}))
    found = assets(defs)
    assert set(found) >= ENGAGE
    assert len({a.partitions_def for a in found.values()}) == 1
    assert all(found[name].backfill_policy == dg.BackfillPolicy.single_run() for name in ENGAGE)
    job = defs.resolve_job_def(SYNC_JOB)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} >= ENGAGE
    assert type(defs.resources["gohighlevel"]) is SandboxGoHighLevelResource
    assert type(defs.resources["mailchimp"]) is SandboxMailchimpResource
    assert {c.name for c in found["mailchimp_follow_ups"].check_specs} == {"overdue_money_within_threshold"}
    mapping = load_mapping(SAMPLE)
    assert mapping.gohighlevel is not None and mapping.gohighlevel.workflow_id == SANDBOX_WORKFLOW_ID
    assert mapping.mailchimp is not None and mapping.mailchimp.journey is not None
    assert (mapping.mailchimp.journey.journey_id, mapping.mailchimp.journey.step_id) == (
        SANDBOX_JOURNEY_ID,
        SANDBOX_STEP_ID,
    )
    assert mapping.model_dump(exclude={"gohighlevel", "mailchimp"}) == load_mapping(None).model_dump(
        exclude={"gohighlevel", "mailchimp"}
    )  # the sample changes nothing on the Xero side


def test_a_deployment_uses_the_real_apis_with_secrets_through_envvar():
    env = {**REAL, "GHL_TOKEN": "pit-secret", "GHL_LOCATION_ID": "loc1", "MAILCHIMP_API_KEY": "abc-us6",
           "MAILCHIMP_AUDIENCE_ID": "aud1", "CLINIC_ETL_CONFIG": SAMPLE}  # fmt: skip
    chosen = engage_resources(Settings.from_env(env), load_mapping(SAMPLE))
    ghl, chimp = chosen["gohighlevel"], chosen["mailchimp"]
    assert type(ghl) is GoHighLevelResource and type(chimp) is MailchimpResource
    assert ghl.location_id == "loc1" and ghl.base_url == "https://services.leadconnectorhq.com"
    assert chimp.audience_id == "aud1" and chimp.base_url is None  # from the key: https://us6.api.mailchimp.com/3.0
    # the secrets are EnvVars, resolved only when a run starts: never in the run config or the UI
    assert isinstance(ghl.token, dg.EnvVar) and isinstance(chimp.api_key, dg.EnvVar)
    assert ghl._convert_to_config_dictionary()["token"] == {"env": "GHL_TOKEN"}
    assert chimp._convert_to_config_dictionary()["api_key"] == {"env": "MAILCHIMP_API_KEY"}
    assert "pit-secret" not in repr(Settings.from_env(env)) and "abc-us6" not in repr(Settings.from_env(env))


@pytest.mark.parametrize(
    ("env", "mapping", "line"),
    [
        ({**REAL}, {"gohighlevel": {}}, "GHL_TOKEN is not set, and the mapping file's gohighlevel section needs it"),
        ({**REAL}, {"mailchimp": {}}, "MAILCHIMP_API_KEY is not set, and the mapping file's mailchimp section"),
        ({"CLINIC_ETL_SOURCE": "clio-sandbox"}, {"gohighlevel": {}}, "gohighlevel section needs Cliniko's"),
        ({"GHL_TOKEN": "pit-secret"}, None, "GHL_LOCATION_ID is not set, and GHL_TOKEN needs it"),
        ({"MAILCHIMP_API_KEY": "abc-us6"}, None, "MAILCHIMP_AUDIENCE_ID is not set, and MAILCHIMP_API_KEY needs it"),
        ({"MAILCHIMP_API_KEY": "no-suffix-secret"}, None, "MAILCHIMP_API_KEY=<secret> has no data-centre suffix"),
        ({"GHL_BASE_URL": "services.leadconnectorhq.com"}, None, "GHL_BASE_URL='services.leadconnectorhq.com' is not"),
    ],
)
def test_a_missing_or_wrong_setting_is_one_line_naming_it(tmp_path, env, mapping, line):
    if mapping is not None:
        import yaml

        (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping))
        env = {**env, "CLINIC_ETL_CONFIG": str(tmp_path / "m.yaml")}
    with pytest.raises(SettingsError) as raised:
        build_definitions(Settings.from_env(env))
    text = str(raised.value)
    assert line in text and "\n" not in text and "secret" not in text.replace("<secret>", "")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("mailchimp: {days_overdue: 0}", "mailchimp.days_overdue"),
        ("mailchimp: {status_if_new: resubscribed}", "mailchimp.status_if_new"),
        ("mailchimp: {journey: {journey_id: 4021}}", "mailchimp.journey.step_id"),
        ("gohighlevel: {consent: maybe}", "gohighlevel.consent"),
        ("gohighlevel: {workflow: abc}", "gohighlevel.workflow"),
    ],
)
def test_a_bad_mapping_key_is_named(tmp_path, body, where):
    (tmp_path / "m.yaml").write_text(body)
    with pytest.raises(MappingError, match=where.replace(".", r"\.")):
        load_mapping(tmp_path / "m.yaml")


def test_a_deployment_with_both_on_loads_without_the_simulators(tmp_path):
    from clinic_etl_tests.deploy.test_without_sandbox import run

    real = {**REAL, "GHL_TOKEN": "pit-x", "GHL_LOCATION_ID": "loc1", "MAILCHIMP_API_KEY": "abc-us6",
            "MAILCHIMP_AUDIENCE_ID": "aud1", "CLINIC_ETL_CONFIG": SAMPLE}  # fmt: skip
    done = run(real, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: []" in done.stdout
