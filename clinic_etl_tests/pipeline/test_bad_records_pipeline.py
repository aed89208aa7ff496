"""Bad records through the whole sync (Cliniko simulator -> Dagster -> Xero simulator): the day succeeds, the bad
invoice is in quarantine with a reason naming it, and every other invoice of the day is in Xero and reconciles.

The simulator cannot serve some corruptions itself (it filters on `issue_date`, so 2026-13-45 makes it fail, and
UTF-8 cannot encode a lone surrogate): those are made on the wire, between the simulator and the client, by the
corpus's rewriting transport. An item id past 64 bits is served by the simulator as is.
"""

from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest

from clinic_etl_tests.cliniko.test_bad_records import Rewriting, extract_day

from .conftest import DAY, EditableCliniko, checks, metadata, money


class CorruptedCliniko(EditableCliniko):
    """The editable practice, served through a transport that rewrites records of list responses."""

    rewrites: ClassVar[dict[int, Callable[[str, dict], None]]] = {}

    def _transport(self):
        return Rewriting(super()._transport(), self.rewrites.get(self.slot))


@pytest.fixture
def corrupted(editable) -> Iterator[tuple[int, object]]:
    slot, practice = editable
    yield slot, practice
    CorruptedCliniko.rewrites.pop(slot, None)


def victim(practice) -> dict:
    """A live, paid invoice issued on the day whose patient has no other invoice in the day's extract."""
    raw = extract_day(practice)
    invoices, items = raw["invoices"], raw["invoice_items"]
    for inv in invoices.to_dict("records"):
        if (
            inv["issue_date"] == DAY
            and inv["status"] == "20"
            and not inv["deleted_at"]
            and (invoices["patient_id"] == inv["patient_id"]).sum() == 1
        ):
            return {**inv, "items": list(items.loc[items["invoice_id"] == inv["id"], "id"])}
    raise AssertionError("no invoice fits")


def live_invoices(practice) -> list[dict]:
    return [
        i for i in practice.invoices if i["issue_date"] == DAY and not i.get("deleted_at") and not i.get("archived_at")
    ]


def assert_the_day_went_on(sandbox, result, practice, bad: dict, rejects: set[tuple[str, str]], says: str) -> None:
    assert not result.success  # money held back is never a pass: the day's blocking check fails
    assert metadata(result, "practice_ledger", DAY)["quarantined"] == len(rejects)
    rows = sandbox.store().open_quarantine(DAY)
    assert {(r.entity, r.source_id) for r in rows} == rejects
    assert all(says in r.reason for r in rows), [r.reason for r in rows]
    assert next(r for r in rows if r.entity == "invoice").reason.startswith(f"invoice {bad['id']}: ")
    assert checks(result) == {
        "lines_add_up_to_source_totals": True,
        "xero_matches_source": True,
        "nothing_quarantined": False,  # blocking: the rest of the day is in Xero all the same
    }
    assert metadata(result, "xero_reconciliation")["mismatches"] == 0
    issued = live_invoices(practice)
    numbers = [f"CLK-{i['number']}" for i in issued]
    xero = {i["InvoiceNumber"]: i for i in sandbox.xero().invoices_by_number(numbers)}
    assert set(xero) == set(numbers) - {f"CLK-{bad['number']}"}
    for invoice in issued:
        if invoice["id"] != bad["id"]:
            found = xero[f"CLK-{invoice['number']}"]
            assert money(found["Total"]) == money(invoice["total_amount"]), invoice["id"]
            assert money(found["TotalTax"]) == money(invoice["tax_amount"]), invoice["id"]


def test_an_impossible_issue_date_is_quarantined_and_resolved_once_fixed(sandbox, corrupted) -> None:
    slot, practice = corrupted
    bad = victim(practice)

    def rewrite(name: str, record: dict) -> None:
        if name == "invoices" and str(record["id"]) == bad["id"]:
            record["issue_date"] = "2026-13-45"

    CorruptedCliniko.rewrites[slot] = rewrite
    result = sandbox.sync(DAY, cliniko=CorruptedCliniko(slot=slot))
    assert_the_day_went_on(sandbox, result, practice, bad, {("invoice", bad["id"])}, "issue_date is not a real date")
    assert "'2026-13-45'" in sandbox.store().open_quarantine(DAY)[0].reason

    CorruptedCliniko.rewrites.pop(slot)  # fixed at the source: the next run takes it and resolves the quarantine
    fixed = sandbox.sync(DAY, cliniko=CorruptedCliniko(slot=slot))
    assert fixed.success and checks(fixed)["xero_matches_source"] and checks(fixed)["nothing_quarantined"]
    assert sandbox.store().open_quarantine(DAY) == []
    assert sandbox.xero().invoices_by_number([f"CLK-{bad['number']}"])


def test_a_lone_surrogate_in_a_patients_name_quarantines_the_patient_and_their_invoice(sandbox, corrupted) -> None:
    slot, practice = corrupted
    bad = victim(practice)
    patient = next(p for p in practice.patients if p["id"] == bad["patient_id"])

    def rewrite(name: str, record: dict) -> None:
        if name == "patients" and str(record["id"]) == bad["patient_id"]:
            record["first_name"] += "\ud800"

    CorruptedCliniko.rewrites[slot] = rewrite
    result = sandbox.sync(DAY, cliniko=CorruptedCliniko(slot=slot))
    rejects = {("patient", bad["patient_id"]), ("invoice", bad["id"])}
    assert_the_day_went_on(sandbox, result, practice, bad, rejects, "first_name contains a lone surrogate")
    for row in sandbox.store().open_quarantine(DAY):
        for value in (patient["first_name"], patient["last_name"], patient["email"]):
            assert value not in row.reason


def test_an_item_id_past_64_bits_quarantines_its_invoice(sandbox, corrupted) -> None:
    slot, practice = corrupted
    bad = victim(practice)
    line = next(i for i in practice.invoice_items if i["id"] == bad["items"][0])
    line["id"] = str(2**63)  # 19 digits, yet past Postgres bigint; served by the simulator as is

    result = sandbox.sync(DAY, cliniko=CorruptedCliniko(slot=slot))
    rejects = {("invoice_item", str(2**63)), ("invoice", bad["id"])}
    assert_the_day_went_on(sandbox, result, practice, bad, rejects, "is past 64 bits")
