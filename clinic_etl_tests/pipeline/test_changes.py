"""Days change what earlier days wrote: a payment on a later day, a deletion after the sync, a lost state store."""

import datetime as dt
import os
import re

import pytest

from .conftest import DAY, EditableCliniko, checks, metadata, money

SYDNEY = dt.timezone(dt.timedelta(hours=11))


def utc(day: str, hour: int) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SYDNEY)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def xero_date(value: str) -> str:
    """Xero's JSON date "/Date(1760572800000+0000)/" -> "2026-10-16"."""
    millis = int(re.match(r"/Date\((-?\d+)", value).group(1))
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC).date().isoformat()


def open_invoices(practice, day):
    return [
        i
        for i in practice.invoices
        if i["issue_date"] == day
        and i["status"] in (10, "10")
        and not i.get("deleted_at")
        and not i.get("archived_at")
        and money(i["total_amount"]) > 0
    ]


def test_paid_on_a_later_day_and_deleted_after_sync(sandbox, editable):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    paid_later, deleted_later = open_invoices(practice, DAY)[:2]
    first = sandbox.sync(DAY, cliniko=cliniko)
    assert checks(first)["xero_matches_source"]

    later = "2026-10-16"
    paid_later.update(status=20, status_description="Paid", closed_at=utc(later, 15), updated_at=utc(later, 15))
    deleted_later.update(deleted_at=utc(later, 16), updated_at=utc(later, 16))
    second = sandbox.sync(later, cliniko=cliniko)
    assert checks(second)["xero_matches_source"], metadata(second, "xero_reconciliation")
    done = metadata(second, "xero_sync")
    assert done["payment_created"] >= 1 and done["invoice_voided"] == 1
    xero = {
        i["InvoiceNumber"]: i
        for i in sandbox.xero().invoices_by_number([f"CLK-{paid_later['number']}", f"CLK-{deleted_later['number']}"])
    }
    paid = xero[f"CLK-{paid_later['number']}"]
    assert paid["Status"] == "PAID" and money(paid["AmountPaid"]) == money(paid_later["total_amount"])
    assert [xero_date(p["Date"]) for p in paid["Payments"]] == [later]  # dated on the local day it was paid
    assert xero[f"CLK-{deleted_later['number']}"]["Status"] == "VOIDED"
    again = sandbox.sync(DAY, cliniko=cliniko)  # the first day, re-run after the changes, converges too
    assert checks(again)["xero_matches_source"] and metadata(again, "xero_sync")["writes"] == 0


def test_a_lost_state_store_adopts_what_xero_has_and_doubles_nothing(sandbox):
    first = sandbox.sync(DAY, idempotency_ttl_s=0)
    assert checks(first)["xero_matches_source"]
    created = metadata(first, "xero_sync")
    os.remove(sandbox.db_url.removeprefix("sqlite:///"))  # the crash lost every mapping, Xero kept the writes
    second = sandbox.sync(DAY, idempotency_ttl_s=0)
    assert checks(second)["xero_matches_source"], metadata(second, "xero_reconciliation")
    done = metadata(second, "xero_sync")
    assert done.get("invoice_adopted") == created["invoice_created"]
    assert done.get("payment_adopted") == created["payment_created"]
    assert done.get("contact_adopted") == created["contact_created"]
    assert done.get("invoice_created", 0) == 0 and done.get("payment_created", 0) == 0
    contacts = sandbox.xero().get("Contacts").get("Contacts", [])
    numbers = [c.get("ContactNumber") for c in contacts if c.get("ContactNumber")]
    assert len(numbers) == len(set(numbers)) == created["contact_created"]


@pytest.mark.parametrize("status", [500, 503])
def test_a_write_that_failed_after_xero_applied_it_is_not_doubled(sandbox, status):
    sandbox.sync("2026-10-13")  # warm up: token, accounts
    fault = {"path_prefix": "/api.xro/2.0/Invoices", "method": "PUT", "status": status, "count": 1, "after_write": True}
    assert sandbox.admin("POST", "/__sandbox__/faults", json=fault).status_code < 300
    result = sandbox.sync(DAY)
    assert checks(result)["xero_matches_source"], metadata(result, "xero_reconciliation")
    numbers = [i["InvoiceNumber"] for i in sandbox.xero().get_all("Invoices", "Invoices")]
    assert len(numbers) == len(set(numbers))


def test_a_changed_patient_updates_the_contact_and_nothing_else(sandbox, editable):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    assert checks(sandbox.sync(DAY, cliniko=cliniko))["xero_matches_source"]
    invoice = open_invoices(practice, DAY)[0]
    patient_id = invoice["patient_id"]
    patient = next(p for p in practice.patients if str(p["id"]) == str(patient_id))
    patient["email"] = "new.address@example.com"
    again = sandbox.sync(DAY, cliniko=cliniko)
    done = metadata(again, "xero_sync")
    assert done.get("contact_updated") == 1 and done["writes"] == 1
    found = sandbox.xero().contact_by_number(f"cliniko:patient:{patient['id']}")
    assert found["EmailAddress"] == "new.address@example.com"


def test_changes_made_in_xero_by_hand_are_overwritten_by_the_next_run(sandbox):
    first = sandbox.sync(DAY)
    assert checks(first)["xero_matches_source"]
    xero = sandbox.xero()
    invoices = xero.get_all("Invoices", "Invoices", where=f"Date==DateTime({DAY.replace('-', ',')})")
    paid = next(i for i in invoices if i["Status"] == "PAID")
    unpaid = next(i for i in invoices if i["Status"] == "AUTHORISED")
    payment_id = xero.get(f"Invoices/{paid['InvoiceID']}")["Invoices"][0]["Payments"][0]["PaymentID"]
    xero.write("POST", f"Payments/{payment_id}", {"Status": "DELETED"})  # a bookkeeper deletes a payment
    lines = xero.get(f"Invoices/{unpaid['InvoiceID']}")["Invoices"][0]["LineItems"]
    edited = [{**lines[0], "LineAmount": money(lines[0]["LineAmount"]) + 5, "UnitAmount": None, "Quantity": None}]
    edited[0] = {k: v for k, v in edited[0].items() if v is not None and k not in ("LineItemID", "TaxAmount")}
    xero.write("POST", f"Invoices/{unpaid['InvoiceID']}", {"InvoiceID": unpaid["InvoiceID"], "LineItems": edited})

    second = sandbox.sync(DAY)  # finds both differences and marks them for the next run
    assert not checks(second)["xero_matches_source"]
    assert metadata(second, "xero_reconciliation")["run_rewritten_next_run"] == 2
    third = sandbox.sync(DAY)  # puts Xero back to what the source says
    assert checks(third)["xero_matches_source"], metadata(third, "xero_reconciliation")
    done = metadata(third, "xero_sync")
    assert done["payment_created"] == 1 and done["invoice_updated"] == 1
    assert metadata(sandbox.sync(DAY), "xero_sync")["writes"] == 0
