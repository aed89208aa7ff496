"""Unit tests of the simulator's building blocks: filter parsing/matching, wire formats, arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic_etl.sandbox.cliniko.fields import FILTERABLE
from clinic_etl.sandbox.cliniko.filters import NOT_SEARCHABLE, FilterError, parse_filter
from clinic_etl.sandbox.cliniko.money import invoice_amounts, item_amounts
from clinic_etl.sandbox.cliniko.wire import money, render

INVOICES = FILTERABLE["/invoices"]
PATIENTS = FILTERABLE["/patients"]


def test_filterable_table_matches_the_spec_for_invoices_and_items() -> None:
    assert set(INVOICES) == {
        "id", "archived_at", "created_at", "deleted_at", "updated_at", "appointment_id", "business_id",
        "issue_date", "number", "patient_id", "practitioner_id", "status",
    }  # fmt: skip
    assert INVOICES["issue_date"] == "date" and INVOICES["updated_at"] == "datetime"
    assert FILTERABLE["/invoice_items"]["invoice_id"] == "numeric"
    assert FILTERABLE["/invoices/{id}"] == {"archived_at": "datetime", "deleted_at": "datetime"}
    assert FILTERABLE["/taxes/{id}"] == {}


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("id:=1,2,3", {"id": "2"}, True),
        ("id:=1,2,3", {"id": "4"}, False),
        ("id:!=2", {"id": "2"}, False),
        ("number:>=10", {"number": 10}, True),
        ("practitioner_id:?", {"practitioner_id": None}, False),
        ("practitioner_id:!?", {"practitioner_id": None}, True),
        ("practitioner_id:!=5", {"practitioner_id": None}, False),  # SQL: null compares false
        ("issue_date:=2026-10-01", {"issue_date": "2026-10-01"}, True),
        ("issue_date:<2026-10-01", {"issue_date": "2026-09-30"}, True),
        ("issue_date:=****-10-**", {"issue_date": "2026-10-31"}, True),
        ("issue_date:=****-10-**", {"issue_date": "2026-11-01"}, False),
        ("updated_at:>2026-10-01T00:00:00Z", {"updated_at": "2026-10-01T00:00:01Z"}, True),
        ("updated_at:<=2026-10-01T00:00:00Z", {"updated_at": "2026-10-01T00:00:01Z"}, False),
        ("deleted_at:*", {"deleted_at": None}, True),
        ("deleted_at:?", {"deleted_at": "2026-10-01T00:00:01Z"}, True),
    ],
)
def test_invoice_filters_match(text: str, row: dict, expected: bool) -> None:
    assert parse_filter(text, INVOICES).matches(row) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("last_name:=Chen", "Chen", True),
        ("last_name:=chen", "Chen", False),
        ("last_name:!=Chen", "Chen", False),
        ("last_name:~HEN", "Chen", True),
        ("last_name:~~c%n", "Chen", True),
        ("last_name:~~c%x", "Chen", False),
        ("last_name:~~%ström", "Ångström", True),
        ("email:!?", None, True),
        ("email:?", "", True),
    ],
)
def test_string_filters_match(text: str, value: str | None, expected: bool) -> None:
    field = text.split(":")[0]
    assert parse_filter(text, PATIENTS).matches({field: value}) is expected


def test_boolean_and_array_filters() -> None:
    businesses = FILTERABLE["/businesses"]
    assert parse_filter("show_in_online_bookings:=true", businesses).matches({"show_in_online_bookings": True})
    assert not parse_filter("show_in_online_bookings:!=true", businesses).matches({"show_in_online_bookings": True})
    assert parse_filter("appointment_type_ids:~7", businesses).matches({"appointment_type_ids": ["3", "7"]})
    with pytest.raises(FilterError):
        parse_filter("show_in_online_bookings:=yes", businesses)


def test_unknown_field_message_is_the_real_one() -> None:
    with pytest.raises(FilterError) as error:
        parse_filter("total_amount:=1", INVOICES)
    assert str(error.value) == NOT_SEARCHABLE == "This column is not searchable."


@pytest.mark.parametrize(
    "text", ["updated_at:=2026-10-01T00:00:00Z", "updated_at:>2026-10-01 00:00:00", "issue_date:>****-10-**",
             "issue_date:=2026-W40-1", "id:~1", "id:=", "number:=1.5", "deleted_at:?x", "nocolon"],
)  # fmt: skip
def test_malformed_filters_raise(text: str) -> None:
    with pytest.raises(FilterError) as error:
        parse_filter(text, INVOICES)
    assert str(error.value) != NOT_SEARCHABLE


def test_money_is_rails_bigdecimal_style() -> None:
    cases = {
        "50": "50.0",
        "2367.18": "2367.18",
        "81.8180": "81.818",
        "0.00": "0.0",
        "-5.50": "-5.5",
        "1E+2": "100.0",
    }
    assert {raw: money(Decimal(raw)) for raw in cases} == cases


def test_item_arithmetic_reproduces_the_documented_example() -> None:
    line = item_amounts(Decimal("100.0"), 1, Decimal("10.0"), discount_money=Decimal("20.0")).wire()
    assert line["discount_percentage"] == "18.1818" and line["total_including_tax"] == "90.0"
    assert line["net_price"] == "81.818" and line["tax_amount"] == "10.0" and line["is_monetary_discount"] is True
    pct = item_amounts(Decimal("36.364"), 5, Decimal("10.0"), discount_percent=Decimal("12.5"))
    assert (pct.discounted_amount, pct.total_including_tax, pct.net_price) == (
        Decimal("25.00"), Decimal("175.00"), Decimal("159.091"),
    )  # fmt: skip
    free = item_amounts(Decimal("95.0"), 1, None)
    totals = invoice_amounts([item_amounts(Decimal("100.0"), 1, Decimal("10.0"), discount_money=Decimal("20")), free])
    assert totals == {
        "total_amount": "185.0",
        "net_amount": "176.82",
        "tax_amount": "8.18",
        "discounted_amount": "20.0",
    }
    with pytest.raises(ValueError):
        item_amounts(Decimal(1), 1, None, discount_money=Decimal(1), discount_percent=Decimal(1))


def test_render_turns_ids_into_links_and_omits_missing_relations() -> None:
    row = {"id": "7", "patient_id": "12", "appointment_id": None, "total_amount": "1.0"}
    out = render(row, "http://h/v1", "invoices", ("invoice_items",))
    assert out == {
        "total_amount": "1.0",
        "id": "7",
        "patient": {"links": {"self": "http://h/v1/patients/12"}},
        "invoice_items": {"links": {"self": "http://h/v1/invoices/7/invoice_items"}},
        "links": {"self": "http://h/v1/invoices/7"},
    }
