"""Invariants of the synthetic law firm: money adds up to the cent, every awkward case exists, determinism."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from clinic_etl.sandbox.clio import SANDBOX_WINDOW, Firm, build_firm
from clinic_etl.sandbox.clio.wire import local_date, parse_stamp

ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def firm() -> Firm:
    return build_firm()


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _valid(allocation: dict) -> bool:
    return not allocation.get("_deleted_at") and allocation["voided_at"] is None


def _payments(firm: Firm) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for allocation in firm.allocations:
        if allocation["parent"]["type"] == "Payment":
            grouped[allocation["parent"]["id"]].append(allocation)
    return grouped


def test_build_firm_is_deterministic_per_seed(firm: Firm) -> None:
    assert build_firm() == firm
    other = build_firm(12)
    assert other != firm and len(other.bills) > 120


@pytest.mark.parametrize("seed", [11, 3, 29])
def test_every_bill_adds_up_to_the_cent(seed: int) -> None:
    firm = build_firm(seed)
    for line in firm.line_items:
        sub_total = ZERO if line["type"] == "NoChargeLineItem" else _cents(line["price"] * line["quantity"])
        assert line["sub_total"] == sub_total
        assert line["total"] <= line["sub_total"] and line["total"] >= 0
        bill = firm.find("bills", line["bill_id"])
        expected_tax = _cents(line["total"] * bill["tax_rate"] / 100) if line["taxable"] else ZERO
        expected_secondary = (
            _cents(line["total"] * bill["secondary_tax_rate"] / 100) if line["secondary_taxable"] else ZERO
        )
        assert (line["tax"], line["secondary_tax"]) == (expected_tax, expected_secondary)
    for bill in firm.bills:
        lines = [line for line in firm.line_items if line["bill_id"] == bill["id"]]
        trust = [line for line in firm.trust_line_items if line["bill_id"] == bill["id"]]
        assert bill["sub_total"] == sum((line["total"] for line in lines), ZERO) + sum(
            (line["total"] for line in trust), ZERO
        )
        assert bill["tax_sum"] == sum((line["tax"] for line in lines), ZERO)
        assert bill["secondary_tax_sum"] == sum((line["secondary_tax"] for line in lines), ZERO)
        assert bill["total_tax"] == bill["tax_sum"] + bill["secondary_tax_sum"]
        assert bill["total"] == bill["sub_total"] + bill["total_tax"] + bill["interest"]["total"] == bill["due"]
        assert sum((m["amount"] for m in bill["matter_totals"]), ZERO) == bill["total"]
        valid = [a for a in firm.allocations if a["bill_id"] == bill["id"] and _valid(a)]
        assert bill["paid"] == sum((a["amount"] for a in valid if a["parent"]["type"] == "Payment"), ZERO)
        assert bill["credits_issued"] == sum((a["amount"] for a in valid if a["parent"]["type"] == "CreditMemo"), ZERO)
        if bill["state"] in ("void", "deleted"):
            assert not valid and bill["balance"] == ZERO
        elif bill["state"] in ("draft", "awaiting_approval"):
            assert not valid and bill["balance"] == bill["due"] and bill["last_sent_at"] is None
        else:
            assert bill["balance"] == bill["due"] - bill["paid"] - bill["credits_issued"] >= ZERO
            assert (bill["state"] == "paid") == (bill["balance"] == ZERO)
        assert bill["balances"][0]["amount"] == bill["balance"]
        for money in ("total", "paid", "balance", "tax_sum", "secondary_tax_sum"):
            assert bill[money] == _cents(bill[money])


def test_allocations_credit_memos_refunds_and_bank_accounts_add_up(firm: Firm) -> None:
    memo_allocations: dict[int, list[dict]] = defaultdict(list)
    for allocation in firm.allocations:
        assert allocation["amount"] > 0 and allocation["amount"] == _cents(allocation["amount"])
        if allocation["parent"]["type"] == "CreditMemo":
            memo_allocations[allocation["parent"]["id"]].append(allocation)
    refunds = [t for t in firm.bank_transactions if t["transaction_type"] == "Refund"]
    for memo in firm.credit_memos:
        applied = memo_allocations[memo["id"]]
        if memo["voided_at"]:
            assert applied and all(a["voided_at"] for a in applied)
            assert memo["amount"] == sum((a["amount"] for a in applied), ZERO)
        elif memo["_refunded"]:
            refund = [t for t in refunds if f"credit memo {memo['id']}" in t["description"]]
            assert not applied and len(refund) == 1 and refund[0]["funds_out"] == memo["amount"]
            assert refund[0]["client_id"] == memo["contact_id"] and refund[0]["date"] > memo["date"]
        else:
            assert memo["amount"] == sum((a["amount"] for a in applied if _valid(a)), ZERO)
    for payment_id, allocations in _payments(firm).items():
        deposits = [
            t for t in firm.bank_transactions
            if t["confirmation"] == allocations[0]["parent"]["identifier"] and not t.get("_deleted_at")
        ]  # fmt: skip
        total = sum((a["amount"] for a in allocations), ZERO)
        if all(_valid(a) for a in allocations):
            assert deposits and all(abs(t["amount"]) == total for t in deposits), payment_id
            assert {t["date"] for t in deposits} == {a["date"] for a in allocations}
        else:
            assert not deposits
    for account in firm.bank_accounts:
        live = [t for t in firm.bank_transactions if t["bank_account_id"] == account["id"] and not t.get("_deleted_at")]
        for row in live:
            assert row["amount"] == row["funds_in"] - row["funds_out"] and min(row["funds_in"], row["funds_out"]) == 0
        assert sum((t["funds_in"] - t["funds_out"] for t in live), ZERO) > 0


def test_bill_states_types_and_window(firm: Firm) -> None:
    states = Counter(b["state"] for b in firm.bills)
    for state in ("draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted"):
        assert states[state] >= 2, state
    assert Counter(b["type"] for b in firm.bills)["ClientBill"] >= 3
    assert all(len(b["matter_ids"]) >= 2 for b in firm.bills if b["type"] == "ClientBill")
    issued = sorted(date.fromisoformat(b["issued_at"]) for b in firm.bills)
    assert issued[0] == SANDBOX_WINDOW[0] and issued[-1] <= SANDBOX_WINDOW[1]
    assert len({d for d in issued}) >= 28
    assert all(b["due_at"] == (date.fromisoformat(b["issued_at"]) + timedelta(days=30)).isoformat() for b in firm.bills)
    numbers = [int(b["number"]) for b in sorted(firm.bills, key=lambda b: b["id"])]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_line_kinds_taxes_discounts(firm: Firm) -> None:
    lines = [line for line in firm.line_items if not line.get("_deleted_at")]
    assert {line["kind"] for line in lines} == {"Service", "Expense"}
    assert {line["type"] for line in lines} >= {"ActivityLineItem", "LineItem", "NoChargeLineItem"}
    assert any(line["taxable"] and line["tax"] > 0 for line in lines)
    assert any(line["secondary_taxable"] and line["secondary_tax"] > 0 for line in lines)
    assert any(line["discount"] and line["total"] < line["sub_total"] for line in lines)
    assert any(not line["taxable"] for line in lines)
    taxed_bills = {line["bill_id"] for line in lines if line["secondary_tax"] > 0}
    assert len(taxed_bills) >= 3


def test_interest_bills(firm: Firm) -> None:
    interest = [b for b in firm.bills if b["interest"]["total"] > 0]
    assert len(interest) == 3 and len(firm.interest_charges) == 3
    for bill in interest:
        assert not [line for line in firm.line_items if line["bill_id"] == bill["id"]]
        assert bill["total"] == bill["interest"]["total"] and bill["sub_total"] == ZERO
        original = firm.find("bills", bill["original_bill_id"])
        assert original["state"] == "awaiting_payment" and original["due_at"] < bill["issued_at"]
        assert bill["interest"]["total"] == _cents(original["total"] * Decimal("1.5") / 100)
        charge = next(c for c in firm.interest_charges if c["bill_id"] == bill["id"])
        assert charge["total"] == bill["total"]
    paid = [b for b in interest if b["state"] == "paid"]
    assert paid and all(a["interest"] for a in firm.allocations if a["bill_id"] == paid[0]["id"])


def test_payment_cases(firm: Firm) -> None:
    payments = _payments(firm)
    split = [group for group in payments.values() if len({a["bill_id"] for a in group}) > 1]
    assert len(split) >= 2
    per_bill: dict[int, list[dict]] = defaultdict(list)
    for allocation in firm.allocations:
        if _valid(allocation) and allocation["parent"]["type"] == "Payment":
            per_bill[allocation["bill_id"]].append(allocation)
    bills = {b["id"]: b for b in firm.bills}
    assert sum(1 for i, group in per_bill.items() if len(group) >= 2 and bills[i]["state"] == "paid") >= 3
    assert sum(1 for i, group in per_bill.items() if group and bills[i]["state"] == "awaiting_payment") >= 3
    edited = [
        a for a in firm.allocations
        if _valid(a) and local_date(a["updated_at"]) > local_date(a["created_at"])
    ]  # fmt: skip
    assert len(edited) >= 2
    assert {bills[a["bill_id"]]["state"] for a in edited} == {"paid", "awaiting_payment"}  # up and down
    for allocation in edited:
        assert parse_stamp(bills[allocation["bill_id"]]["updated_at"]) >= parse_stamp(allocation["updated_at"])
    voided = [a for a in firm.allocations if a["voided_at"] and a["parent"]["type"] == "Payment"]
    deleted = [a for a in firm.allocations if a.get("_deleted_at")]
    assert len(voided) >= 2 and len(deleted) >= 1
    for allocation in voided + deleted:
        gone = allocation["voided_at"] or allocation["_deleted_at"]
        assert local_date(gone) > local_date(allocation["created_at"])
        assert parse_stamp(bills[allocation["bill_id"]]["updated_at"]) >= parse_stamp(gone)
    assert any(bills[a["bill_id"]]["state"] == "paid" for a in voided)  # paid again after the void
    evening = [
        a for a in firm.allocations if parse_stamp(a["created_at"]).astimezone(UTC).date().isoformat() != a["date"]
    ]
    assert len(evening) >= 3
    for allocation in evening:
        local = parse_stamp(allocation["created_at"])
        assert local.hour >= 21 and local.date().isoformat() == allocation["date"]
    assert any(parse_stamp(a["created_at"]).utcoffset() == timedelta(hours=-5) for a in evening)  # after DST
    online = [a for a in firm.allocations if a["has_online_payment"]]
    assert online and {a["payment_type"] for a in online} <= {"card", "eCheck"}


def test_credit_memo_cases(firm: Firm) -> None:
    memos = firm.credit_memos
    applied = Counter(a["parent"]["id"] for a in firm.allocations if a["parent"]["type"] == "CreditMemo")
    assert any(applied[m["id"]] == 1 and not m["voided_at"] for m in memos)
    assert any(applied[m["id"]] >= 2 for m in memos)  # split across bills
    assert any(m["discount"] for m in memos)
    assert any(m["voided_at"] for m in memos)
    assert any(m["_refunded"] and applied[m["id"]] == 0 for m in memos)
    credited_paid = [
        b for b in firm.bills if b["state"] == "paid" and b["credits_issued"] == b["total"] and b["paid"] == ZERO
    ]
    assert credited_paid  # settled entirely by a credit memo


def test_trust_cases(firm: Firm) -> None:
    trust_account = next(a for a in firm.bank_accounts if a["type"] == "Trust")
    operating = next(a for a in firm.bank_accounts if a["type"] == "Operating")
    requests = [b for b in firm.bills if b["kind"] == "trust_kind"]
    assert len(requests) >= 3 and all(b["destination_account_id"] == trust_account["id"] for b in requests)
    assert {b["state"] for b in requests} == {"paid", "awaiting_payment"}
    for request in requests:
        lines = [line for line in firm.trust_line_items if line["bill_id"] == request["id"]]
        assert lines and request["total"] == sum((line["total"] for line in lines), ZERO)
    from_trust = [a for a in firm.allocations if a["source_bank_account_id"] == trust_account["id"]]
    assert len(from_trust) >= 3
    for allocation in from_trust:
        assert allocation["destination_bank_account_id"] == operating["id"]
        assert firm.find("bills", allocation["bill_id"])["kind"] == "revenue_kind"
    kinds = {(t["bank_account_id"], t["transaction_type"]) for t in firm.bank_transactions}
    assert (trust_account["id"], "Withdrawal") in kinds and (trust_account["id"], "Deposit") in kinds
    assert {t["type"] for t in firm.bank_transactions if t["bank_account_id"] == trust_account["id"]} == {"liability"}


def test_contact_and_matter_cases(firm: Firm) -> None:
    clients = [c for c in firm.contacts if c["is_client"]]
    billed = {b["client_id"] for b in firm.bills if b["state"] not in ("deleted",)}
    names = Counter(c["name"] for c in clients)
    twins = [c for c in clients if names[c["name"]] == 2 and c["name"] == "Maria Garcia"]
    assert len(twins) == 2 and all(c["id"] in billed for c in twins)
    assert twins[0]["primary_email_address"] != twins[1]["primary_email_address"]
    no_email = [c for c in clients if not c["email_addresses"]]
    assert no_email and all(c["primary_email_address"] is None and c["id"] in billed for c in no_email)
    non_ascii = [c for c in clients if not c["name"].isascii()]
    assert len(non_ascii) >= 6 and {c["type"] for c in non_ascii} == {"Person", "Company"}
    assert all(c["id"] in billed for c in non_ascii)
    assert any(
        unicodedata.normalize("NFC", c["name"]) != c["name"].encode("ascii", "ignore").decode() for c in non_ascii
    )
    assert {c["type"] for c in clients} == {"Person", "Company"}
    assert all(c["addresses"] and any(a["primary"] for a in c["addresses"]) for c in clients)
    start = SANDBOX_WINDOW[0].isoformat()
    assert any(c["updated_at"] > start > c["created_at"] for c in clients)  # edited during the window
    assert any(c["created_at"] > start and c["id"] in billed for c in clients)  # new client in the window
    assert any(not c["is_client"] for c in firm.contacts)
    statuses = Counter(m["status"] for m in firm.matters)
    assert statuses["Open"] > 50 and statuses["Closed"] >= 1 and statuses["Pending"] >= 1
    assert {m["billing_method"] for m in firm.matters} >= {"hourly", "flat"}


def test_time_zone_and_ordering_of_events(firm: Firm) -> None:
    for bill in firm.bills:
        assert parse_stamp(bill["updated_at"]) >= parse_stamp(bill["created_at"])
        assert local_date(bill["created_at"]).isoformat() == bill["issued_at"]
    for allocation in firm.allocations:
        bill = firm.find("bills", allocation["bill_id"])
        assert allocation["date"] >= bill["issued_at"]
        assert parse_stamp(allocation["created_at"]) > parse_stamp(bill["created_at"])
    offsets = {parse_stamp(b["created_at"]).utcoffset() for b in firm.bills}
    assert offsets == {timedelta(hours=-4), timedelta(hours=-5)}  # DST ends on 1 Nov 2026, inside the window
