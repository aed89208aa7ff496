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


def test_only_paid_zero_totals_bill_to_item_codes_businesses_and_practitioners():
    from clinic_etl.mapping import Filters

    base = frames()
    base["invoices"]["bill_to"] = base["invoices"]["bill_to"].astype(object)
    base["invoices"].loc[0, "bill_to"] = "ACME Health Insurance\\nPO Box 1"
    base["invoices"].loc[1, "business_id"], base["invoices"].loc[1, "practitioner_id"] = "b2", "p2"
    base["lines"].loc[1, "item_code"] = "WC-1"

    base["invoices"].loc[0, "status"] = "paid"

    def kept(rules=None, filters=None):
        out = apply_rules(base, rules or Rules(), filters)
        excluded = dict(zip(out["excluded"]["record_key"], out["excluded"]["rule"], strict=True))
        return list(out["invoices"]["invoice_key"]), excluded

    assert kept(Rules(only_paid=True)) == (["test:bill:1"], {"test:bill:2": "only_paid"})  # bill 2 is a draft
    assert kept(Rules(skip_bill_to=r"insur")) == (["test:bill:2"], {"test:bill:1": "bill_to"})
    assert kept(Rules(skip_bill_to=r"medicare")) == (["test:bill:1", "test:bill:2"], {})
    assert kept(Rules(skip_item_codes=["WC-1"])) == (["test:bill:1"], {"test:bill:2": "item_code"})
    assert kept(filters=Filters(businesses=["b2"])) == (["test:bill:2"], {"test:bill:1": "businesses"})
    assert kept(filters=Filters(practitioners=["p1"])) == (
        [],
        {"test:bill:1": "practitioners", "test:bill:2": "practitioners"},
    )
    zero = frames()
    zero["invoices"].loc[0, "total"] = D("0.00")
    out = apply_rules(zero, Rules(skip_zero_total=True))
    assert list(out["excluded"]["rule"]) == ["zero_total"] and list(out["excluded"]["amount"]) == [D("0.00")]


def test_a_bad_pattern_is_refused_when_the_mapping_loads():
    import pytest
    from pydantic import ValidationError

    from clinic_etl.mapping import Mapping

    with pytest.raises(ValidationError, match="rules.skip_bill_to is not a valid regular expression"):
        Mapping(rules=Rules(skip_bill_to="(unclosed"))
