"""Alerts reach a person (issue 10): a failed run and a failed check, delivered to a local webhook receiver and a
local SMTP server started by the test, naming the day, the asset, the check and the reason, with ids only.

The sensors are evaluated as Dagster's daemon evaluates them (their context built on the runs' instance), after real
sandbox runs that fail: Xero refusing the connection, a payment deleted in Xero by hand, a mapping that quarantines.
"""

import json
import re

import dagster as dg
import pytest

from clinic_etl.alerts import AlertDeliveryError, AlertResource, alert_sensors
from clinic_etl.definitions import build_definitions
from clinic_etl.sandbox.cliniko import build_practice
from clinic_etl.sandbox.resources import SandboxXeroResource
from clinic_etl.settings import Settings
from clinic_etl_tests.pipeline.conftest import DAY, SYNC_ASSETS, Sandbox, checks, metadata

from .receivers import SmtpReceiver, WebhookReceiver

RUN_FAILURE, CHECK_FAILURE = (s for s in alert_sensors())


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return Sandbox(tmp_path)


@pytest.fixture
def channels():
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        alerts = AlertResource(
            webhook_url=hook.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_tls="none",
            smtp_from="clinic-etl@practice.example",
            smtp_to="finance@practice.example, owner@practice.example",
            ui_url="http://dagster.practice.example:3000",
        )
        yield alerts, hook, smtp


def names() -> set[str]:
    """Every patient's first and last name and e-mail: none may appear in an alert."""
    found = set()
    for p in build_practice().patients:
        found |= {str(p[k]) for k in ("first_name", "last_name", "email") if p.get(k) and len(str(p[k])) > 3}
    return found


def assert_no_personal_data(text: str) -> None:
    leaked = sorted(n for n in names() if re.search(rf"\b{re.escape(n)}\b", text))
    assert not leaked, leaked[:5]


def run_failure(sandbox: Sandbox, result: dg.ExecuteInProcessResult, alerts: AlertResource) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE.name,
        dagster_instance=sandbox.instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources={"alerts": alerts},
    )
    RUN_FAILURE(context)


def check_tick(sandbox: Sandbox, alerts: AlertResource, cursor: str | None) -> str | None:
    context = dg.build_sensor_context(instance=sandbox.instance, cursor=cursor, resources={"alerts": alerts})
    CHECK_FAILURE(context)
    return context.cursor


def test_a_revoked_xero_connection_is_its_own_alert_reconnect_then_rerun_from_the_day(sandbox, channels):
    alerts, hook, smtp = channels
    resources = {
        **sandbox.resources(),
        "xero": SandboxXeroResource(state_path=sandbox.xero_state, client_secret="revoked-secret-5521"),
    }
    result = dg.materialize(
        SYNC_ASSETS, partition_key=DAY, resources=resources, instance=sandbox.instance, raise_on_error=False
    )
    assert not result.success

    run_failure(sandbox, result, alerts)

    assert len(hook.posts) == 1 and len(smtp.messages) == 1
    alert = hook.posts[0]["alert"]
    assert alert["kind"] == "reconnect" and alert["days"] == [DAY]
    assert alert["title"].startswith("Reconnect Xero")
    assert alert["asset"] == "xero_documents"  # the first step that talks to Xero
    assert "XERO_CLIENT_SECRET" in alert["reason"] and "revoked-secret-5521" not in json.dumps(hook.posts)
    assert f"then re-run from {DAY}" in alert["action"]
    assert alert["link"] == f"http://dagster.practice.example:3000/runs/{result.run_id}"
    mail = smtp.messages[0]
    assert mail["Subject"].startswith("[clinic-etl] Reconnect Xero") and mail["X-Clinic-ETL-Alert"] == "reconnect"
    assert mail["To"] == "finance@practice.example, owner@practice.example"
    body = mail.get_payload(decode=True).decode()
    assert f"day: {DAY}" in body and "asset: xero_documents" in body and f"re-run from {DAY}" in body


