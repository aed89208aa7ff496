"""The mapping's rules on what reaches Xero: each record kept out is listed in `excluded` under the rule's name with its
amount, and takes its lines, payments and credit allocations with it."""

from __future__ import annotations

from datetime import date

from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Rules
from clinic_etl_tests.pipeline.handmade import DAY, D, ledger


def frames():
    return ledger(
        [("1", "1", DAY, "110.00"), ("2", "2", DAY, "50.00")],
        statuses={"2": "draft"},
        credit_notes=[("7", "2", "10.00", "open")],
        allocations=[("3", "7", "2", DAY, "10.00")],
    )


def test_no_rule_keeps_everything():
    out = apply_rules(frames(), Rules())
    assert len(out["invoices"]) == 2 and len(out["payments"]) == 2 and out["excluded"].empty


def test_only_approved_keeps_drafts_out_with_their_lines_payments_and_credit():
    out = apply_rules(frames(), Rules(only_approved=True))
    assert list(out["invoices"]["invoice_key"]) == ["test:bill:1"]
    assert set(out["lines"]["invoice_key"]) == {"test:bill:1"}
    assert list(out["payments"]["payment_key"]) == ["test:allocation:1"]
    assert out["credit_allocations"].empty
    assert out["excluded"][["record_key", "rule", "amount"]].values.tolist() == [
        ["test:bill:2", "only_approved", D("110.00")]
    ]


def test_issue_date_range():
    assert len(apply_rules(frames(), Rules(issued_from=date(2026, 10, 14)))["invoices"]) == 2
    out = apply_rules(frames(), Rules(issued_until=date(2026, 10, 13)))
    assert out["invoices"].empty and out["payments"].empty
    assert set(out["excluded"]["rule"]) == {"issue_date_range"} and len(out["excluded"]) == 2


def test_payments_off_lists_them_as_excluded_and_leaves_them_to_the_xero_frames():
    out = apply_rules(frames(), Rules(sync_payments=False))
    assert len(out["payments"]) == 2  # the Xero frames hold them, so Xero's payments stay as they are
    assert sorted(out["excluded"]["record_key"]) == ["test:allocation:1", "test:allocation:2"]
    assert set(out["excluded"]["rule"]) == {"payments_off"}
