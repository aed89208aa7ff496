"""Clio allocations -> ledger payments, credit allocations, or records kept out of Xero (pure, one at a time).

Clio v4 has no payments: a payment is its allocations (one per bill it pays, sharing `parent.id`), a credit memo's
application likewise (FACTS §7). Each allocation is its own ledger record, keyed `clio:allocation:<id>`:
- voided (`voided_at` set): not live, so not listed; the ledger lists every live payment of its invoices, and a
  payment Xero holds that is no longer listed is taken off there (a deleted allocation is simply gone from the API);
- parent Payment -> a payment on its bill, dated on its `date` (the firm's day the money was received, whatever
  the UTC time it was entered: a 22:30 New York payment is that New York day's);
- parent CreditMemo -> a credit allocation of the credit memo to the bill;
- trust money (rule `trust`): an allocation out of a trust bank account (`source_bank_account` of type Trust), into
  one (`destination_bank_account`), or on a trust request is kept out of Xero and listed in `excluded` with its
  amount (firms post trust to the books by journal, FACTS §7);
- a live allocation on a void or deleted bill (rule `removed_bill`) or of a voided credit memo (rule
  `removed_credit_memo`) is listed in `excluded`: it is not money to apply to a document Xero voids;
- a payment on a bill the extract does not hold (changed again after the window) belongs to that bill's run: it is
  listed with the bill, with all its other payments, in the run of the bill's latest change. A credit allocation is
  listed with its credit memo even where its bill is not in the run (the invoice is Xero's from an earlier run).
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic_etl.sources.clio.records import REMOVED_BILL, REMOVED_CREDIT_MEMO, TRUST

PAYMENT, CREDIT, EXCLUDED, CONTEXT, VOIDED = "payment", "credit", "excluded", "context", "voided"


@dataclass(frozen=True)
class Fate:
    """What an allocation becomes: PAYMENT, CREDIT, EXCLUDED (with its rule), CONTEXT (another run's), VOIDED; or a
    `problem` that rejects it."""

    kind: str
    rule: str | None = None
    problem: str | None = None


def account_problem(allocation: dict, accounts: dict[str, str], rejected_accounts: set[str]) -> str | None:
    """An allocation whose bank account the extract cannot tell as trust or operating is rejected."""
    for side in ("source_bank_account_id", "destination_bank_account_id"):
        account = allocation.get(side)
        if account is None or account in accounts:
            continue
        if account in rejected_accounts:
            return f"{side.removesuffix('_id')} {account} was rejected, so trust cannot be told from operating"
        return f"{side.removesuffix('_id')} {account} is not one of the firm's bank accounts in the extract"
    return None


def is_trust_money(allocation: dict, accounts: dict[str, str]) -> bool:
    return any(
        accounts.get(allocation.get(s) or "") == "trust"
        for s in ("source_bank_account_id", "destination_bank_account_id")
    )


def fate_of(
    allocation: dict,
    *,
    bill: dict | None,
    bill_status: str | None,
    trust_request: bool,
    memo: dict | None,
    accounts: dict[str, str],
    rejected_accounts: set[str],
) -> Fate:
    """`bill`: its bill as validated (None when not in the extract or rejected by its schema); `bill_status` its ledger
    status; `memo`: for a credit allocation, its credit memo as validated (None when absent or rejected)."""
    if allocation.get("voided_at"):
        return Fate(VOIDED)
    if problem := account_problem(allocation, accounts, rejected_accounts):
        return Fate(EXCLUDED, problem=problem)
    credit = allocation["parent_type"] == "CreditMemo"
    if credit and memo is None:
        return Fate(CREDIT, problem=f"its credit memo {allocation['parent_id']} is not in the extract")
    if trust_request or is_trust_money(allocation, accounts):
        return Fate(EXCLUDED, TRUST)
    if credit and memo is not None and memo.get("voided_at"):
        return Fate(EXCLUDED, REMOVED_CREDIT_MEMO)
    if bill is None:
        return Fate(CREDIT) if credit else Fate(CONTEXT)
    if bill_status == "deleted":
        return Fate(EXCLUDED, REMOVED_BILL)
    return Fate(CREDIT if credit else PAYMENT)
