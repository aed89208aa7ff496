"""Invariants of the synthetic practice: Cliniko's arithmetic, the awkward cases, determinism."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from clinic_etl.sandbox.cliniko import SANDBOX_WINDOW, Practice, build_practice

SYDNEY = ZoneInfo("Australia/Sydney")
MONEY = re.compile(r"^-?\d+\.\d+$")


@pytest.fixture(scope="module")
def practice() -> Practice:
    return build_practice()


def _local_date(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(SYDNEY).date()


def _live(invoice: dict) -> bool:
    return invoice["deleted_at"] is None and invoice["archived_at"] is None


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def test_build_practice_is_deterministic_per_seed(practice: Practice) -> None:
    assert build_practice(7) == practice
    other = build_practice(8)
    assert other != practice
    assert len(other.invoices) > 300


def test_shape_of_the_practice(practice: Practice) -> None:
    assert 2 <= len(practice.businesses) <= 3
    assert 5 <= len(practice.practitioners) <= 8
    assert sum(not p["active"] for p in practice.practitioners) == 1
    assert len(practice.patients) >= 300
    assert {t["id"]: (t["name"], t["rate"]) for t in practice.taxes} == {
        "1": ("GST", "10.0"),
        "2": ("GST Free", "0.0"),
    }
    assert 2 <= len(practice.products) <= 3
    assert all(b["time_zone_identifier"] == "Australia/Sydney" for b in practice.businesses)


def test_invoices_cover_every_working_day_of_the_window(practice: Practice) -> None:
    per_day = Counter(date.fromisoformat(i["issue_date"]) for i in practice.invoices)
    first, last = SANDBOX_WINDOW
    assert min(per_day) == first and max(per_day) == last
    assert len(practice.invoices) >= 300
    weekdays = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    weekdays = {d for d in weekdays if d.weekday() < 5 and d != date(2026, 10, 5)}
    assert set(per_day) == weekdays
    assert all(15 <= count <= 40 for count in per_day.values())


def test_ids_numbers_and_relations(practice: Practice) -> None:
    invoices = practice.invoices
    assert len({i["id"] for i in invoices}) == len(invoices)
    by_created = sorted(invoices, key=lambda i: (i["created_at"], int(i["id"])))
    assert [i["number"] for i in by_created] == list(
        range(by_created[0]["number"], by_created[0]["number"] + len(invoices))
    )
    ids = {name: {row["id"] for row in getattr(practice, name)} for name in ("patients", "businesses", "practitioners")}
    for invoice in invoices:
        assert isinstance(invoice["id"], str) and isinstance(invoice["number"], int)
        assert invoice["patient_id"] in ids["patients"] and invoice["business_id"] in ids["businesses"]
        assert invoice["practitioner_id"] is None or invoice["practitioner_id"] in ids["practitioners"]
        assert "patient" not in invoice and "links" not in invoice  # relations are stored as ids
    assert any(i["practitioner_id"] is None for i in invoices)
    assert any(i["appointment_id"] is None for i in invoices)
    invoice_ids = {i["id"] for i in invoices}
    for item in practice.invoice_items:
        assert item["invoice_id"] in invoice_ids
        assert (item["billable_item_id"] is None) != (item["product_id"] is None)
    assert all(1 <= len(practice.items_of(i["id"])) <= 3 for i in invoices)


def test_item_arithmetic_follows_cliniko(practice: Practice) -> None:
    for item in practice.invoice_items:
        for key in (
            "unit_price",
            "discounted_amount",
            "discount_percentage",
            "net_price",
            "total_including_tax",
        ):
            assert MONEY.match(item[key]), (key, item[key])
        rate = Decimal(item["tax_rate"] or "0")
        gross = Decimal(item["unit_price"]) * item["quantity"] * (1 + rate / 100)
        discount = Decimal(item["discounted_amount"])
        if item["is_monetary_discount"]:
            assert Decimal(item["discount_percentage"]) == _q(discount / gross * 100, "0.0001")
        else:
            assert discount == _q(gross * Decimal(item["discount_percentage"]) / 100, "0.01")
        total = _q(gross - discount, "0.01")
        assert Decimal(item["total_including_tax"]) == total
        assert Decimal(item["net_price"]) == _q(total / (1 + rate / 100), "0.001")


def test_invoice_totals_are_the_sum_of_their_items(practice: Practice) -> None:
    for invoice in practice.invoices:
        items = practice.items_of(invoice["id"])
        total = sum(Decimal(i["total_including_tax"]) for i in items)
        net = _q(sum(Decimal(i["net_price"]) for i in items), "0.01")
        assert Decimal(invoice["total_amount"]) == total
        assert Decimal(invoice["net_amount"]) == net
        assert Decimal(invoice["tax_amount"]) == total - net
        assert Decimal(invoice["discounted_amount"]) == sum(Decimal(i["discounted_amount"]) for i in items)
        assert all(MONEY.match(invoice[k]) for k in ("total_amount", "net_amount", "tax_amount"))


def test_the_documented_example_line_and_the_mix_of_cases(practice: Practice) -> None:
    items = practice.invoice_items
    example = [
        i for i in items if (i["unit_price"], i["discounted_amount"], i["tax_rate"]) == ("100.0", "20.0", "10.0")
    ]
    assert example and example[0]["total_including_tax"] == "90.0" and example[0]["net_price"] == "81.818"
    assert example[0]["discount_percentage"] == "18.1818" and example[0]["tax_amount"] == "10.0"
    assert any(i["is_monetary_discount"] for i in items)
    assert any(not i["is_monetary_discount"] and i["discounted_amount"] != "0.0" for i in items)
    assert any(len(i["net_price"].split(".")[1]) == 3 for i in items)
    assert any(len(i["unit_price"].split(".")[1]) == 3 for i in items)
    assert any(i["tax_rate"] is None and i["tax_name"] is None for i in items)  # billable item without tax
    rates = {}
    for item in items:
        rates.setdefault(item["invoice_id"], set()).add(item["tax_rate"])
    assert any({"10.0", "0.0"} <= found for found in rates.values())
    zero = [i for i in practice.invoices if i["total_amount"] == "0.0"]
    assert 1 <= len(zero) <= len(practice.invoices) // 50


def test_statuses_and_lifecycle(practice: Practice) -> None:
    invoices = practice.invoices
    paid = [i for i in invoices if i["status"] == 20]
    assert 0.45 <= len(paid) / len(invoices) <= 0.65
    assert all(i["closed_at"] and i["status_description"] == "Paid" for i in paid)
    assert all(i["closed_at"] is None and i["status_description"] == "Open" for i in invoices if i["status"] == 10)
    later = [i for i in paid if _local_date(i["closed_at"]) > date.fromisoformat(i["issue_date"])]
    assert 0.05 <= len(later) / len(paid) <= 0.3
    assert all(_local_date(i["closed_at"]) - date.fromisoformat(i["issue_date"]) <= timedelta(days=10) for i in later)
    deleted = [i for i in invoices if i["deleted_at"]]
    assert 3 <= len(deleted) <= len(invoices) // 20
    assert any(_local_date(i["deleted_at"]) > date.fromisoformat(i["issue_date"]) for i in deleted)
    assert 1 <= sum(1 for i in invoices if i["archived_at"]) <= 2
    for invoice in invoices:
        stamps = [invoice[k] for k in ("created_at", "closed_at", "deleted_at", "archived_at") if invoice[k]]
        assert invoice["updated_at"] == max(stamps)
        assert _local_date(invoice["created_at"]) == date.fromisoformat(invoice["issue_date"])
    for item in practice.invoice_items:
        parent = next(i for i in invoices if i["id"] == item["invoice_id"])
        assert (item["deleted_at"], item["archived_at"]) == (parent["deleted_at"], parent["archived_at"])


def test_early_morning_invoices_fall_on_the_previous_utc_date(practice: Practice) -> None:
    early = [i for i in practice.invoices if i["created_at"][:10] < i["issue_date"]]
    assert len(early) > 50
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", i["created_at"]) for i in practice.invoices)


def _invoiced(practice: Practice) -> set[str]:
    return {i["patient_id"] for i in practice.invoices if _live(i)}


def test_patients_with_the_same_name_are_both_invoiced(practice: Practice) -> None:
    twins = [p for p in practice.patients if (p["first_name"], p["last_name"]) == ("Emily", "Chen")]
    assert len(twins) == 2 and twins[0]["id"] != twins[1]["id"]
    assert {t["id"] for t in twins} <= _invoiced(practice)


def test_non_ascii_and_missing_email_patients_are_invoiced(practice: Practice) -> None:
    invoiced = _invoiced(practice)
    names = {(p["first_name"], p["last_name"]): p for p in practice.patients}
    for name in (("Zoë", "Ångström"), ("José", "Núñez"), ("Thị Minh", "Nguyễn"), ("Aroha", "Te Whāiti")):
        assert names[name]["id"] in invoiced
    no_email = [p for p in practice.patients if p["email"] is None]
    assert no_email and any(p["id"] in invoiced for p in no_email)


def test_an_invoiced_patient_is_archived_later(practice: Practice) -> None:
    archived = [p for p in practice.patients if p["archived_at"]]
    assert len(archived) == 1
    patient = archived[0]
    mine = [i for i in practice.invoices if i["patient_id"] == patient["id"] and _live(i)]
    assert mine and all(i["created_at"] < patient["archived_at"] for i in mine)
    assert patient["updated_at"] == patient["archived_at"]
