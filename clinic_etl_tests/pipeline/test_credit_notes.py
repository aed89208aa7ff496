"""Credit notes on a hand-made ledger (any source): a credit note applied to an invoice (Xero credit note plus
allocation), a refund of its unapplied rest (a payment out of the credit note), an allocation edited and one
removed at the source, the credit note voided; each re-run writes nothing; the reconciliation of credit notes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clinic_etl.mapping import Accounts, Mapping, Rules
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.reconcile import reconcile, reconcile_credit_notes
from clinic_etl_tests.pipeline.handmade import DAY, D, ledger, loader, org_of

CREDIT = [("7", "1", "80.00", "open")]


@pytest.fixture
def load(handmade):
    return handmade


def note_in_xero(client, number: str = "CLK-CM-7") -> dict:
    (found,) = client.credit_notes_by_number([number])
    return found


def invoice_in_xero(client, number: str = "CLK-B-1") -> dict:
    (found,) = client.invoices_by_number([number])
    return found


def test_a_credit_note_applied_refunded_edited_and_voided_is_mirrored(load):
    run, client, store = load
    first = ledger(
        [], credit_notes=CREDIT, allocations=[("1", "7", "1", DAY, "50.00")], refunds=[("9", "7", DAY, "30.00")]
    )
    done = run(first)
    assert done["created"] == sorted(
        [
            "test:client:1",
            "test:client:2",
            "test:bill:1",
            "test:bill:2",
            "test:credit_memo:7",
            "test:allocation:1",
            "test:refund:9",
        ]
    )
    note, invoice = note_in_xero(client), invoice_in_xero(client)
    assert (note["Status"], D(str(note["Total"])), D(str(note["RemainingCredit"]))) == ("PAID", D("80.00"), D("0.00"))
    assert (D(str(invoice["AmountCredited"])), D(str(invoice["AmountDue"]))) == (D("50.00"), D("60.00"))
    assert set(run(first)) == {"unchanged"}

    # the allocation is cut to 40.00 at the source, a second one (10.00) applies the rest, the refund stays
    second = ledger(
        [],
        credit_notes=CREDIT,
        allocations=[("1", "7", "1", DAY, "40.00"), ("2", "7", "1", DAY, "10.00")],
        refunds=[("9", "7", DAY, "30.00")],
    )
    done = run(second)
    assert done["deleted"] == ["test:allocation:1"] and done["created"] == ["test:allocation:1", "test:allocation:2"], (
        done
    )
    assert D(str(invoice_in_xero(client)["AmountCredited"])) == D("50.00")
    assert set(run(second)) == {"unchanged"}

    # the credit note is voided at the source: its refund and allocations come off, then it is voided
    third = ledger([], credit_notes=[("7", "1", "80.00", "deleted")])
    done = run(third)
    assert done["deleted"] == ["test:allocation:1", "test:allocation:2"]
    assert done["reversed"] == ["test:refund:9"] and done["voided"] == ["test:credit_memo:7"]
    assert note_in_xero(client)["Status"] == "VOIDED"
    assert D(str(invoice_in_xero(client)["AmountDue"])) == D("110.00")


def test_credit_notes_are_reconciled_to_the_cent(load, sandbox):
    run, client, store = load
    frames = ledger([("3", "2", DAY, "110.00")], credit_notes=CREDIT, allocations=[("1", "7", "1", DAY, "50.00")])
    run(frames)
    documents, _ = to_xero(frames, Mapping(), org_of(client))
    invoices = reconcile(documents, client.invoices_by_number(documents["invoices"]["InvoiceNumber"]))
    notes = reconcile_credit_notes(
        documents, client.credit_notes_by_number(documents["credit_notes"]["CreditNoteNumber"])
    )
    assert invoices["ok"].all() and notes["ok"].all(), (invoices.to_dict("records"), notes.to_dict("records"))
    row = notes.iloc[0]
    assert (row["expected_total"], row["xero_total"], row["xero_paid"], row["xero_status"]) == (
        D("-80.00"),
        D("-80.00"),
        D("-50.00"),
        "AUTHORISED",
    )
    paid = invoices.set_index("invoice_key")
    assert paid.loc["test:bill:1", "xero_credited"] == D("50.00") and paid.loc["test:bill:2", "xero_status"] == "PAID"

    # a difference is seen: the allocation deleted in Xero behind the sync's back
    allocation = note_in_xero(client)["Allocations"][0]["AllocationID"]
    client.delete(f"CreditNotes/{note_in_xero(client)['CreditNoteID']}/Allocations/{allocation}")
    notes = reconcile_credit_notes(documents, client.credit_notes_by_number(["CLK-CM-7"]))
    assert not notes["ok"].all() and "paid" in notes.iloc[0]["problem"]


def test_a_closed_invoice_is_paid_by_default_or_written_off_by_rule(sandbox):

    closed = ledger([("1", "1", DAY, "110.00")], statuses={"1": "closed"})
    paid_run, client, store = loader(sandbox)
    try:
        assert "test:allocation:1" in paid_run(closed)["created"]  # the default: paid in full
        assert invoice_in_xero(client)["Status"] == "PAID" and invoice_in_xero(client)["AmountPaid"] == 110
    finally:
        client.close()
        store.dispose()


def test_written_off_closed_invoices_get_a_credit_note_to_the_bad_debt_account(sandbox):
    mapping = Mapping(accounts=Accounts(bad_debts="260"), rules=Rules(closed_invoices="written_off"))
    closed = ledger([("1", "1", DAY, "110.00")], statuses={"1": "closed"})
    run, client, store = loader(sandbox, mapping)
    try:
        done = run(closed)
        assert "test:write_off:1" in done["created"] and "test:write_off_allocation:1" in done["created"]
        assert "test:allocation:1" not in done.get("created", [])
        invoice, note = invoice_in_xero(client), note_in_xero(client, "CLK-WO-B-1")
        assert (invoice["Status"], D(str(invoice["AmountCredited"])), D(str(invoice["AmountPaid"]))) == (
            "PAID",
            D("110.00"),
            D("0.00"),
        )
        assert note["LineItems"][0]["AccountCode"] == "260" and D(str(note["TotalTax"])) == D("10.00")
        documents, _ = to_xero(closed, mapping, org_of(client))
        notes = reconcile_credit_notes(documents, client.credit_notes_by_number(["CLK-WO-B-1"]))
        assert notes["ok"].all()
        assert set(run(closed)) == {"unchanged"}
    finally:
        client.close()
        store.dispose()


def test_a_write_off_rule_without_a_bad_debt_account_is_refused_at_load():
    with pytest.raises(ValidationError, match="accounts.bad_debts"):
        Mapping(rules=Rules(closed_invoices="written_off"))
