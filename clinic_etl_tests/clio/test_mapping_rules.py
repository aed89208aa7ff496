"""The Clio mapping's rules one at a time, on hand-built raw frames (text, as the extract keeps it): taxes rounded per
bill spread over the lines, the paid status from Clio's balance, interest next to lines, bill-level discounts,
refunds matched to credit memos (or not), payments on bills of another run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.clio.extract import KEEP
from clinic_etl.sources.clio.to_ledger import to_ledger

DAY = SyncWindow(date(2026, 10, 14), date(2026, 10, 14), ZoneInfo("America/New_York"))
OPERATING, TRUST = "18400101", "18400102"


def bill(id: str = "1", **kw: object) -> dict:
    row = {
        "id": id, "number": f"10{id}", "state": "awaiting_payment", "type": "MatterBill", "kind": "revenue_kind",
        "issued_at": "2026-10-14", "tax_rate": "8.875", "secondary_tax_rate": "2.5", "sub_total": "100.0",
        "tax_sum": "0.0", "secondary_tax_sum": "0.0", "total_tax": "0.0", "total": "100.0", "due": "100.0",
        "balance": "100.0", "interest_total": "0.0", "created_at": "2026-10-14T10:00:00-04:00",
        "updated_at": "2026-10-14T10:00:00-04:00", "client_id": "7", "currency_code": "USD",
    }  # fmt: skip
    return {**row, **kw}


def item(id: str, bill_id: str = "1", **kw: object) -> dict:
    row = {
        "id": id, "bill_id": bill_id, "type": "ActivityLineItem", "kind": "Service", "description": "Advice",
        "price": "100.0", "quantity": "1.0", "sub_total": "100.0", "tax": "0.0", "secondary_tax": "0.0",
        "total": "100.0", "taxable": "False", "secondary_taxable": "False", "group_ordering": id,
    }  # fmt: skip
    return {**row, **kw}


def allocation(id: str, amount: str, bill_id: str = "1", **kw: object) -> dict:
    row = {
        "id": id, "date": "2026-10-14", "amount": amount, "voided_at": None,
        "created_at": "2026-10-14T12:00:00-04:00", "updated_at": "2026-10-14T12:00:00-04:00", "parent_id": "500",
        "parent_type": "Payment", "bill_id": bill_id, "contact_id": "7", "source_bank_account_id": None,
        "destination_bank_account_id": OPERATING,
    }  # fmt: skip
    return {**row, **kw}


def memo(id: str, amount: str, **kw: object) -> dict:
    row = {
        "id": id, "date": "2026-10-14", "amount": amount, "description": "Credit", "voided_at": None,
        "updated_at": "2026-10-14T12:00:00-04:00", "contact_id": "7",
    }  # fmt: skip
    return {**row, **kw}


def refund(id: str, amount: str, **kw: object) -> dict:
    row = {
        "id": id, "transaction_type": "Refund", "bank_account_id": OPERATING, "date": "2026-10-14",
        "amount": f"-{amount}", "funds_out": amount, "updated_at": "2026-10-14T15:00:00-04:00", "client_id": "7",
    }  # fmt: skip
    return {**row, **kw}


def raw(**frames: list[dict]) -> dict[str, pd.DataFrame]:
    defaults = {
        "contacts": [{"id": "7", "type": "Person", "name": "A B", "first_name": "A", "last_name": "B"}],
        "bank_accounts": [{"id": OPERATING, "type": "Operating"}, {"id": TRUST, "type": "Trust"}],
    }
    out = {}
    for name in KEEP:
        rows = frames.get(name, defaults.get(name, []))
        out[name] = pd.DataFrame([{c: r.get(c) for c in KEEP[name]} for r in rows], columns=KEEP[name], dtype=object)
    return out


def test_taxes_rounded_per_bill_are_spread_over_the_taxed_lines():
    # three lines of 0.20 at 2.5 %: 0.005 each, 0.01 rounded per line (0.03), but 0.015 -> 0.02 rounded per bill
    lines = [item(str(n), price="0.2", sub_total="0.2", total="0.2", secondary_tax="0.01", secondary_taxable="True")
             for n in (1, 2, 3)]  # fmt: skip
    b = bill(sub_total="0.6", secondary_tax_sum="0.02", total_tax="0.02", total="0.62", due="0.62", balance="0.62")
    ledger, rejected = to_ledger(raw(bills=[b], line_items=lines), DAY)
    assert rejected.empty
    out = ledger["lines"]
    assert sum(out["tax"], Decimal(0)) == Decimal("0.02") and sum(out["total"], Decimal(0)) == Decimal("0.62")
    assert set(out["tax_name"]) == {"secondary"} and set(out["tax_rate"]) == {Decimal("2.5")}


def test_a_tax_that_does_not_add_up_within_a_cent_per_line_rejects_the_bill():
    lines = [item("1", tax="8.88", taxable="True")]
    b = bill(tax_sum="9.88", total_tax="9.88", total="109.88", due="109.88", balance="109.88")
    ledger, rejected = to_ledger(raw(bills=[b], line_items=lines), DAY)
    assert ledger["invoices"].empty
    (reason,) = rejected["reason"]
    assert reason.startswith("bill 1: line items carry 8.88 of tax but tax_sum is 9.88")


def test_paid_is_decided_by_the_balance_not_the_state_name():
    bills = [
        bill("1", state="awaiting_payment", balance="0.0"),
        bill("2", state="paid", balance="40.0"),
        bill("3", state="paid", balance="0.0"),
        bill("4", state="awaiting_approval"),
        bill("5", state="void"),
    ]
    items = [item(str(n), bill_id=str(n)) for n in range(1, 5)]
    allocations = [allocation("11", "100.0", "1"), allocation("12", "60.0", "2"), allocation("13", "100.0", "3")]
    ledger, rejected = to_ledger(raw(bills=bills, line_items=items, allocations=allocations), DAY)
    assert rejected.empty
    status = dict(zip(ledger["invoices"]["source_id"], ledger["invoices"]["status"], strict=True))
    assert status == {"1": "paid", "2": "open", "3": "paid", "4": "draft", "5": "deleted"}
    assert set(ledger["lines"]["invoice_key"]) == {"clio:bill:1", "clio:bill:2", "clio:bill:3", "clio:bill:4"}


def test_interest_on_a_bill_with_lines_is_one_more_line():
    b = bill(total="103.5", due="103.5", balance="103.5", interest_total="3.5")
    ledger, rejected = to_ledger(raw(bills=[b], line_items=[item("1")]), DAY)
    assert rejected.empty
    assert list(ledger["lines"]["description"]) == ["Advice", "Interest"]
    assert list(ledger["lines"]["total"]) == [Decimal("100.00"), Decimal("3.50")]


def test_a_bill_level_discount_is_rejected_and_takes_its_payment_with_it():
    b = bill(due="90.0", balance="0.0")
    ledger, rejected = to_ledger(raw(bills=[b], line_items=[item("1")], allocations=[allocation("11", "90.0")]), DAY)
    assert ledger["invoices"].empty and ledger["payments"].empty
    reasons = dict(zip(rejected["entity"], rejected["reason"], strict=True))
    assert "due 90.0 differs from total 100.0 (a bill-level discount)" in reasons["bill"]
    assert reasons["allocation"] == "allocation 11: its bill 1 was rejected"


def test_a_payment_on_a_bill_of_another_run_waits_for_that_run():
    ledger, rejected = to_ledger(raw(allocations=[allocation("11", "50.0", bill_id="99")]), DAY)
    assert rejected.empty and ledger["payments"].empty and ledger["excluded"].empty


def test_a_refund_is_matched_to_the_memo_whose_balance_it_takes():
    memos = [memo("1", "100.0"), memo("2", "40.0"), memo("3", "40.0", contact_id="8")]
    contacts = [
        {"id": "7", "type": "Person", "first_name": "A", "last_name": "B"},
        {"id": "8", "type": "Company", "name": "C Ltd"},
    ]
    ledger, rejected = to_ledger(raw(credit_memos=memos, refunds=[refund("9", "40.0")], contacts=contacts), DAY)
    assert rejected.empty
    assert list(ledger["refunds"]["credit_note_key"]) == ["clio:credit_memo:2"]
    assert list(ledger["refunds"]["amount"]) == [Decimal("40.00")]
    assert set(ledger["contacts"]["last_name"]) == {"B", "C Ltd"}


def test_a_refund_that_could_be_out_of_two_memos_rejects_it_and_them():
    memos = [memo("1", "100.0"), memo("2", "100.0")]
    ledger, rejected = to_ledger(raw(credit_memos=memos, refunds=[refund("9", "30.0")]), DAY)
    assert ledger["refunds"].empty and ledger["credit_notes"].empty
    reasons = dict(zip(zip(rejected["entity"], rejected["source_id"], strict=True), rejected["reason"], strict=True))
    assert "could refund any of credit memos 1, 2" in reasons[("refund", "9")]
    assert reasons[("credit_memo", "1")] == "credit memo 1: refund 9 may be its but cannot be told apart"


def test_a_refund_matching_no_memo_is_rejected_in_its_window_and_left_to_its_own_run_outside_it():
    inside = refund("9", "30.0")
    outside = refund("10", "30.0", date="2026-10-20", updated_at="2026-10-20T12:00:00-04:00")
    ledger, rejected = to_ledger(raw(refunds=[inside, outside]), DAY)
    assert list(rejected["source_id"]) == ["9"] and ledger["refunds"].empty
    assert "no credit memo of contact 7 in the extract" in rejected["reason"].iloc[0]


def test_a_refund_out_of_trust_is_excluded():
    ledger, rejected = to_ledger(raw(refunds=[refund("9", "30.0", bank_account_id=TRUST)]), DAY)
    assert rejected.empty
    assert ledger["excluded"].to_dict("records") == [
        {"record_key": "clio:refund:9", "day": "2026-10-14", "rule": "trust", "amount": Decimal("30.00")}
    ]


def test_a_draft_without_an_issue_date_is_dated_on_its_creation_day():
    b = bill(state="draft", issued_at=None, created_at="2026-10-14T23:30:00-04:00")
    ledger, rejected = to_ledger(raw(bills=[b], line_items=[item("1")]), DAY)
    assert rejected.empty and list(ledger["invoices"]["issue_date"]) == ["2026-10-14"]
