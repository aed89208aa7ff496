"""The per-record loader: one request per contact, invoice and payment, counted; it stops at Xero's daily quota."""

from decimal import Decimal

import httpx
import pandas as pd
import pytest

from clinic_etl.bench.per_record import PerRecordLoader
from clinic_etl.http.errors import RateLimitError


class Writer:
    """Answers like Xero: each element back with an id, or a validation error for the numbers in `refuse`."""

    def __init__(self, refuse: frozenset[str] = frozenset(), quota: int | None = None) -> None:
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.refuse, self.quota = refuse, quota

    def write(self, method: str, resource: str, payload: dict, **params) -> dict:
        if self.quota is not None and len(self.requests) >= self.quota:
            response = httpx.Response(429, request=httpx.Request(method, f"http://xero/{resource}"))
            raise RateLimitError("Xero", response, "day limit", retry_after=40_000.0)
        self.requests.append((method, resource, payload, params))
        (element,) = payload[resource]
        n = len(self.requests)
        if element.get("InvoiceNumber") in self.refuse:
            return {resource: [{**element, "HasErrors": True, "ValidationErrors": [{"Message": "no"}]}]}
        ids = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID"}
        return {resource: [{**element, ids[resource]: f"id-{n}"}]}


def documents() -> dict[str, pd.DataFrame]:
    contacts = pd.DataFrame(
        {
            "contact_key": ["cliniko:patient:1", "cliniko:patient:2"],
            "Name": ["A B", "C D"],
            "FirstName": ["A", "C"],
            "LastName": ["B", "D"],
            "EmailAddress": ["a@example.com", None],
            "content_hash": ["h1", "h2"],
            "day": ["2026-10-01", "2026-10-01"],
        }
    )
    line = {"Description": "x", "Quantity": Decimal(1), "UnitAmount": Decimal("10.00"), "LineAmount": Decimal("10.00")}
    invoices = pd.DataFrame(
        {
            "invoice_key": [f"cliniko:invoice:{n}" for n in (1, 2, 3)],
            "day": ["2026-10-01"] * 3,
            "InvoiceNumber": ["CLK-1", "CLK-2", "CLK-3"],
            "contact_key": ["cliniko:patient:1", "cliniko:patient:2", "cliniko:patient:2"],
            "Date": ["2026-10-01"] * 3,
            "DueDate": ["2026-10-01"] * 3,
            "Reference": ["r"] * 3,
            "Status": ["AUTHORISED"] * 3,
            "source_status": ["paid", "open", "deleted"],
            "total": [Decimal("10.00")] * 3,
            "tax_total": [Decimal("0.00")] * 3,
            "LineItems": [[line], [line], []],
            "content_hash": ["i1", "i2", "i3"],
        }
    )
    payments = pd.DataFrame(
        {
            "payment_key": ["cliniko:payment:1"],
            "invoice_key": ["cliniko:invoice:1"],
            "day": ["2026-10-01"],
            "InvoiceNumber": ["CLK-1"],
            "Date": ["2026-10-01"],
            "Amount": [Decimal("10.00")],
            "AccountCode": ["090"],
            "Reference": ["Cliniko payment 1"],
        }
    )
    return {"contacts": contacts, "invoices": invoices, "payments": payments}


def test_one_request_per_record_in_order_contacts_invoices_payments():
    writer = Writer()
    result = PerRecordLoader(writer).load(documents())
    assert [(m, r) for m, r, _, _ in writer.requests] == [("PUT", "Contacts")] * 2 + [("PUT", "Invoices")] * 2 + [
        ("PUT", "Payments")
    ]
    assert result.calls == result.needed == {"contact": 2, "invoice": 2, "payment": 1}  # the deleted one not sent
    assert result.total == result.total_needed == 5 and result.failed == 0 and result.stopped is None
    invoice = writer.requests[2][2]["Invoices"][0]
    assert invoice["Contact"] == {"ContactID": "id-1"} and invoice["Type"] == "ACCREC"
    assert invoice["LineAmountTypes"] == "Inclusive" and writer.requests[2][3] == {"unitdp": 4}
    payment = writer.requests[4][2]["Payments"][0]
    assert payment["Invoice"] == {"InvoiceID": "id-3"} and payment["Amount"] == Decimal("10.00")
    assert "EmailAddress" not in writer.requests[1][2]["Contacts"][0]  # a missing e-mail is left out


def test_a_refused_invoice_is_counted_and_its_payment_not_sent():
    writer = Writer(refuse=frozenset({"CLK-1"}))
    result = PerRecordLoader(writer).load(documents())
    assert result.failed == 1
    assert result.calls == {"contact": 2, "invoice": 2, "payment": 0}
    assert result.needed["payment"] == 1


@pytest.mark.parametrize("quota", [0, 3])
def test_it_stops_where_the_daily_quota_refuses_it(quota):
    result = PerRecordLoader(Writer(quota=quota)).load(documents())
    assert result.stopped is not None and "40000 s" in result.stopped
    assert result.total == quota + 1  # the refused request is counted too
    assert result.total_needed == 5