def test_xero_differing_from_the_source_fails_the_check_and_alerts_once_with_the_ids(sandbox, channels):
    alerts, hook, smtp = channels
    cursor = check_tick(sandbox, alerts, None)  # the sensor's first tick: from now on, not the history
    first = sandbox.sync(DAY)
    assert checks(first)["xero_matches_source"]
    assert check_tick(sandbox, alerts, cursor) and not hook.posts  # a day that reconciles says nothing
    cursor = check_tick(sandbox, alerts, cursor)

    xero = sandbox.xero()  # a bookkeeper deletes a payment in Xero by hand
    invoices = xero.get_all("Invoices", "Invoices", where=f"Date==DateTime({DAY.replace('-', ',')})")
    paid = next(i for i in invoices if i["Status"] == "PAID")
    payment_id = xero.get(f"Invoices/{paid['InvoiceID']}")["Invoices"][0]["Payments"][0]["PaymentID"]
    xero.write("POST", f"Payments/{payment_id}", {"Status": "DELETED"})
    second = sandbox.sync(DAY)
    assert not second.success and not checks(second)["xero_matches_source"]  # the blocking check fails the run

    # the UI shows the day's differences as a table (ids, amounts, statuses), the difference as a number
    shown = metadata(second, "xero_reconciliation", DAY)
    table = shown["differences"]
    assert [c.name for c in table.schema.columns][:2] == ["document", "number"]
    (row,) = [r.data for r in table.records]
    assert row["number"] == paid["InvoiceNumber"] and row["xero_paid"] == 0 and row["source_paid"] > 0
    assert shown["difference"] == 0 and shown["xero_paid"] < shown["source_paid"]  # floats, plotted per day
    run_failure(sandbox, second, alerts)  # the check's failure is the check sensor's to report, not twice
    assert not hook.posts and not smtp.messages

    hook.status = 500  # the webhook is down: the tick fails and keeps its cursor, so the alert is not lost
    with pytest.raises(AlertDeliveryError, match="webhook"):
        check_tick(sandbox, alerts, cursor)
    hook.status = 200
    smtp.messages.clear()
    cursor = check_tick(sandbox, alerts, cursor)

    assert len(hook.posts) == 1 and len(smtp.messages) == 1
    alert = hook.posts[0]["alert"]
    assert alert["kind"] == "check_failed" and alert["check"] == "xero_matches_source"
    assert alert["asset"] == "xero_reconciliation" and alert["days"] == [DAY] and alert["run_id"] == second.run_id
    assert "1 document(s)" in alert["reason"] and "difference" in alert["reason"]
    # the details name the invoice by its source id and say what differs, never who the patient is
    assert any(d.startswith(f"{DAY}: cliniko:invoice:") and "paid" in d for d in alert["details"]), alert["details"]
    assert "Check xero_matches_source failed" in smtp.messages[0]["Subject"]
    assert_no_personal_data(json.dumps(hook.posts) + smtp.messages[0].as_string())

    check_tick(sandbox, alerts, cursor)  # read once: the next tick sends nothing
    assert len(hook.posts) == 1


def test_a_growing_quarantine_alerts_and_the_same_quarantine_again_does_not(sandbox, channels, tmp_path):
    alerts, hook, smtp = channels
    mapping = tmp_path / "mapping.yaml"
    # GST-free in Xero, 10 % at the source: each taxed invoice is held, the rest goes on
    mapping.write_text('taxes:\n  by_name: {"GST": "EXEMPTOUTPUT"}\n', encoding="utf-8")
    cursor = check_tick(sandbox, alerts, None)
    first = sandbox.sync(DAY, mapping=str(mapping))
    assert not first.success and checks(first)["nothing_quarantined"] is False  # blocking: the day is not a pass

    cursor = check_tick(sandbox, alerts, cursor)
    assert len(hook.posts) == 1 and len(smtp.messages) == 1
    alert = hook.posts[0]["alert"]
    assert alert["kind"] == "quarantine_grew" and alert["check"] == "nothing_quarantined" and alert["days"] == [DAY]
    assert alert["details"] and all(d.startswith(f"{DAY}: cliniko:") for d in alert["details"])
    assert "clinic-etl quarantine list" in alert["action"]
    assert_no_personal_data(json.dumps(hook.posts) + smtp.messages[0].as_string())

    again = sandbox.sync(DAY, mapping=str(mapping))  # the same records still held: not news
    assert checks(again)["nothing_quarantined"] is False
    check_tick(sandbox, alerts, cursor)
    assert len(hook.posts) == 1


def test_alerts_are_off_unless_configured_and_their_secrets_stay_out_of_the_definitions(tmp_path):
    off = build_definitions(Settings.from_env({"DAGSTER_HOME": str(tmp_path)}))
    assert not list(off.sensors or [])
    secret = "https://hooks.example.com/T000/B000/s3cr3t-t0ken"
    on = build_definitions(Settings.from_env({"DAGSTER_HOME": str(tmp_path), "CLINIC_ETL_ALERT_WEBHOOK": secret}))
    assert {s.name for s in on.sensors} == {"alert_on_run_failure", "alert_on_check_failure"}
    resource = on.resources["alerts"]
    assert isinstance(resource.webhook_url, dg.EnvVar) or "s3cr3t" not in repr(resource)
