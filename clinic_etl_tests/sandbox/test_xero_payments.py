"""Xero sandbox: payments, PAID/AUTHORISED balance moves, voiding, edits after payment, credit notes."""

from __future__ import annotations

import pytest

from clinic_etl.sandbox.xero import create_app

from .xero_client import FakeClock, SandboxClient, accrec


@pytest.fixture
def client(tmp_path) -> SandboxClient:
    return SandboxClient(create_app(tmp_path / "xero.db", clock=FakeClock(), calls_per_minute=10_000))


@pytest.fixture
def contact_id(client) -> str:
    return client.put("Contacts", json={"Contacts": [{"Name": "Jane Citizen"}]}).json()["Contacts"][0]["ContactID"]


def invoice(client: SandboxClient, contact_id: str, **fields: object) -> dict:
    resp = client.put("Invoices?summarizeErrors=false", json={"Invoices": [accrec(contact_id, **fields)]})
    inv = resp.json()["Invoices"][0]
    assert inv["StatusAttributeString"] == "OK", inv
    return inv


def pay(client: SandboxClient, invoice_ref: dict, amount: object, code: str = "090", **query: str):
    element = {
        "Invoice": invoice_ref,
        "Account": {"Code": code},
        "Date": "2026-10-05",
        "Amount": amount,
        "Reference": "EFT",
    }
    return client.put("Payments", params=query, json={"Payments": [element]})


def fetch(client: SandboxClient, invoice_id: str) -> dict:
    return client.get(f"Invoices/{invoice_id}").json()["Invoices"][0]


def messages(resp) -> list[str]:
    return [e["Message"] for el in resp.json()["Elements"] for e in el["ValidationErrors"]]


