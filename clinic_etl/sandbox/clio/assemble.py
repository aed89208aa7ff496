"""Turn the generated plans (bills, payments, credit memos) into the firm's rows, with ids and timestamps.

Ids grow with creation time within each resource (with small gaps, like a shared database sequence); bill
numbers are one sequence across revenue bills, trust requests and interest bills, never reused (deleted bills
keep theirs). A bill's `updated_at` is its last event: approval, sending, voiding, deletion, or any
allocation made, edited, voided or deleted on it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from clinic_etl.sandbox.clio import banking
from clinic_etl.sandbox.clio.billing import BillPlan
from clinic_etl.sandbox.clio.payments import AllocationPlan, MemoPlan, PaymentPlan
from clinic_etl.sandbox.clio.reference import (
    BILL_THEME_ID,
    BILLING_SETTING_ID,
    INTEREST_PERIOD,
    INTEREST_RATE,
    OPERATING_ID,
    SECONDARY_TAX_RATE,
    TAX_RATE,
    TRUST_ID,
    USD_ID,
    USERS,
)
from clinic_etl.sandbox.clio.wire import ZERO, stamp

FIRST_BILL_ID, FIRST_NUMBER = 1_870_245_001, 1001
FIRST_LINE_ID, FIRST_TRUST_LINE_ID, FIRST_INTEREST_ID = 3_904_112_001, 77_310_001, 9_120_001
FIRST_ALLOCATION_ID, FIRST_PAYMENT_ID, FIRST_MEMO_ID, FIRST_TRANSACTION_ID = (
    2_150_330_001,
    880_412_001,
    45_600_001,
    1_120_800_001,
)
_BILLING_CLERK = next(row[0] for row in USERS if "accounts" in row[5])


def _ids(rng: random.Random, start: int):
    current = start
    while True:
        yield current
        current += rng.choice((1, 1, 1, 2, 3))


def number_bills(rng: random.Random, plans: list[BillPlan]) -> list[BillPlan]:
    ordered = sorted(plans, key=lambda plan: plan.created)
    ids = _ids(rng, FIRST_BILL_ID)
    for number, plan in enumerate(ordered, start=FIRST_NUMBER):
        plan.id, plan.number = next(ids), str(number)
    return ordered


def bill_rows(rng: random.Random, plans: list[BillPlan], allocations: list[AllocationPlan]) -> dict[str, list]:
    touched: dict[int, list] = {}
    for allocation in allocations:
        touched.setdefault(allocation.bill.id, []).append(allocation.last_event)
    bills, lines, trust_lines, charges = [], [], [], []
    line_ids, trust_ids, charge_ids = (
        _ids(rng, FIRST_LINE_ID),
        _ids(rng, FIRST_TRUST_LINE_ID),
        _ids(rng, FIRST_INTEREST_ID),
    )
    for plan in plans:
        events = list(plan.events.values()) + touched.get(plan.id, [])
        created, updated = stamp(plan.created), stamp(max([plan.created, *events]))
        row = _bill(plan, created, updated)
        bills.append(row)
        hidden = stamp(plan.events["deleted"]) if plan.state == "deleted" else None
        for line in plan.lines:
            line.update({"id": next(line_ids), "bill_id": plan.id, "created_at": created,
                         "updated_at": hidden or created, "_deleted_at": hidden})  # fmt: skip
            lines.append(line)
        for line in plan.trust_lines:
            line.update({"id": next(trust_ids), "bill_id": plan.id, "created_at": created, "updated_at": created})
            trust_lines.append(line)
        if plan.interest is not None:
            charges.append({
                "id": next(charge_ids), "date": plan.day.isoformat(), "total": plan.interest,
                "description": f"Interest at {INTEREST_RATE}% on overdue bill #{plan.original.number}",
                "created_at": created, "updated_at": created, "bill_id": plan.id,
                "balances": [{"id": plan.matters[0]["id"], "amount": plan.interest, "type": "Matter",
                              "interest_amount": plan.interest, "due": plan.interest}],
            })  # fmt: skip
    return {"bills": bills, "line_items": lines, "trust_line_items": trust_lines, "interest_charges": charges}


def _bill(plan: BillPlan, created: str, updated: str) -> dict[str, Any]:
    state = {"issued": "awaiting_payment"}.get(plan.state, plan.state)
    matter = plan.matters[0]
    interest = {"balance": ZERO, "period": 30, "rate": ZERO, "total": ZERO, "type": "simple"}
    subject = None
    if plan.interest is not None:
        interest = {"balance": plan.interest, "period": INTEREST_PERIOD, "rate": INTEREST_RATE,
                    "total": plan.interest, "type": "simple"}  # fmt: skip
        subject = f"Interest on bill #{plan.original.number}"
    elif plan.kind == "trust_kind":
        subject = "Request for trust funds"
    return {
        "id": plan.id, "number": plan.number, "issued_at": plan.day.isoformat(), "created_at": created,
        "due_at": (plan.day + timedelta(days=30)).isoformat(),
        "tax_rate": TAX_RATE if plan.kind == "revenue_kind" else ZERO,
        "secondary_tax_rate": SECONDARY_TAX_RATE if plan.kind == "revenue_kind" else ZERO,
        "updated_at": updated, "subject": subject, "purchase_order": None, "type": plan.bill_type,
        "memo": None, "start_at": plan.start.isoformat() if plan.start else None,
        "end_at": plan.end.isoformat() if plan.end else None, "balance": ZERO, "state": state,
        "kind": plan.kind, "total": ZERO, "paid": ZERO, "paid_at": None, "pending": ZERO, "due": ZERO,
        "discount_services_only": None, "can_update": False, "credits_issued": ZERO, "shared": False,
        "last_sent_at": stamp(plan.events["sent"]) if "sent" in plan.events else None,
        "available_state_transitions": [],
        "user_id": matter["responsible_attorney_id"], "client_id": plan.client["id"],
        "matter_ids": [m["id"] for m in plan.matters], "currency_id": USD_ID,
        "billing_setting_id": BILLING_SETTING_ID, "bill_theme_id": BILL_THEME_ID,
        "destination_account_id": TRUST_ID if plan.kind == "trust_kind" else OPERATING_ID,
        "original_bill_id": plan.original.id if plan.original else None,
        "discount": {"rate": ZERO, "type": "percentage", "note": None, "early_payment_rate": 0,
                     "early_payment_period": 0},
        "interest": interest, "balances": [], "matter_totals": [], "group_id": None,
    }  # fmt: skip


def money_rows(
    rng: random.Random, payments: list[PaymentPlan], memos: list[MemoPlan]
) -> dict[str, list[dict[str, Any]]]:
    for payment_id, payment in zip(_ids(rng, FIRST_PAYMENT_ID), _by_time(payments), strict=False):
        payment.id = payment_id
    for memo_id, memo in zip(_ids(rng, FIRST_MEMO_ID), _by_time(memos), strict=False):
        memo.id = memo_id
    everything = [a for p in payments for a in p.allocations] + [a for m in memos for a in m.allocations]
    everything.sort(key=lambda a: (a.created, a.bill.id))
    allocations = []
    for allocation_id, allocation in zip(_ids(rng, FIRST_ALLOCATION_ID), everything, strict=False):
        allocation.id = allocation_id
        allocations.append(_allocation(allocation))
    transactions = banking.openings()
    for payment in sorted(payments, key=lambda p: p.created):
        transactions += _deposits(payment)
    for memo in memos:
        if memo.refunded:
            transactions.append(banking.transaction(
                OPERATING_ID, -memo.amount, "Refund", stamp(memo.refunded), memo.refunded.date().isoformat(),
                source="Check", confirmation=f"CHK-R{memo.id % 10000}", client_id=memo.client["id"],
                description=f"Refund of unapplied credit (credit memo {memo.id})",
            ))  # fmt: skip
    transactions.sort(key=lambda row: row["created_at"])
    for transaction_id, row in zip(_ids(rng, FIRST_TRANSACTION_ID), transactions, strict=False):
        row["id"] = transaction_id
    credit_memos = [_memo(memo) for memo in sorted(memos, key=lambda m: m.id)]
    return {"allocations": allocations, "credit_memos": credit_memos, "bank_transactions": transactions}


def _by_time(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: item.created)


def _allocation(allocation: AllocationPlan) -> dict[str, Any]:
    parent, bill = allocation.parent, allocation.bill
    is_payment = isinstance(parent, PaymentPlan)
    source = destination = None
    if is_payment:
        source = TRUST_ID if parent.source == "trust" else None
        destination = TRUST_ID if parent.destination == "trust" else OPERATING_ID
    created = stamp(allocation.created)
    return {
        "id": allocation.id, "date": allocation.day.isoformat(), "amount": allocation.amount,
        "interest": bill.interest is not None, "voided_at": stamp(allocation.voided) if allocation.voided else None,
        "created_at": created, "updated_at": stamp(allocation.last_event),
        "description": None if is_payment else parent.description,
        "has_online_payment": bool(is_payment and parent.online), "destroyable": True,
        "payment_type": parent.online if is_payment else None,
        "bill_id": bill.id, "matter_id": bill.matters[0]["id"] if bill.bill_type == "MatterBill" else None,
        "contact_id": bill.client["id"], "source_bank_account_id": source,
        "destination_bank_account_id": destination,
        "parent": {"id": parent.id, "type": "Payment" if is_payment else "CreditMemo",
                   "identifier": parent.confirmation if is_payment else parent.description,
                   "secondary_identifier": None, "tertiary_identifier": None},
        "_deleted_at": stamp(allocation.deleted) if allocation.deleted else None,
    }  # fmt: skip


def _deposits(payment: PaymentPlan) -> list[dict[str, Any]]:
    created = stamp(payment.created)
    gone = payment.voided or payment.deleted
    single = payment.allocations[0] if len(payment.allocations) == 1 else None
    links = {
        "confirmation": payment.confirmation, "source": payment.method, "client_id": payment.client["id"],
        "matter_id": single.bill.matters[0]["id"] if single else None, "bill_id": single.bill.id if single else None,
        "allocation_id": single.id if single else None, "online": payment.online is not None,
        "updated_at": stamp(payment.edited or gone or payment.created), "deleted_at": stamp(gone) if gone else None,
    }  # fmt: skip
    day, amount = payment.day.isoformat(), payment.amount
    if payment.destination == "trust":
        return [banking.transaction(TRUST_ID, amount, "Deposit", created, day,
                                    description="Trust deposit", **links)]  # fmt: skip
    if payment.source == "trust":
        return [
            banking.transaction(TRUST_ID, -amount, "Withdrawal", created, day,
                                description="Transfer to operating: bill payment", **dict(links)),
            banking.transaction(OPERATING_ID, amount, "Deposit", created, day,
                                description="Transfer from trust: bill payment", **dict(links)),
        ]  # fmt: skip
    return [banking.transaction(OPERATING_ID, amount, "Deposit", created, day, description="Payment received",
                                **links)]  # fmt: skip


def _memo(memo: MemoPlan) -> dict[str, Any]:
    events = [memo.created] + [a.last_event for a in memo.allocations] + [m for m in (memo.voided, memo.refunded) if m]
    return {
        "id": memo.id, "date": memo.day.isoformat(), "amount": memo.amount, "description": memo.description,
        "discount": memo.discount, "voided_at": stamp(memo.voided) if memo.voided else None,
        "created_at": stamp(memo.created), "updated_at": stamp(max(events)),
        "contact_id": memo.client["id"], "user_id": _BILLING_CLERK,
        "_refunded": memo.refunded is not None,
    }  # fmt: skip
