"""A mapping naming what Xero lacks stops the run before any write (with the key and the fix); a standard app's
rotated refresh token is kept in the state store."""

from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, create_app
from clinic_etl.store import StateStore
from clinic_etl.xero.auth import XeroAuth

from .conftest import DAY, checks, metadata


def writes_to_xero(sandbox) -> int:
    calls = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    return sum(n for call, n in calls.items() if "api.xro" in call and not call.startswith("GET"))


def test_a_mapping_naming_a_tax_type_xero_lacks_fails_before_any_write_then_syncs_once_fixed(sandbox, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text('taxes:\n  by_name: {"GST": "GST10"}\n', encoding="utf-8")
    result = sandbox.sync(DAY, mapping=str(mapping))
    assert not result.success
    failed = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failed] == ["xero_documents"]  # before the load: nothing sent, nothing recorded
    message = failed[0].step_failure_data.error.message
    assert "taxes.by_name['GST']: TaxType 'GST10'" in message and "nothing was written" in message
    assert writes_to_xero(sandbox) == 0
    assert StateStore.open(sandbox.db_url).open_quarantine(DAY) == []
    fixed = sandbox.sync(DAY)  # the mapping fixed: the day goes through
    assert fixed.success and checks(fixed)["xero_matches_source"] and checks(fixed)["nothing_quarantined"]
    assert metadata(fixed, "xero_sync")["invoice_created"] > 0 and writes_to_xero(sandbox) > 0


def test_rotated_refresh_tokens_are_stored_before_use_and_survive_a_restart(tmp_path):
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", key_file=str(tmp_path / "secret.key"))
    transport = InProcessTransport(create_app(tmp_path / "xero.sqlite"))

    def auth() -> XeroAuth:
        return XeroAuth(
            "http://xero.sandbox",
            SANDBOX_CLIENT_ID,
            SANDBOX_CLIENT_SECRET,
            refresh_token=SANDBOX_REFRESH_TOKEN,
            store=store,
            transport=transport,
        )

    assert auth().access_token()
    first = store.get_credential(f"xero_refresh_token:{SANDBOX_CLIENT_ID}")
    assert first and first != SANDBOX_REFRESH_TOKEN
    assert auth().access_token()  # a new process: it must use the stored token, not the spent seed
    second = store.get_credential(f"xero_refresh_token:{SANDBOX_CLIENT_ID}")
    assert second and second not in {first, SANDBOX_REFRESH_TOKEN}


def test_wrong_xero_credentials_fail_at_once_naming_the_variable_without_dagster_retries(sandbox):
    from clinic_etl.sandbox.resources import SandboxXeroResource

    resources = {
        **sandbox.resources(),
        "xero": SandboxXeroResource(state_path=sandbox.xero_state, client_secret="wrong-secret-9431"),
    }
    import dagster as dg

    from .conftest import SYNC_ASSETS

    result = dg.materialize(
        SYNC_ASSETS, partition_key=DAY, resources=resources, instance=sandbox.instance, raise_on_error=False
    )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert len(failures) == 1 and "XERO_CLIENT_SECRET" in failures[0] and "wrong-secret-9431" not in failures[0]
