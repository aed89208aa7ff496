"""Xero sandbox: invoice and contact validation, summarizeErrors, Xero's arithmetic, statuses, updates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic_etl.sandbox.xero import add_tracking_category, create_app

from .xero_client import FakeClock, SandboxClient, accrec


@pytest.fixture
def client(tmp_path) -> SandboxClient:
    return SandboxClient(create_app(tmp_path / "xero.db", clock=FakeClock(), calls_per_minute=10_000))


@pytest.fixture
def contact_id(client) -> str:
    resp = client.put("Contacts", json={"Contacts": [{"Name": "Jane Citizen", "ContactNumber": "PT-1"}]})
    assert resp.status_code == 200
    return resp.json()["Contacts"][0]["ContactID"]


def line(desc: str = "Consultation", qty: object = 1, unit: object = 100, **extra: object) -> dict:
    return {
        "Description": desc,
        "Quantity": qty,
        "UnitAmount": unit,
        "AccountCode": "200",
        "TaxType": "OUTPUT",
        **extra,
    }


def create(client: SandboxClient, *invoices: dict, query: str = "?summarizeErrors=false"):
    return client.put("Invoices" + query, json={"Invoices": list(invoices)})


def messages(element: dict) -> list[str]:
    return [e["Message"] for e in element.get("ValidationErrors", [])]


def test_schema_violation_is_refused_naming_the_field(client, contact_id):
    resp = create(client, accrec(contact_id, line(qty="one")))
    assert resp.status_code == 400
    body = resp.json()
    assert body["Type"] == "PostDataInvalidException" and body["ErrorNumber"] == 14
    assert "Invoices[0].LineItems[0].Quantity" in body["Message"]
    resp = create(client, accrec(contact_id, LineAmountTypes="EXCLUSIVE"))
    assert resp.status_code == 400 and "LineAmountTypes" in resp.json()["Message"]
    resp = client.put("Contacts", json={"Contacts": [{"Name": "Too Long", "ContactNumber": "x" * 51}]})
    assert resp.status_code == 400 and resp.json()["Type"] == "ValidationException"
    assert "ContactNumber" in messages(resp.json()["Elements"][0])[0]
    assert client.get("Invoices").json()["Invoices"] == []


def test_summarize_errors_false_gives_partial_success(client, contact_id):
    assert create(client, accrec(contact_id, InvoiceNumber="INV-100")).status_code == 200
    resp = create(client, accrec(contact_id, InvoiceNumber="INV-101"), accrec(contact_id, InvoiceNumber="inv-100"))
    assert resp.status_code == 200
    good, bad = resp.json()["Invoices"]
    assert good["StatusAttributeString"] == "OK" and good["HasErrors"] is False and good["InvoiceNumber"] == "INV-101"
    assert bad["StatusAttributeString"] == "ERROR" and bad["HasErrors"] is True
    assert messages(bad) == ["Invoice # must be unique."]
    assert bad["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    numbers = [i["InvoiceNumber"] for i in client.get("Invoices").json()["Invoices"]]
    assert numbers == ["INV-100", "INV-101"]


def test_default_summarizing_400_still_creates_the_valid_element(client, contact_id):
    bad = accrec(contact_id, line(AccountCode="999"), InvoiceNumber="INV-301")
    resp = create(client, accrec(contact_id, InvoiceNumber="INV-300"), bad, query="")
    assert resp.status_code == 400
    body = resp.json()
    assert body["Type"] == "ValidationException" and body["Message"] == "A validation exception occurred"
    assert len(body["Elements"]) == 1
    assert messages(body["Elements"][0]) == ["Account code '999' is not a valid code for this document."]
    listed = client.get("Invoices", params={"InvoiceNumbers": "INV-300,INV-301"}).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in listed] == ["INV-300"]


def test_duplicate_contact_name(client, contact_id):
    resp = client.put("Contacts", json={"Contacts": [{"Name": "  jane CITIZEN "}]})
    assert resp.status_code == 400
    [msg] = messages(resp.json()["Elements"][0])
    assert "is already assigned to another contact" in msg and "must be unique across all active contacts" in msg
    # an archived contact does not block the name
    client.post(f"Contacts/{contact_id}", json={"Contacts": [{"ContactStatus": "ARCHIVED"}]})
    assert client.put("Contacts", json={"Contacts": [{"Name": "Jane Citizen"}]}).status_code == 200
    assert client.put("Contacts", json={"Contacts": [{"Name": ""}]}).status_code == 400


def test_contact_lookup_and_creation_from_invoice(client, contact_id):
    by_number = create(client, accrec(None, Contact={"ContactNumber": "PT-1"})).json()["Invoices"][0]
    assert by_number["Contact"]["ContactID"] == contact_id
    by_name = create(client, accrec(None, Contact={"Name": "Brand New Patient"})).json()["Invoices"][0]
    assert by_name["StatusAttributeString"] == "OK"
    created = client.get("Contacts", params={"where": 'Name=="Brand New Patient"'}).json()["Contacts"]
    assert [c["ContactID"] for c in created] == [by_name["Contact"]["ContactID"]]
    assert client.get("Contacts/PT-1").json()["Contacts"][0]["ContactID"] == contact_id
    missing = create(client, accrec("6d0bc1b8-3a63-4b9e-9c55-1b2c3d4e5f60")).json()["Invoices"][0]
    assert missing["HasErrors"] and "could not be found" in messages(missing)[0]


def test_account_and_tax_type_rules(client, contact_id):
    cases = {
        "999": line(AccountCode="999"),
        "archived": line(AccountCode="299"),
        "bank": line(AccountCode="090"),
        "tax": line(TaxType="NOPE"),
        "input-on-revenue": line(TaxType="INPUT"),
    }
    resp = create(client, *[accrec(contact_id, ln) for ln in cases.values()])
    results = dict(zip(cases, resp.json()["Invoices"], strict=True))
    assert messages(results["999"]) == ["Account code '999' is not a valid code for this document."]
    assert "has been archived" in messages(results["archived"])[0]
    assert "not a valid code" in messages(results["bank"])[0]
    assert messages(results["tax"]) == [
        "The TaxType code NOPE does not exist or cannot be used for this type of transaction."
    ]
    assert "INPUT does not exist or cannot be used" in messages(results["input-on-revenue"])[0]
    # the account's default tax type applies when TaxType is omitted
    ok = create(
        client,
        accrec(contact_id, {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}),
    )
    assert ok.json()["Invoices"][0]["LineItems"][0]["TaxType"] == "OUTPUT"


def test_exclusive_totals_round_tax_per_line_then_sum(client, contact_id):
    lines = [line(unit=Decimal("0.05")) for _ in range(3)] + [
        line("Rate", 2, 100, DiscountRate=12.5),
        line("Amount", 1, 80, DiscountAmount=Decimal("5.555")),
        line("Three dp", 3, Decimal("10.333")),
    ]
    inv = create(client, accrec(contact_id, *lines)).json()["Invoices"][0]
    amounts = [(li["UnitAmount"], li["LineAmount"], li["TaxAmount"]) for li in inv["LineItems"]]
    assert amounts[:3] == [(0.05, 0.05, 0.01)] * 3  # 0.005 each rounds up; 10% of 0.15 would be 0.02
    assert amounts[3] == (100.0, 175.0, 17.5)
    assert amounts[4] == (80.0, 74.44, 7.44)  # DiscountAmount rounded to 5.56
    assert amounts[5] == (10.33, 30.99, 3.1)  # UnitAmount rounded to 2 dp first
    assert (inv["SubTotal"], inv["TotalTax"], inv["Total"]) == (280.58, 28.07, 308.65)
    assert inv["TotalDiscount"] == 30.56 and inv["IsDiscounted"] is True
    assert inv["AmountDue"] == 308.65


def test_inclusive_and_notax_totals(client, contact_id):
    inv = create(
        client, accrec(contact_id, line(unit=110), line(unit=Decimal("99.99")), LineAmountTypes="Inclusive")
    ).json()["Invoices"][0]
    assert [li["TaxAmount"] for li in inv["LineItems"]] == [10.0, 9.09]
    assert (inv["SubTotal"], inv["TotalTax"], inv["Total"]) == (190.9, 19.09, 209.99)
    notax = create(client, accrec(contact_id, line(unit=50), LineAmountTypes="NoTax")).json()["Invoices"][0]
    assert (notax["SubTotal"], notax["TotalTax"], notax["Total"]) == (50.0, 0.0, 50.0)


def test_unitdp_and_line_amount_checks(client, contact_id):
    inv = client.put(
        "Invoices?summarizeErrors=false&unitdp=4",
        json={"Invoices": [accrec(contact_id, line(qty=3, unit=Decimal("10.33333")))]},
    ).json()
    assert inv["Invoices"][0]["LineItems"][0]["UnitAmount"] == 10.3333
    assert inv["Invoices"][0]["LineItems"][0]["LineAmount"] == 31.0
    near = create(client, accrec(contact_id, line(qty=2, unit=10, LineAmount=Decimal("20.01"))))
    assert near.json()["Invoices"][0]["LineItems"][0]["LineAmount"] == 20.01
    far = create(client, accrec(contact_id, line(qty=2, unit=10, LineAmount=25))).json()["Invoices"][0]
    assert messages(far) == ["The line total 25.00 does not match the expected line total 20.00"]
    only_amount = create(client, accrec(contact_id, {"Description": "x", "LineAmount": 45, "AccountCode": "200"}))
    li = only_amount.json()["Invoices"][0]["LineItems"][0]
    assert (li["Quantity"], li["UnitAmount"], li["LineAmount"], li["TaxAmount"]) == (1.0, 45.0, 45.0, 4.5)


def test_tax_amount_override_within_tolerance(client, contact_id):
    inv = create(client, accrec(contact_id, line(unit=100, TaxAmount=Decimal("10.03")))).json()["Invoices"][0]
    assert inv["LineItems"][0]["TaxAmount"] == 10.03 and inv["TotalTax"] == 10.03 and inv["Total"] == 110.03
    bad = create(client, accrec(contact_id, line(unit=100, TaxAmount=11))).json()["Invoices"][0]
    assert bad["HasErrors"] and "differs from the calculated tax 10.00" in messages(bad)[0]


def test_required_fields_and_create_statuses(client, contact_id):
    cases = [
        accrec(contact_id, Type=None),
        accrec(contact_id, Contact=None),
        accrec(contact_id, LineItems=[]),
        accrec(contact_id, line(desc="")),
        accrec(contact_id, DueDate=None),
        accrec(contact_id, Status="PAID"),
    ]
    results = create(client, *cases).json()["Invoices"]
    assert "Type must be specified" in messages(results[0])[0]
    assert messages(results[1]) == ["A Contact must be specified for this type of transaction."]
    assert "at least one line item" in messages(results[2])[0]
    assert messages(results[3]) == ["Description needs to be at least 1 char long."]
    assert messages(results[4]) == ["The document DueDate field must be specified."]
    assert "cannot be created with status PAID" in messages(results[5])[0]
    draft = create(client, accrec(contact_id, DueDate=None, Status="DRAFT")).json()["Invoices"][0]
    assert draft["Status"] == "DRAFT" and draft["InvoiceNumber"] == "INV-0001"


def test_status_transitions(client, contact_id):
    inv = create(client, accrec(contact_id, Status="DRAFT")).json()["Invoices"][0]
    ref = inv["InvoiceID"]

    def move(status: str) -> dict:
        return client.post(
            "Invoices?summarizeErrors=false", json={"Invoices": [{"InvoiceID": ref, "Status": status}]}
        ).json()["Invoices"][0]

    assert move("SUBMITTED")["Status"] == "SUBMITTED"
    assert move("AUTHORISED")["Status"] == "AUTHORISED"
    assert "cannot be changed from AUTHORISED to DRAFT" in messages(move("DRAFT"))[0]
    assert "cannot be changed from AUTHORISED to DELETED" in messages(move("DELETED"))[0]
    assert move("VOIDED")["Status"] == "VOIDED"
    assert move("AUTHORISED")["HasErrors"] is True
    other = create(client, accrec(contact_id, Status="DRAFT")).json()["Invoices"][0]
    deleted = client.post(f"Invoices/{other['InvoiceNumber']}", json={"Status": "DELETED"})
    assert deleted.status_code == 200 and deleted.json()["Invoices"][0]["Status"] == "DELETED"
    # a deleted draft's number can be reused, a voided invoice keeps its number
    assert (
        create(client, accrec(contact_id, InvoiceNumber=other["InvoiceNumber"])).json()["Invoices"][0]["HasErrors"]
        is False
    )
    assert create(client, accrec(contact_id, InvoiceNumber=inv["InvoiceNumber"])).json()["Invoices"][0]["HasErrors"]
    unknown = client.post("Invoices", json={"Invoices": [{"InvoiceID": "6d0bc1b8-3a63-4b9e-9c55-1b2c3d4e5f60"}]})
    assert unknown.status_code == 400 and "could not be found" in messages(unknown.json()["Elements"][0])[0]


def test_update_replaces_lines_and_keeps_omitted_fields(client, contact_id):
    inv = create(
        client, accrec(contact_id, line("A", 1, 100), line("B", 2, 50), Status="DRAFT", Reference="ref-1")
    ).json()["Invoices"][0]
    first = inv["LineItems"][0]
    body = {"InvoiceID": inv["InvoiceID"], "LineItems": [{"LineItemID": first["LineItemID"], "Quantity": 3}]}
    updated = client.post("Invoices", json={"Invoices": [body]})
    assert updated.status_code == 200
    got = client.get(f"Invoices/{inv['InvoiceID']}").json()["Invoices"][0]
    assert [(li["Description"], li["Quantity"], li["LineAmount"]) for li in got["LineItems"]] == [("A", 3.0, 300.0)]
    assert (
        got["Reference"] == "ref-1"
        and got["Total"] == 330.0
        and got["LineItems"][0]["LineItemID"] == first["LineItemID"]
    )


def test_tracking_categories(client, contact_id, tmp_path):
    add_tracking_category(tmp_path / "xero.db", "Location", ["Fitzroy", "Carlton"])
    cats = client.get("TrackingCategories").json()["TrackingCategories"]
    assert [c["Name"] for c in cats] == ["Location"] and len(cats[0]["Options"]) == 2
    ok = create(client, accrec(contact_id, line(Tracking=[{"Name": "Location", "Option": "Carlton"}])))
    assert ok.json()["Invoices"][0]["LineItems"][0]["Tracking"][0]["Option"] == "Carlton"
    bad = create(client, accrec(contact_id, line(Tracking=[{"Name": "Location", "Option": "Nowhere"}])))
    assert "Nowhere" in messages(bad.json()["Invoices"][0])[0]
    many = [{"Name": "Location", "Option": "Carlton"}] * 3
    assert "maximum of 2" in messages(create(client, accrec(contact_id, line(Tracking=many))).json()["Invoices"][0])[0]


def test_reference_data(client):
    accounts = {a["Code"]: a for a in client.get("Accounts").json()["Accounts"]}
    assert accounts["090"]["Type"] == "BANK" and accounts["610"]["SystemAccount"] == "DEBTORS"
    assert accounts["860"]["SystemAccount"] == "ROUNDING" and accounts["299"]["Status"] == "ARCHIVED"
    bank = client.get("Accounts", params={"where": 'Status=="ACTIVE" AND Type=="BANK"'}).json()["Accounts"]
    assert [a["Code"] for a in bank] == ["090", "091"]
    rates = {r["TaxType"]: r for r in client.get("TaxRates").json()["TaxRates"]}
    assert rates["OUTPUT"]["Name"] == "GST on Income" and rates["OUTPUT"]["EffectiveRate"] == 10.0
    assert {"EXEMPTOUTPUT", "INPUT", "EXEMPTEXPENSES", "BASEXCLUDED", "GSTONIMPORTS"} <= set(rates)
