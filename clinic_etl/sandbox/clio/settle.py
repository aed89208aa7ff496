"""Derive every bill's money and state from its lines and allocations (also after a test edits the firm).

`settle(firm)` recomputes, per bill: the line-derived totals (money.py), `paid` / `credits_issued` from the
valid allocations (not voided, not deleted), `balance`, `paid_at` (the last valid payment's time), the state
of an issued bill (paid when nothing is owed, else awaiting_payment), `balances`, `matter_totals`,
`can_update` and `available_state_transitions`. A void or deleted bill owes nothing (balance 0, unverified).
It never touches `updated_at`: whoever changes a record sets that.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio.money import bill_totals, trust_totals
from clinic_etl.sandbox.clio.wire import ZERO, parse_stamp

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm

# Unverified: the spec lists the field but not its values; these follow the documented states.
TRANSITIONS = {
    "draft": ["awaiting_approval", "awaiting_payment", "deleted"],
    "awaiting_approval": ["draft", "awaiting_payment", "deleted"],
    "awaiting_payment": ["draft", "void"],
    "paid": [],
    "void": ["deleted"],
    "deleted": [],
}


def live(row: dict[str, Any]) -> bool:
    """Not deleted (an internal `_deleted_at` marks a record removed from the API)."""
    return not row.get("_deleted_at")


def valid_allocation(row: dict[str, Any]) -> bool:
    return live(row) and row.get("voided_at") is None


def settle(firm: Firm) -> None:
    lines_of: dict[int, list[dict]] = {}
    for line in firm.line_items:  # a deleted bill's lines leave the API with it but still make its total
        lines_of.setdefault(line["bill_id"], []).append(line)
    trust_of: dict[int, list[dict]] = {}
    for line in firm.trust_line_items:
        if live(line):
            trust_of.setdefault(line["bill_id"], []).append(line)
    allocations_of: dict[int, list[dict]] = {}
    for allocation in firm.allocations:
        if valid_allocation(allocation):
            allocations_of.setdefault(allocation["bill_id"], []).append(allocation)
    for bill in firm.bills:
        lines = [line for line in lines_of.get(bill["id"], []) if live(line) or bill["state"] == "deleted"]
        settle_bill(bill, lines, trust_of.get(bill["id"], []), allocations_of.get(bill["id"], []))


def settle_bill(bill: dict, lines: list[dict], trust_lines: list[dict], allocations: list[dict]) -> None:
    totals = trust_totals(trust_lines) if bill["kind"] == "trust_kind" else bill_totals(bill, lines)
    bill.update(totals)
    payments = [a for a in allocations if a["parent"]["type"] == "Payment"]
    paid = sum((Decimal(a["amount"]) for a in payments), ZERO)
    credits = sum((Decimal(a["amount"]) for a in allocations if a["parent"]["type"] == "CreditMemo"), ZERO)
    open_state = bill["state"] not in ("void", "deleted")
    balance = totals["due"] - paid - credits if open_state else ZERO
    bill.update({"paid": paid, "credits_issued": credits, "balance": balance, "pending": ZERO})
    last = max(payments, key=lambda a: parse_stamp(a["created_at"]), default=None)
    bill["paid_at"] = last["created_at"] if last else None
    if bill["state"] in ("awaiting_payment", "paid"):
        bill["state"] = "paid" if balance == 0 else "awaiting_payment"
    interest = bill.get("interest") or {}
    if Decimal(interest.get("total") or 0) > 0:
        interest["balance"] = balance
    bill["can_update"] = bill["state"] in ("draft", "awaiting_approval")
    bill["available_state_transitions"] = list(TRANSITIONS.get(bill["state"], []))
    interest_part = balance if Decimal(interest.get("total") or 0) > 0 else ZERO
    if bill["type"] == "ClientBill":
        bill["balances"] = [_balance(bill["client_id"], "Client", balance, interest_part)]
    else:
        bill["balances"] = [_balance(bill["matter_ids"][0], "Matter", balance, interest_part)]
    bill["matter_totals"] = _matter_totals(bill, lines, trust_lines)


def _balance(owner: int, kind: str, balance: Decimal, interest: Decimal) -> dict[str, Any]:
    return {"id": owner, "amount": balance, "type": kind, "interest_amount": interest, "due": balance}


def _matter_totals(bill: dict, lines: list[dict], trust_lines: list[dict]) -> list[dict[str, Any]]:
    amounts = dict.fromkeys(bill["matter_ids"], ZERO)
    for line in lines:
        amounts[line["matter_id"]] += line["total"] + line["tax"] + line["secondary_tax"]
    for line in trust_lines:
        amounts[line["matter_id"]] += Decimal(line["total"])
    interest = Decimal((bill.get("interest") or {}).get("total") or 0)
    if interest and bill["matter_ids"]:
        amounts[bill["matter_ids"][0]] += interest
    return [{"id": matter_id, "amount": amount} for matter_id, amount in amounts.items()]
