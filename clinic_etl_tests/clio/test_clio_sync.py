"""CLINIC_ETL_SOURCE=clio-sandbox end to end: the whole sandbox window as one backfill run and as days, into the law
firm's own (US, USD) simulated Xero; every day reconciled per invoice and per credit note, to the cent; a re-run
writes nothing; trust money never reaches Xero; a payment edited and another voided at the source between runs are
mirrored (reversed, remade) and the day still reconciles."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import ClassVar

import dagster as dg
import pytest

from clinic_etl.definitions import build_definitions
from clinic_etl.sandbox.clio import build_firm
from clinic_etl.sandbox.clio import create_app as clio_app
from clinic_etl.sandbox.resources import SandboxClioResource
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.settings import Settings
from clinic_etl.store import StateStore

WINDOW = ("2026-09-28", "2026-11-06")
EDITED_BILL, EDITED, VOIDED = 1870245060, 2150330048, 2150330016  # issued 10-06, paid by two payments (10-07, 10-14)


class EditableClio(SandboxClioResource):
    """The Clio simulator serving a firm the test edits between runs (swapped by class, not mocked)."""

    firms: ClassVar[dict[int, object]] = {}
    slot: int = 0

    def _transport(self):
        return InProcessTransport(clio_app(self.firms[self.slot]))


class Firm:
    def __init__(self, tmp_path, slot: int) -> None:
        self.settings = Settings.from_env({"CLINIC_ETL_SOURCE": "clio-sandbox", "DAGSTER_HOME": str(tmp_path)})
        self.defs = build_definitions(self.settings)
        self.assets = [a for a in self.defs.assets if isinstance(a, dg.AssetsDefinition)]
        self.instance = dg.DagsterInstance.ephemeral()
        self.slot = slot
        self.firm = EditableClio.firms[slot]

    def sync(self, first: str, last: str) -> dg.ExecuteInProcessResult:
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        resources = {**self.defs.resources, "source": EditableClio(slot=self.slot)}
        return dg.materialize(self.assets, resources=resources, instance=self.instance, tags=tags, raise_on_error=False)

    def store(self) -> StateStore:
        return StateStore.open(self.settings.store_url, key_file=self.settings.state_dir / "secret.key")

    def xero(self):
        return self.defs.resources["xero"]


@pytest.fixture
def firm(tmp_path, monkeypatch, request):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    slot = id(request)
    EditableClio.firms[slot] = copy.deepcopy(build_firm())
    yield Firm(tmp_path, slot)
    EditableClio.firms.pop(slot, None)


def reconciled(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Per day of the run: did the blocking reconciliation check pass?"""
    return {
        e.partition: e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == "xero_matches_source" and e.partition
    }


def writes(store: StateStore, result: dg.ExecuteInProcessResult) -> list[tuple[str, str, str]]:
    return sorted((w["entity"], w["source_key"], w["action"]) for w in store.writes(run_id=result.run_id))


def xero_state(firm: Firm) -> dict:
    resource = firm.xero()
    resource.setup_for_execution(dg.build_init_resource_context())
    with firm.store() as store:
        client = resource.client(store)
        try:
            invoices = client.get_all("Invoices", "Invoices")
            notes = client.get_all("CreditNotes", "CreditNotes")
            payments = client.get_all("Payments", "Payments")
        finally:
            resource.teardown_after_execution(dg.build_init_resource_context())
    return {"invoices": invoices, "credit_notes": notes, "payments": payments}


def test_the_sandbox_window_as_one_backfill_reconciles_every_day_and_a_rerun_writes_nothing(firm):
    result = firm.sync(*WINDOW)
    assert result.success
    days = reconciled(result)
    assert len(days) == 40 and all(days.values()), [d for d, ok in days.items() if not ok]

    xero = xero_state(firm)
    status = {i["InvoiceNumber"]: i["Status"] for i in xero["invoices"]}
    drafts = [f"CLIO-{b['number']}" for b in firm.firm.bills if b["state"] in ("draft", "awaiting_approval")]
    assert drafts and all(status[n] == "DRAFT" for n in drafts if n in status)  # never approved before Clio does
    assert sum(n in status for n in drafts) >= len(drafts) // 2
    live_notes = [n for n in xero["credit_notes"] if n["Status"] not in ("VOIDED", "DELETED")]
    assert live_notes and all(n["CurrencyCode"] == "USD" for n in live_notes)
    assert any(n.get("Allocations") for n in live_notes)  # credit applied to bills
    refunds = [p for p in xero["payments"] if p.get("CreditNote") and p["Status"] != "DELETED"]
    assert [Decimal(str(p["Amount"])) for p in refunds] == [Decimal("350.00")]  # the unapplied memo refunded
    trust_allocations = {
        str(a["id"]) for a in firm.firm.allocations if a.get("source_bank_account_id") == 18400102
    }  # paid from the trust account
    references = {p.get("Reference", "") for p in xero["payments"]}
    assert trust_allocations and not any(r.endswith(f" {i}") for r in references for i in trust_allocations)

    with firm.store() as store:
        rerun = firm.sync(*WINDOW)
        assert rerun.success and all(reconciled(rerun).values())
        assert writes(store, rerun) == []


def test_a_payment_edited_and_another_voided_at_the_source_are_mirrored_on_the_rerun(firm):
    first = firm.sync("2026-10-05", "2026-10-16")
    assert first.success and all(reconciled(first).values())

    allocations = {a["id"]: a for a in firm.firm.allocations}
    allocations[EDITED].update(amount=Decimal("1000.00"), updated_at="2026-10-15T10:00:00-04:00")
    allocations[VOIDED].update(voided_at="2026-10-15T10:05:00-04:00", updated_at="2026-10-15T10:05:00-04:00")
    firm.firm.recompute()

    second = firm.sync("2026-10-05", "2026-10-16")
    assert second.success and all(reconciled(second).values())
    with firm.store() as store:
        done = writes(store, second)
    assert done == sorted(
        [
            ("payment", f"clio:allocation:{EDITED}", "created"),
            ("payment", f"clio:allocation:{EDITED}", "reversed"),
            ("payment", f"clio:allocation:{VOIDED}", "reversed"),
        ]
    )
    bill = next(b for b in firm.firm.bills if b["id"] == EDITED_BILL)
    invoice = next(i for i in xero_state(firm)["invoices"] if i["InvoiceNumber"] == f"CLIO-{bill['number']}")
    assert (invoice["Status"], Decimal(str(invoice["AmountPaid"]))) == ("AUTHORISED", Decimal("1000.00"))


def test_day_by_day_then_the_same_days_as_one_backfill_writes_nothing(firm):
    days = [f"2026-10-{d:02d}" for d in range(12, 17)]  # a working week
    for day in days:
        result = firm.sync(day, day)
        assert result.success and reconciled(result) == {day: True}
    with firm.store() as store:
        backfill = firm.sync(days[0], days[-1])
        assert backfill.success and all(reconciled(backfill).values()) and len(reconciled(backfill)) == len(days)
        assert writes(store, backfill) == []
