"""Whole syncs in appointments mode (`invoice_from: appointments` in the mapping file, CLINIC_ETL_CONFIG): a sandbox
day's appointment invoices reach Xero beside its Cliniko invoices and reconcile, a re-run writes nothing; an
appointment cancelled after its invoice was synced, or invoiced in Cliniko a day later, has that invoice voided (never
both an appointment invoice and a Cliniko invoice)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import dagster as dg

from clinic_etl.deployment import resources
from clinic_etl.sandbox.cliniko.wire import parse_utc, utc
from clinic_etl.sandbox.resources import SandboxClinikoResource
from clinic_etl.settings import Settings
from clinic_etl_tests.pipeline.conftest import SYNC_ASSETS, Sandbox, checks, metadata, money

from .billing import DAY, PracticeCliniko, fresh_practice, local_day, through_resource, unbilled_on, window

MAPPING = "invoice_from: appointments\n"
NEXT = "2026-10-15"


def by_number(client, numbers: list[str]) -> dict[str, dict]:
    return {i["InvoiceNumber"]: i for i in client.invoices_by_number(numbers)}


def test_a_sandbox_day_in_appointments_mode_reconciles_and_a_rerun_writes_nothing(tmp_path, monkeypatch, practice):
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("CLINIC_ETL_CONFIG", str(tmp_path / "mapping.yaml"))
    chosen = resources(Settings.from_env())
    source = chosen["source"]
    assert isinstance(source, SandboxClinikoResource) and source.invoice_from == "appointments"
    assert source.require_arrival is False
    instance = dg.DagsterInstance.ephemeral()

    first = dg.materialize(SYNC_ASSETS, partition_key=DAY, resources=chosen, instance=instance)
    assert first.success and checks(first) == {
        "lines_add_up_to_source_totals": True,
        "xero_matches_source": True,
        "nothing_quarantined": True,
    }
    figures = metadata(first, "practice_ledger", DAY)
    live = {i["appointment_id"] for i in practice.invoices if not i["deleted_at"] and not i["archived_at"]}
    billed = [
        a
        for a in practice.individual_appointments
        if local_day(a["ends_at"]) == DAY
        and not (a["cancelled_at"] or a["did_not_arrive"] or a["archived_at"] or a["deleted_at"])
        and a["id"] not in live
    ]
    invoice_mode, _, _ = through_resource(fresh_practice(), window(DAY))  # the day's Cliniko invoices, as ever
    assert billed and figures["invoices"] == len(invoice_mode["invoices"]) + len(billed)
    client = Sandbox(Settings.from_env().state_dir / "sandbox").xero()  # the deployment's simulated Xero
    found = by_number(client, [f"CLK-APT-{a['id']}" for a in billed])
    assert len(found) == len(billed) and {i["Status"] for i in found.values()} == {"AUTHORISED"}
    assert all(money(i["Total"]) > 0 for i in found.values())
    rec = metadata(first, "xero_reconciliation")
    assert rec["mismatches"] == 0 and money(rec["difference"]) == 0

    second = dg.materialize(SYNC_ASSETS, partition_key=DAY, resources=resources(Settings.from_env()), instance=instance)
    assert second.success and checks(second)["xero_matches_source"]
    assert metadata(second, "xero_sync")["writes"] == 0


def test_cancelled_after_sync_or_invoiced_in_cliniko_later_voids_the_appointment_invoice(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    sandbox = Sandbox(tmp_path)
    practice = fresh_practice()
    slot = id(practice)
    PracticeCliniko.practices[slot] = practice
    try:
        cliniko = PracticeCliniko(slot=slot, invoice_from="appointments")
        first = sandbox.sync(DAY, mapping=str(tmp_path / "mapping.yaml"), cliniko=cliniko)
        assert first.success and checks(first)["xero_matches_source"]
        cancelled, invoiced = unbilled_on(practice, DAY)[:2]
        numbers = [f"CLK-APT-{cancelled['id']}", f"CLK-APT-{invoiced['id']}"]
        assert {i["Status"] for i in by_number(sandbox.xero(), numbers).values()} == {"AUTHORISED"}

        # the next day: one appointment is cancelled after the fact, the other invoiced in Cliniko
        moment = parse_utc(cancelled["ends_at"]) + timedelta(days=1)
        cancelled.update(cancelled_at=utc(moment), cancellation_reason=50, updated_at=utc(moment))
        template = next(i for i in practice.invoices if i["issue_date"] == NEXT and i["status"] == 10)
        raised = parse_utc(template["created_at"])
        practice.invoices.append(
            {
                **template,
                "id": "99001",
                "number": 99001,
                "appointment_id": invoiced["id"],
                "patient_id": invoiced["patient_id"],
                "created_at": utc(raised),
                "updated_at": utc(raised),
            }
        )
        for n, item in enumerate(practice.items_of(template["id"]), start=1):
            practice.invoice_items.append({**item, "id": str(99100 + n), "invoice_id": "99001"})

        second = sandbox.sync(NEXT, mapping=str(tmp_path / "mapping.yaml"), cliniko=cliniko)
        assert second.success and checks(second)["xero_matches_source"], metadata(second, "xero_reconciliation")
        after = by_number(sandbox.xero(), [*numbers, "CLK-99001"])
        assert after[numbers[0]]["Status"] == "VOIDED" and after[numbers[1]]["Status"] == "VOIDED"
        assert after["CLK-99001"]["Status"] == "AUTHORISED"
        assert money(after["CLK-99001"]["Total"]) == Decimal(template["total_amount"])
        again = sandbox.sync(NEXT, mapping=str(tmp_path / "mapping.yaml"), cliniko=cliniko)
        assert again.success and metadata(again, "xero_sync")["writes"] == 0
    finally:
        PracticeCliniko.practices.pop(slot, None)
