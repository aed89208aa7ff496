"""Cliniko -> ledger: Decimal money, local dates, payments from paid invoices, quarantine of bad rows."""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.extract import extract
from clinic_etl.sources.cliniko.to_ledger import to_ledger

ZONE = ZoneInfo("Australia/Sydney")
DAY = SyncWindow(date(2026, 10, 14), date(2026, 10, 14), ZONE)


def test_money_is_decimal_and_invoices_add_up(cliniko):
    ledger, rejected = to_ledger(extract(cliniko, DAY), DAY)
    assert rejected.empty
    for column in ("total", "tax_total"):
        assert all(isinstance(v, Decimal) for v in ledger["invoices"][column])
    for column in ("total", "tax", "unit_price", "quantity"):
        assert all(isinstance(v, Decimal) for v in ledger["lines"][column])
    sums = ledger["lines"].groupby("invoice_key")["total"].apply(lambda s: sum(s, Decimal(0)))
    live = ledger["invoices"][ledger["invoices"]["status"] != "deleted"].set_index("invoice_key")["total"]
    assert (sums.reindex(live.index) == live).all()
    assert all(isinstance(v, Decimal) and v > 0 for v in ledger["payments"]["amount"])


def test_payment_is_dated_on_the_local_day_it_was_paid():
    raw = {
        "invoices": pd.DataFrame(
            [
                {
                    "id": "5",
                    "number": "77",
                    "issue_date": "2026-10-13",
                    "status": "20",
                    "total_amount": "110.0",
                    "net_amount": "100.0",
                    "tax_amount": "10.0",
                    "closed_at": "2026-10-14T14:30:00Z",
                    "archived_at": None,
                    "deleted_at": None,
                    "updated_at": "2026-10-14T14:30:00Z",
                    "patient_id": "9",
                    "business_id": "1",
                    "practitioner_id": None,
                }
            ],
            dtype=object,
        ),
        "invoice_items": pd.DataFrame(
            [
                {
                    "id": "1",
                    "invoice_id": "5",
                    "name": "Consult",
                    "code": "C1",
                    "quantity": "1",
                    "unit_price": "100.0",
                    "discounted_amount": "0.0",
                    "net_price": "100.0",
                    "tax_name": "GST",
                    "tax_rate": "10.0",
                    "total_including_tax": "110.0",
                }
            ],
            dtype=object,
        ),
        "patients": pd.DataFrame([{"id": "9", "first_name": "A", "last_name": "B", "email": None}], dtype=object),
    }
    ledger, _ = to_ledger(raw, DAY)
    # 14:30 UTC on the 14th is 01:30 on the 15th in Sydney (UTC+11)
    assert ledger["payments"].iloc[0]["date"] == "2026-10-15"


def test_a_malformed_item_quarantines_its_invoice_and_the_day_goes_on(cliniko):
    raw = extract(cliniko, DAY)
    victim = raw["invoice_items"].iloc[0]
    raw["invoice_items"].loc[raw["invoice_items"]["id"] == victim["id"], "total_including_tax"] = "12,50"
    ledger, rejected = to_ledger(raw, DAY)
    assert list(rejected["entity"]) == ["invoice_item", "invoice"]
    assert rejected.iloc[1]["source_id"] == victim["invoice_id"]
    assert "total_including_tax" in rejected.iloc[1]["reason"]
    assert f"cliniko:invoice:{victim['invoice_id']}" not in set(ledger["invoices"]["invoice_key"])
    assert len(ledger["invoices"]) == raw["invoices"].shape[0] - 1


def test_patient_names_never_enter_a_reason(cliniko):
    raw = extract(cliniko, DAY)
    raw["patients"].loc[0, "id"] = "not-an-id"
    name = raw["patients"].loc[0, "first_name"]
    _, rejected = to_ledger(raw, DAY)
    assert not rejected.empty
    assert name not in rejected.to_string()


def test_closed_and_open_credit_statuses(cliniko):
    raw = extract(cliniko, DAY)
    invoices = raw["invoices"].copy()
    paid = invoices.index[invoices["status"] == "20"]
    invoices.loc[paid[0], "status"] = "30"  # Closed
    invoices.loc[paid[1], "status"] = "40"  # Open credit
    ledger, rejected = to_ledger({**raw, "invoices": invoices}, DAY)
    assert rejected.empty
    status = ledger["invoices"].set_index("source_id")["status"]
    closed, credit = invoices.loc[paid[0], "id"], invoices.loc[paid[1], "id"]
    assert status[closed] == "closed" and status[credit] == "paid"
    # both listed with a payment of the total: the mapping's rules.closed_invoices decides what a closed one becomes
    with_payment = set(ledger["payments"]["invoice_key"])
    assert {f"cliniko:invoice:{closed}", f"cliniko:invoice:{credit}"} <= with_payment