def test_payment_flow_paid_overpayment_and_delete(client, contact_id):
    inv = invoice(client, contact_id)  # 100 + 10 GST
    first = pay(client, {"InvoiceID": inv["InvoiceID"]}, 50)
    assert first.status_code == 200
    payment = first.json()["Payments"][0]
    assert payment["Status"] == "AUTHORISED" and payment["PaymentType"] == "ACCRECPAYMENT"
    assert payment["Invoice"]["AmountDue"] == 60.0 and payment["Account"]["Code"] == "090"
    over = pay(client, {"InvoiceNumber": inv["InvoiceNumber"]}, 60.01)
    assert over.status_code == 400
    assert messages(over) == ["Payment amount exceeds the amount outstanding on this document"]
    assert pay(client, {"InvoiceNumber": inv["InvoiceNumber"]}, 60).status_code == 200
    paid = fetch(client, inv["InvoiceID"])
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0 and paid["AmountPaid"] == 110.0
    assert paid["FullyPaidOnDate"] == "/Date(1791158400000+0000)/" and len(paid["Payments"]) == 2
    # PaymentDelete schema: {"Status": "DELETED"}; the spec's wrapped example is refused
    wrapped = client.post(f"Payments/{payment['PaymentID']}", json={"Payments": [{"Status": "DELETED"}]})
    assert wrapped.status_code == 400 and "Status is required." in str(wrapped.json())
    deleted = client.post(f"Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert deleted.status_code == 200 and deleted.json()["Payments"][0]["Status"] == "DELETED"
    back = fetch(client, inv["InvoiceID"])
    assert back["Status"] == "AUTHORISED" and back["AmountDue"] == 50.0 and "FullyPaidOnDate" not in back
    again = client.post(f"Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert again.status_code == 400
    statuses = sorted(p["Status"] for p in client.get("Payments").json()["Payments"])
    assert statuses == ["AUTHORISED", "DELETED"]


def test_payment_refusals(client, contact_id):
    draft = invoice(client, contact_id, Status="DRAFT")
    resp = pay(client, {"InvoiceID": draft["InvoiceID"]}, 10)
    assert resp.status_code == 400 and messages(resp) == ["Payments can only be made against Authorised documents"]
    inv = invoice(client, contact_id)
    assert "cannot receive payments" in messages(pay(client, {"InvoiceID": inv["InvoiceID"]}, 10, code="200"))[0]
    assert pay(client, {"InvoiceID": inv["InvoiceID"]}, 10, code="881").status_code == 200  # EnablePayments
    zero = pay(client, {"InvoiceID": inv["InvoiceID"]}, 0, summarizeErrors="false").json()["Payments"][0]
    assert zero["HasValidationErrors"] is True and zero["StatusAttributeString"] == "ERROR"
    missing = pay(client, {"InvoiceNumber": "INV-9999"}, 10)
    assert messages(missing) == ["The invoice could not be found."]


def test_zero_total_authorised_invoice_is_paid_at_once(client, contact_id):
    line = {"Description": "No charge", "Quantity": 1, "UnitAmount": 0, "AccountCode": "200"}
    inv = invoice(client, contact_id, LineItems=[line])
    assert inv["Status"] == "PAID" and inv["AmountDue"] == 0


def test_void_rules_and_edits_after_payment(client, contact_id):
    inv = invoice(client, contact_id)
    payment = pay(client, {"InvoiceID": inv["InvoiceID"]}, 10).json()["Payments"][0]

    def post(**fields: object):
        return client.post("Invoices", json={"Invoices": [{"InvoiceID": inv["InvoiceID"], **fields}]})

    refused = post(Status="VOIDED")
    assert refused.status_code == 400 and "VOIDED cannot be applied" in messages(refused)[0]
    edit = post(LineItems=[{"Description": "Changed", "Quantity": 1, "UnitAmount": 90, "AccountCode": "200"}])
    assert messages(edit) == ["This document cannot be edited as it has a payment or credit note allocated to it."]
    assert post(Reference="still editable").status_code == 200
    client.post(f"Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    voided = post(Status="VOIDED")
    assert voided.status_code == 200
    assert voided.json()["Invoices"][0]["Status"] == "VOIDED" and voided.json()["Invoices"][0]["AmountDue"] == 0
    assert "not of valid status" in messages(post(Reference="after void"))[0]
    assert "Authorised documents" in messages(pay(client, {"InvoiceID": inv["InvoiceID"]}, 1))[0]


def test_credit_note_allocation(client, contact_id):
    inv = invoice(client, contact_id)
    note_body = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-10-02",
        "Status": "DRAFT",
        "LineItems": [
            {
                "Description": "Refund",
                "Quantity": 1,
                "UnitAmount": 20,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    }
    note = client.put("CreditNotes", json={"CreditNotes": [note_body]}).json()["CreditNotes"][0]
    assert note["CreditNoteNumber"] == "CN-0001" and note["Total"] == 22.0 and note["RemainingCredit"] == 22.0
    alloc = {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 22, "Date": "2026-10-03"}
    early = client.put(f"CreditNotes/{note['CreditNoteID']}/Allocations", json={"Allocations": [alloc]})
    assert early.status_code == 400 and "AUTHORISED" in messages(early)[0]
    client.post("CreditNotes", json={"CreditNotes": [{"CreditNoteID": note["CreditNoteID"], "Status": "AUTHORISED"}]})
    too_much = client.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations", json={"Allocations": [{**alloc, "Amount": 30}]}
    )
    assert too_much.status_code == 400
    done = client.put(f"CreditNotes/{note['CreditNoteID']}/Allocations", json={"Allocations": [alloc]})
    assert done.status_code == 200 and done.json()["Allocations"][0]["Amount"] == 22.0
    got = fetch(client, inv["InvoiceID"])
    assert got["AmountCredited"] == 22.0 and got["AmountDue"] == 88.0 and got["CreditNotes"][0]["AppliedAmount"] == 22
    credit = client.get(f"CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]
    assert credit["Status"] == "PAID" and credit["RemainingCredit"] == 0
    discount = {**note_body, "LineItems": [{**note_body["LineItems"][0], "DiscountRate": 10}]}
    refused = client.put("CreditNotes?summarizeErrors=false", json={"CreditNotes": [discount]}).json()
    assert refused["CreditNotes"][0]["HasErrors"] is True
