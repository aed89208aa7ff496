"""Xero's field limits and cleaning applied from Xero's schema to every bounded field (issue 6.10)."""

import json
from decimal import Decimal

import pandas as pd

from clinic_etl.mapping import Mapping
from clinic_etl.xero import jsonbody
from clinic_etl.xero.fields import fitted, limits
from clinic_etl.xero.frames import contacts_frame, to_xero
from clinic_etl.xero.org import XeroOrg

ORG = XeroOrg(accounts={"200": {"Type": "REVENUE"}, "090": {"Type": "BANK"}}, tax_rates={"OUTPUT": Decimal(10)})


def contacts(**patient) -> pd.DataFrame:
    row = {"contact_key": "cliniko:patient:7", "source_id": "7", "first_name": "Ann", "last_name": "Lee", "email": None}
    return pd.DataFrame([{**row, **patient}])


def ledger(contact: pd.DataFrame, number: str = "1001") -> dict[str, pd.DataFrame]:
    invoice = {
        "invoice_key": "cliniko:invoice:9",
        "source_id": "9",
        "number": number,
        "issue_date": "2026-10-14",
        "contact_key": contact["contact_key"].iloc[0],
        "business_id": "1",
        "practitioner_id": "1",
        "status": "open",
        "day": "2026-10-14",
        "total": Decimal("110.00"),
        "tax_total": Decimal("10.00"),
        "url": None,
    }
    line = {
        "invoice_key": "cliniko:invoice:9",
        "line_no": 1,
        "source_id": "1",
        "description": "Consult",
        "item_code": None,
        "quantity": Decimal(1),
        "unit_price": Decimal(100),
        "tax_rate": Decimal(10),
        "tax_name": "GST",
        "discount": Decimal(0),
        "total": Decimal("110.00"),
        "tax": Decimal("10.00"),
    }
    empty = pd.DataFrame(columns=["payment_key", "invoice_key", "date", "amount"])
    return {"contacts": contact, "invoices": pd.DataFrame([invoice]), "lines": pd.DataFrame([line]), "payments": empty}


def test_the_limits_come_from_xeros_schema():
    assert limits()["Contact"]["FirstName"] == 255 and limits()["Contact"]["ContactNumber"] == 50
    assert limits()["Invoice"]["InvoiceNumber"] == 255 and limits()["LineItem"]["Tracking"] == "LineItemTracking"


def test_a_first_name_over_255_characters_is_cut_like_the_name():
    frame, problems = contacts_frame(contacts(first_name="A" * 300))
    assert not problems
    assert len(frame["FirstName"].iloc[0]) == 255 and len(frame["Name"].iloc[0]) <= 255


def test_line_breaks_and_control_characters_leave_names_and_emails():
    frame, _ = contacts_frame(contacts(first_name="Ann\r\nMarie", last_name="Lee\t", email=" ann@example.com\n"))
    row = frame.iloc[0]
    assert (row["FirstName"], row["LastName"], row["Name"], row["EmailAddress"]) == (
        "Ann Marie",
        "Lee",
        "Ann Marie Lee",
        "ann@example.com",
    )


def test_a_lone_surrogate_becomes_a_replacement_character_and_the_body_serialises():
    frame, _ = contacts_frame(contacts(first_name="Zo\ud800e"))
    assert frame["FirstName"].iloc[0] == "Zo\ufffde"
    body = jsonbody.dumps({"Contacts": [{"Name": "x\udfffy", "Description": "a\ud800"}]})
    assert json.loads(body)["Contacts"][0]["Name"] == "x\ufffdy"


def test_an_identity_too_long_for_xero_holds_the_invoice_back_instead_of_cutting_it():
    long_key = "cliniko:patient:" + "9" * 40
    documents, rejected = to_xero(ledger(contacts(contact_key=long_key)), Mapping(), ORG)
    assert documents["invoices"].empty and documents["contacts"].empty
    assert list(rejected["source_id"]) == ["9"] and "ContactNumber is 56 characters" in rejected["reason"].iloc[0]
    documents, rejected = to_xero(ledger(contacts(), number="1" * 260), Mapping(), ORG)
    assert documents["invoices"].empty and "InvoiceNumber is 264 characters" in rejected["reason"].iloc[0]


def test_nested_bounded_fields_are_cut_through_the_schema_links():
    element, problems = fitted("Invoice", {"LineItems": [{"Tracking": [{"Name": "L" * 120, "Option": "Sydney"}]}]})
    assert not problems and element["LineItems"][0]["Tracking"][0]["Name"] == "L" * 100
