"""Clio -> ledger on the sandbox firm, through the real client and extract: every bill of a window is an invoice, a
trust exclusion or a reject; invoices add up to the bills to the cent (secondary tax and interest included); every
invoice lists all of its live payments and nothing else (split payments, voided and deleted allocations, trust);
credit memos with their allocations and refunds; payments on the firm's own day. The expectations come from the
firm's rows (`build_firm()`), never from the mapping under test."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from clinic_etl.ledger.models import LEDGER_MODELS
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.clio import FIRM_TIME_ZONE, SANDBOX_WINDOW, Firm
from clinic_etl.sandbox.clio.reference import SECONDARY_TAX_RATE, TAX_RATE, TRUST_ID
from clinic_etl.sources.clio.extract import extract
from clinic_etl.sources.clio.to_ledger import to_ledger
from clinic_etl_tests.clio.conftest import sandbox_client

ZONE = ZoneInfo(FIRM_TIME_ZONE)
WHOLE = SyncWindow(*SANDBOX_WINDOW, ZONE)
DAYS = [SyncWindow(d, d, ZONE) for d in (SANDBOX_WINDOW[0] + timedelta(n) for n in range(42))]


@dataclass
class Run:
    window: SyncWindow
    raw: dict[str, pd.DataFrame]
    ledger: dict[str, pd.DataFrame]
    rejected: pd.DataFrame


@pytest.fixture(scope="module")
def runs(firm: Firm) -> dict[SyncWindow, Run]:
    client, _, _ = sandbox_client(firm)
    out = {}
    for window in [WHOLE, *DAYS]:
        raw = extract(client, window)
        ledger, rejected = to_ledger(raw, window)
        out[window] = Run(window, raw, ledger, rejected)
    client.close()
    return out


@pytest.fixture(scope="module")
def whole(runs) -> Run:
    return runs[WHOLE]


def _live(row: dict) -> bool:
    return not row.get("_deleted_at")


def _ids(frame: pd.DataFrame, column: str = "source_id") -> set[int]:
    return {int(i) for i in frame[column]}


def _keyed(frame: pd.DataFrame, column: str) -> set[int]:
    return {int(k.rsplit(":", 1)[-1]) for k in frame[column]}


def _live_payments(firm: Firm, bill_id: int) -> dict[int, Decimal]:
    """What the ledger must list for a bill: its valid, undeleted payment allocations not out of or into trust."""
    return {
        a["id"]: a["amount"]
        for a in firm.allocations
        if a["bill_id"] == bill_id
        and _live(a)
        and a["voided_at"] is None
        and a["parent"]["type"] == "Payment"
        and TRUST_ID not in (a["source_bank_account_id"], a["destination_bank_account_id"])
    }


# ---- every record accounted for -----------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [WHOLE, *DAYS], ids=lambda w: f"{w.first}..{w.last}")
def test_every_bill_is_an_invoice_a_trust_exclusion_or_a_reject_and_the_ledger_meets_the_contract(runs, window):
    run = runs[window]
    assert run.rejected.empty, run.rejected.to_dict("records")
    excluded_bills = {int(k.rsplit(":", 1)[-1]) for k in run.ledger["excluded"]["record_key"] if ":bill:" in k}
    assert _ids(run.raw["bills"], "id") == _ids(run.ledger["invoices"]) | excluded_bills
    assert not _ids(run.ledger["invoices"]) & excluded_bills
    for name, model in LEDGER_MODELS.items():
        model.validate(run.ledger[name])
    for name in ("invoices", "payments", "credit_notes", "credit_allocations", "refunds", "excluded"):
        assert set(run.ledger[name]["day"]) <= set(window.days), name


def test_money_is_decimal_and_every_invoice_adds_up_to_its_bill_to_the_cent(firm: Firm, whole: Run):
    lines = whole.ledger["lines"]
    for column in ("quantity", "unit_price", "tax_rate", "discount", "total", "tax"):
        assert all(isinstance(v, Decimal) for v in lines[column]), column
    by_invoice = lines.groupby("invoice_key")
    live = whole.ledger["invoices"][whole.ledger["invoices"]["status"] != "deleted"]
    assert len(live) > 100
    for invoice in live.to_dict("records"):
        bill = firm.find("bills", int(invoice["source_id"]))
        mine = by_invoice.get_group(invoice["invoice_key"])
        assert invoice["total"] == bill["total"] and invoice["tax_total"] == bill["total_tax"]
        assert sum(mine["total"], Decimal(0)) == bill["total"]
        assert sum(mine["tax"], Decimal(0)) == bill["total_tax"]
        assert list(mine["line_no"]) == list(range(1, len(mine) + 1))
    deleted = whole.ledger["invoices"][whole.ledger["invoices"]["status"] == "deleted"]
    assert len(deleted) == 10 and not set(deleted["invoice_key"]) & set(lines["invoice_key"])


def test_states_follow_clio_and_paid_is_decided_by_the_balance(firm: Firm, whole: Run):
    seen = set()
    for invoice in whole.ledger["invoices"].to_dict("records"):
        bill = firm.find("bills", int(invoice["source_id"]))
        if bill["state"] in ("draft", "awaiting_approval"):
            want = "draft"
        elif bill["state"] in ("void", "deleted"):
            want = "deleted"
        else:
            want = "paid" if bill["balance"] == 0 and bill["total"] > 0 else "open"
        assert invoice["status"] == want, (bill["id"], bill["state"])
        assert bill["type"] in ("MatterBill", "ClientBill")
        seen.add((bill["state"], bill["type"]))
    states = {s for s, _ in seen}
    assert states == {"draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted"}
    assert {t for _, t in seen} == {"MatterBill", "ClientBill"}


# ---- payments -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [WHOLE, *DAYS], ids=lambda w: f"{w.first}..{w.last}")
def test_each_invoice_lists_exactly_its_live_payments(firm: Firm, runs, window):
    ledger = runs[window].ledger
    payments = ledger["payments"]
    by_invoice = defaultdict(dict)
    for p in payments.to_dict("records"):
        by_invoice[p["invoice_key"]][int(p["payment_key"].rsplit(":", 1)[-1])] = p["amount"]
    for invoice in ledger["invoices"].to_dict("records"):
        want = {} if invoice["status"] == "deleted" else _live_payments(firm, int(invoice["source_id"]))
        assert by_invoice.get(invoice["invoice_key"], {}) == want, invoice["invoice_key"]
    assert set(payments["invoice_key"]) <= set(ledger["invoices"]["invoice_key"])
    gone = {a["id"] for a in firm.allocations if not _live(a) or a["voided_at"] is not None}
    assert not _keyed(payments, "payment_key") & gone


def test_voided_and_deleted_payments_are_absent_from_the_ledger(firm: Firm, whole: Run):
    voided = [a for a in firm.allocations if _live(a) and a["voided_at"] and a["parent"]["type"] == "Payment"]
    deleted = [a for a in firm.allocations if not _live(a)]
    assert voided and deleted
    listed = _keyed(whole.ledger["payments"], "payment_key")
    assert not listed & {a["id"] for a in voided + deleted}
    assert {str(a["id"]) for a in voided} <= set(whole.raw["allocations"]["id"])  # read, and left out on purpose


def test_a_payment_split_over_two_bills_is_two_payments(firm: Firm, whole: Run):
    parents = defaultdict(list)
    for a in firm.allocations:
        if a["parent"]["type"] == "Payment" and _live(a) and a["voided_at"] is None:
            parents[a["parent"]["id"]].append(a)
    split = [group for group in parents.values() if len(group) > 1]
    assert len(split) >= 2
    payments = whole.ledger["payments"].set_index("payment_key")
    for group in split:
        rows = payments.loc[[f"clio:allocation:{a['id']}" for a in group]]
        assert list(rows["invoice_key"]) == [f"clio:bill:{a['bill_id']}" for a in group]
        assert list(rows["amount"]) == [a["amount"] for a in group]
        assert rows["invoice_key"].nunique() == len(group)


def test_several_payments_on_one_invoice(whole: Run):
    counts = whole.ledger["payments"].groupby("invoice_key").size()
    assert (counts >= 2).sum() >= 3


def test_a_late_evening_payment_is_on_the_firms_day(firm: Firm, runs):
    evening = [
        a
        for a in firm.allocations
        if _live(a)
        and a["voided_at"] is None
        and a["parent"]["type"] == "Payment"
        and datetime.fromisoformat(a["created_at"]).astimezone(UTC).date().isoformat() != a["date"]
    ]
    assert len(evening) >= 3
    for allocation in evening:
        run = runs[SyncWindow(date.fromisoformat(allocation["date"]), date.fromisoformat(allocation["date"]), ZONE)]
        row = run.ledger["payments"].set_index("payment_key").loc[f"clio:allocation:{allocation['id']}"]
        assert row["date"] == allocation["date"] and row["day"] == allocation["date"]
        next_day = date.fromisoformat(allocation["date"]) + timedelta(days=1)
        later = runs[SyncWindow(next_day, next_day, ZONE)].ledger["payments"]
        assert set(later.loc[later["payment_key"] == f"clio:allocation:{allocation['id']}", "date"]) <= {
            allocation["date"]
        }


# ---- trust ----------------------------------------------------------------------------------------------------------
def test_trust_money_is_excluded_with_its_amounts_and_never_paid(firm: Firm, whole: Run):
    excluded = whole.ledger["excluded"].set_index("record_key")
    assert set(excluded["rule"]) == {"trust"}
    requests = [b for b in firm.bills if b["kind"] == "trust_kind" and str(b["id"]) in set(whole.raw["bills"]["id"])]
    assert len(requests) == 4
    for bill in requests:
        assert excluded.loc[f"clio:bill:{bill['id']}", "amount"] == bill["total"]
    trust = [
        a
        for a in firm.allocations
        if _live(a)
        and a["voided_at"] is None
        and TRUST_ID in (a["source_bank_account_id"], a["destination_bank_account_id"])
    ]
    from_trust = [a for a in trust if a["source_bank_account_id"] == TRUST_ID]
    assert len(trust) >= 6 and len(from_trust) >= 3
    for a in trust:
        assert excluded.loc[f"clio:allocation:{a['id']}", "amount"] == a["amount"]
    assert not _keyed(whole.ledger["payments"], "payment_key") & {a["id"] for a in trust}
    # a bill paid from trust: Clio calls it settled; the ledger lists only its other payments, the trust part excluded
    invoices = whole.ledger["invoices"].set_index("invoice_key")
    paid = whole.ledger["payments"].groupby("invoice_key")["amount"].apply(lambda s: sum(s, Decimal(0)))
    for a in from_trust:
        key = f"clio:bill:{a['bill_id']}"
        assert (
            invoices.loc[key, "total"] - paid.get(key, Decimal(0)) - firm.find("bills", a["bill_id"])["balance"]
            == (a["amount"])
        )


# ---- credit memos and refunds ---------------------------------------------------------------------------------------
def test_credit_memos_are_credit_notes_with_all_their_allocations(firm: Firm, whole: Run):
    notes = whole.ledger["credit_notes"].set_index("source_id")
    assert set(notes.index) == set(whole.raw["credit_memos"]["id"]) and len(notes) == len(firm.credit_memos)
    for memo in firm.credit_memos:
        note = notes.loc[str(memo["id"])]
        assert note["number"] == f"CM-{memo['id']}" and note["total"] == memo["amount"]
        assert note["tax_total"] == 0 and note["issue_date"] == memo["date"]
        assert note["status"] == ("deleted" if memo["voided_at"] else "open")
        assert note["contact_key"] == f"clio:contact:{memo['contact_id']}"
    allocations = whole.ledger["credit_allocations"]
    want = {
        a["id"]: (a["parent"]["id"], a["bill_id"], a["amount"])
        for a in firm.allocations
        if a["parent"]["type"] == "CreditMemo" and _live(a) and a["voided_at"] is None
    }
    got = {
        int(r["allocation_key"].rsplit(":", 1)[-1]): (
            int(r["credit_note_key"].rsplit(":", 1)[-1]),
            int(r["invoice_key"].rsplit(":", 1)[-1]),
            r["amount"],
        )
        for r in allocations.to_dict("records")
    }
    assert got == want and len(want) >= 4
    assert (allocations.groupby("credit_note_key").size() >= 2).any()  # one memo split over two bills
    assert "deleted" in set(notes["status"])


def test_a_refund_of_an_unapplied_credit_memo_comes_with_its_memo_in_every_window(firm: Firm, runs):
    refund = next(t for t in firm.bank_transactions if t["transaction_type"] == "Refund")
    memo = next(m for m in firm.credit_memos if m["_refunded"])
    for window in (WHOLE, *(w for w in DAYS if w.first.isoformat() in (memo["date"], refund["date"]))):
        ledger = runs[window].ledger
        row = ledger["refunds"].set_index("refund_key").loc[f"clio:refund:{refund['id']}"]
        assert row["credit_note_key"] == f"clio:credit_memo:{memo['id']}"
        assert row["amount"] == -refund["amount"] == memo["amount"] and row["date"] == refund["date"]
        assert f"clio:credit_memo:{memo['id']}" in set(ledger["credit_notes"]["credit_note_key"])


def test_a_credit_memo_in_a_window_comes_with_its_allocations(firm: Firm, runs):
    for window in DAYS:
        ledger = runs[window].ledger
        for key in ledger["credit_notes"]["credit_note_key"]:
            memo_id = int(key.rsplit(":", 1)[-1])
            want = {
                a["id"]
                for a in firm.allocations
                if (a["parent"]["type"], a["parent"]["id"]) == ("CreditMemo", memo_id)
                and _live(a)
                and a["voided_at"] is None
            }
            mine = ledger["credit_allocations"][ledger["credit_allocations"]["credit_note_key"] == key]
            assert _keyed(mine, "allocation_key") == want, (window.first, key)


# ---- lines: interest, taxes, no-charge -------------------------------------------------------------------------------
def test_an_interest_bill_is_one_interest_line_carrying_its_total(firm: Firm, whole: Run):
    interest = [b for b in firm.bills if b["interest"]["total"] > 0]
    assert len(interest) == 3
    lines = whole.ledger["lines"]
    for bill in interest:
        mine = lines[lines["invoice_key"] == f"clio:bill:{bill['id']}"]
        assert len(mine) == 1
        line = mine.iloc[0]
        assert line["description"] == "Interest" and line["item_code"] == "Interest"
        assert line["total"] == bill["total"] and line["tax"] == 0 and line["tax_name"] is None


def test_primary_and_secondary_taxes_are_named_by_slot_and_carried_in_the_line(firm: Firm, whole: Run):
    lines = whole.ledger["lines"].set_index("source_id")
    by_slot = defaultdict(int)
    for item in firm.line_items:
        if str(item["id"]) not in lines.index or item["type"] == "NoChargeLineItem":
            continue
        line = lines.loc[str(item["id"])]
        primary, secondary = item["taxable"], item["secondary_taxable"]
        name = "+".join(n for n, on in (("primary", primary), ("secondary", secondary)) if on) or None
        rate = (TAX_RATE if primary else 0) + (SECONDARY_TAX_RATE if secondary else 0)
        assert line["tax_name"] == name and line["tax_rate"] == rate
        assert line["tax"] == item["tax"] + item["secondary_tax"]
        assert line["total"] == item["total"] + item["tax"] + item["secondary_tax"]
        assert line["item_code"] == item["kind"]
        by_slot[name] += 1
    assert by_slot["primary"] and by_slot["secondary"] and by_slot["primary+secondary"] and by_slot[None]
    assert set(whole.ledger["lines"]["item_code"]) == {"Service", "Expense", "Interest"}


def test_a_no_charge_line_is_a_zero_line(firm: Firm, whole: Run):
    free = [i for i in firm.line_items if i["type"] == "NoChargeLineItem" and _live(i)]
    lines = whole.ledger["lines"].set_index("source_id")
    listed = [i for i in free if str(i["id"]) in lines.index]
    assert listed
    for item in listed:
        line = lines.loc[str(item["id"])]
        assert line["total"] == 0 and line["tax"] == 0 and line["unit_price"] == 0
        assert line["quantity"] == item["quantity"] and line["tax_name"] is None


# ---- contacts -------------------------------------------------------------------------------------------------------
def test_only_the_contacts_the_ledger_uses_persons_by_name_companies_by_their_name(firm: Firm, whole: Run):
    ledger = whole.ledger
    used = set(ledger["invoices"]["contact_key"]) | set(ledger["credit_notes"]["contact_key"])
    assert set(ledger["contacts"]["contact_key"]) == used
    for contact in ledger["contacts"].to_dict("records"):
        row = firm.find("contacts", int(contact["source_id"]))
        if row["type"] == "Company":
            assert contact["first_name"] is None and contact["last_name"] == row["name"]
        else:
            assert (contact["first_name"], contact["last_name"]) == (row["first_name"], row["last_name"])
        assert contact["email"] == row["primary_email_address"]
    assert {firm.find("contacts", int(c))["type"] for c in ledger["contacts"]["source_id"]} == {"Person", "Company"}
