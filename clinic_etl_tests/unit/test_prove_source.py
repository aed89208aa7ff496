"""The proof starts from the source: a ledger invoice that is neither compared, nor kept out by a rule, nor held is a
mismatch; so is a planned total that is not the source's; and a Xero invoice under the prefix that no source invoice
accounts for."""

from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.xero.prove_source import strays, unaccounted
from clinic_etl.xero.reconcile import COLUMNS

D = Decimal
DAY = "2026-10-14"


def source(n: int, total: str = "110.00", status: str = "open") -> dict:
    return {
        "invoice_key": f"cliniko:invoice:{n}",
        "source_id": str(n),
        "number": str(n),
        "issue_date": DAY,
        "contact_key": "cliniko:patient:1",
        "status": status,
        "day": DAY,
        "total": D(total),
        "tax_total": D("10.00"),
    }


def compared(n: int, total: str = "110.00", held: bool = False) -> dict:
    row = dict.fromkeys(COLUMNS)
    return row | {
        "invoice_key": f"cliniko:invoice:{n}",
        "day": DAY,
        "InvoiceNumber": f"CLK-{n}",
        "expected_total": D(total),
        "expected_tax": D("10.00"),
        "held": held,
        "ok": True,
    }


def the_ledger(*invoices: dict) -> dict:
    return complete({"invoices": ledger_frame("invoices", list(invoices))})


def excluded(*keys: str) -> pd.DataFrame:
    return ledger_frame("excluded", [{"record_key": k, "day": DAY, "rule": "zero_total", "amount": None} for k in keys])


def test_every_source_invoice_is_compared_ruled_out_or_held_or_it_is_a_mismatch():
    ledger = the_ledger(source(1), source(2), source(3), source(4))
    result = pd.DataFrame([compared(1), compared(3, held=True)], columns=COLUMNS)
    lost = unaccounted(ledger, result, excluded("cliniko:invoice:2"))
    assert list(lost["invoice_key"]) == ["cliniko:invoice:4"]
    assert lost["problem"].iloc[0] == "not in Xero, not excluded by a rule, not in quarantine"
    assert lost["expected_total"].iloc[0] == D("110.00") and not lost["ok"].iloc[0]


def test_a_planned_total_that_is_not_the_sources_is_a_mismatch():
    ledger = the_ledger(source(1, "110.01"), source(2, status="deleted"))
    result = pd.DataFrame([compared(1, "110.00"), compared(2, "999.00")], columns=COLUMNS)
    wrong = unaccounted(ledger, result, excluded())
    assert list(wrong["invoice_key"]) == ["cliniko:invoice:1"]  # a deleted invoice's amounts are not compared
    assert "source 110.01" in wrong["problem"].iloc[0]


def xero(number: str, day: str = DAY, status: str = "AUTHORISED") -> dict:
    return {"InvoiceID": f"id-{number}", "InvoiceNumber": number, "Date": day, "Status": status, "Total": "55.00"}


def test_a_xero_invoice_under_the_prefix_with_no_source_is_a_mismatch():
    found = [
        xero("CLK-1"),  # planned this run
        xero("CLK-77"),  # known to the state store (synced for another day)
        xero("CLK-99"),  # made by hand under our prefix
        xero("CLK-98", status="VOIDED"),  # voided: not a live invoice
        xero("INV-0001"),  # not ours
        xero("CLK-97", day="2026-10-15"),  # another day
    ]
    asked = []

    def known(numbers: list[str]) -> set[str]:
        asked.extend(numbers)
        return {"CLK-77"} & set(numbers)

    stray = strays(found, "CLK-", [DAY], {"CLK-1"}, known)
    assert sorted(asked) == ["CLK-77", "CLK-99"]  # only live ones of the day under the prefix go to the store
    assert list(stray["InvoiceNumber"]) == ["CLK-99"]
    assert stray["problem"].iloc[0] == "in Xero with no source invoice" and stray["xero_total"].iloc[0] == D("55.00")


def test_only_invoices_the_dated_read_may_miss_are_read_by_number():
    from datetime import date
    from zoneinfo import ZoneInfo

    from clinic_etl.partitions import SyncWindow
    from clinic_etl.xero.reconcile import beyond_the_dated_read

    window = SyncWindow(date(2026, 10, 1), date(2026, 10, 31), ZoneInfo("Australia/Sydney"))
    documents = pd.DataFrame(
        {
            "InvoiceNumber": ["CLK-1", "CLK-2", "CLK-3", "CLK-4", "CLK-5"],
            "Date": ["2026-09-30", "2026-10-01", "2026-10-31", "2026-11-01", "2026-10-14"],
        }
    )
    # dated before and after the window: by number; dated in it: only when the state store knows the number
    assert beyond_the_dated_read(documents, window, {"CLK-5": []}) == ["CLK-1", "CLK-4", "CLK-5"]
    assert beyond_the_dated_read(documents, window, {}) == ["CLK-1", "CLK-4"]
