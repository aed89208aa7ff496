"""Payments, credit memos and what happened to them: the allocations that settle the bills.

Clio v4 has no payments endpoint: a payment shows as its allocations (one per bill it pays, sharing
`parent.id`), a credit memo likewise (FACTS §7). The cases, always present whatever the seed:
full and partial payments (several partials on some bills, one still open on others), payments split across
two bills, payments edited on a later day (upwards to paid, downwards back to open), a payment voided later
(`voided_at`; one re-paid afterwards), a payment deleted later (gone from the API), late-evening payments
(after 21:00 New York, the next day in UTC) dated on the firm's day, online (card / eCheck) payments,
trust requests paid into the trust account and bills paid from trust, credit memos applied in full, split
across bills, applied as a discount, voided, and one left unapplied and refunded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from clinic_etl.sandbox.clio.billing import BillPlan
from clinic_etl.sandbox.clio.days import evening_moment, later_working_day, office_moment
from clinic_etl.sandbox.clio.reference import INTEREST_RATE
from clinic_etl.sandbox.clio.wire import ZERO, cents, parse_stamp

_METHODS = ("Check", "Check", "ACH", "Wire", "Credit Card", "Cash")


@dataclass(eq=False)
class PaymentPlan:
    client: dict[str, Any]
    day: date
    created: datetime
    method: str
    confirmation: str
    source: str = "client"  # client | trust
    destination: str = "operating"  # operating | trust
    online: str | None = None  # "card" / "eCheck" for Clio Payments
    allocations: list[AllocationPlan] = field(default_factory=list)
    edited: datetime | None = None
    voided: datetime | None = None
    deleted: datetime | None = None
    id: int = 0

    @property
    def amount(self) -> Decimal:
        return sum((allocation.amount for allocation in self.allocations), ZERO)


@dataclass(eq=False)
class MemoPlan:
    client: dict[str, Any]
    day: date
    created: datetime
    amount: Decimal
    description: str
    discount: bool = False
    allocations: list[AllocationPlan] = field(default_factory=list)
    voided: datetime | None = None
    refunded: datetime | None = None
    id: int = 0


@dataclass(eq=False)
class AllocationPlan:
    bill: BillPlan
    amount: Decimal
    parent: PaymentPlan | MemoPlan
    day: date
    created: datetime
    updated: datetime | None = None
    voided: datetime | None = None
    deleted: datetime | None = None
    id: int = 0

    @property
    def valid(self) -> bool:
        return self.voided is None and self.deleted is None

    @property
    def last_event(self) -> datetime:
        return max(moment for moment in (self.created, self.updated, self.voided, self.deleted) if moment)


class Ledger:
    """What is still owed on each bill while cases are added, and the payments and memos made so far."""

    def __init__(self, rng: random.Random, bills: list[BillPlan], days: list[date]) -> None:
        self.rng, self.days = rng, days
        self.remaining = {bill: bill.due for bill in bills}
        self.reserved: set[BillPlan] = set()
        self.payments: list[PaymentPlan] = []
        self.memos: list[MemoPlan] = []
        self._confirmation = 10_480

    def fresh(self, before: date | None = None, after: date | None = None, kind: str = "revenue_kind") -> list:
        """Issued bills nobody has touched yet (untouched balance, not reserved by another case)."""
        return [
            bill
            for bill in self.remaining
            if bill.kind == kind
            and bill.state == "issued"
            and bill not in self.reserved
            and bill.due > 0
            and self.remaining[bill] == bill.due
            and (before is None or bill.day <= before)
            and (after is None or bill.day >= after)
        ]

    def pay(self, day: date, moment: datetime, parts: list[tuple[BillPlan, Decimal]], **options: Any) -> PaymentPlan:
        client = parts[0][0].client
        self._confirmation += self.rng.randint(1, 40)
        method = options.pop("method", None) or self.rng.choice(_METHODS)
        payment = PaymentPlan(client, day, moment, method, _confirmation(method, self._confirmation), **options)
        for bill, amount in parts:
            assert ZERO < amount <= self.remaining[bill], (bill.number, amount, self.remaining[bill])
            assert bill.client is client and bill.day <= day
            self.remaining[bill] -= amount
            payment.allocations.append(AllocationPlan(bill, amount, payment, day, moment))
            self.reserved.add(bill)
        self.payments.append(payment)
        return payment

    def credit(self, client: dict, day: date, moment: datetime, amount: Decimal, description: str,
               parts: list[tuple[BillPlan, Decimal]], discount: bool = False) -> MemoPlan:  # fmt: skip
        memo = MemoPlan(client, day, moment, amount, description, discount)
        for bill, part in parts:
            assert ZERO < part <= self.remaining[bill] and bill.client is client
            self.remaining[bill] -= part
            memo.allocations.append(AllocationPlan(bill, part, memo, day, moment))
            self.reserved.add(bill)
        self.memos.append(memo)
        return memo

    def undo(self, allocation: AllocationPlan) -> None:
        self.remaining[allocation.bill] += allocation.amount

    def after(self, day: date, low: int = 1, high: int = 6) -> date | None:
        following = later_working_day(self.rng, day, low, high)
        return following if following > day else None

    def moment(self, day: date) -> datetime:
        return office_moment(self.rng, day)


def _confirmation(method: str, number: int) -> str:
    prefix = {"Check": "CHK", "ACH": "ACH", "Wire": "FED", "Credit Card": "CC", "Cash": "RCPT"}.get(method, "REF")
    return f"{prefix}-{number}"


def _share(rng: random.Random, amount: Decimal, low: float = 0.3, high: float = 0.7) -> Decimal:
    return max(Decimal("0.01"), min(amount - Decimal("0.01"), cents(amount * Decimal(str(rng.uniform(low, high))))))


def plan_interest(ledger: Ledger, count: int = 3) -> list[BillPlan]:
    """The earliest issued bills stay unpaid past their due date; interest is charged on each as a bill of its
    own (no line items, the amount is the total), one of which is then paid."""
    charge_days = ledger.days[-5:-2]
    overdue = [b for b in ledger.fresh() if b.day + timedelta(days=30) < charge_days[0]]
    interest_bills = []
    for bill, day in zip(sorted(overdue, key=lambda b: b.created)[:count], charge_days, strict=False):
        ledger.reserved.add(bill)
        bill.tags.add("overdue")
        amount = cents(bill.due * INTEREST_RATE / 100)
        charge = BillPlan(office_moment(ledger.rng, day, 7, 9), bill.client, bill.matters, state="issued",
                          interest=amount, original=bill, start=bill.day, end=day)  # fmt: skip
        charge.events["approved"] = charge.created + timedelta(minutes=3)
        charge.tags.add("interest")
        ledger.remaining[charge] = amount
        ledger.reserved.add(charge)
        interest_bills.append(charge)
    if interest_bills:
        paid = interest_bills[0]
        day = ledger.days[-1]
        ledger.pay(day, ledger.moment(day), [(paid, paid.due)])
    return interest_bills


def plan_trust(ledger: Ledger, bills: list[BillPlan]) -> list[BillPlan]:
    """Trust requests (kind trust_kind, one trust line each) paid into the trust account; later bills of the
    same clients paid from trust (source: the trust account). One request stays unpaid."""
    rng, days = ledger.rng, ledger.days
    requests: list[BillPlan] = []
    candidates = [
        b
        for b in ledger.fresh(after=days[8], before=days[-3])
        if b.bill_type == "MatterBill" and parse_stamp(b.matters[0]["created_at"]).date() < days[0]
    ]
    clients_seen: set[int] = set()
    funded = []
    for bill in sorted(candidates, key=lambda b: b.created):
        if bill.client["id"] not in clients_seen and len(funded) < 3:
            clients_seen.add(bill.client["id"])
            funded.append(bill)
    for index, bill in enumerate(funded):
        ledger.reserved.add(bill)
        ask_day = days[max(0, days.index(bill.day) - rng.randint(4, 8))]
        # two requests cover the later bill in full, the third only part of it
        amount = (bill.due // 500 + 2) * 500 if index < 2 else Decimal(max(500, int(bill.due // 2 // 100) * 100))
        request = _trust_request(rng, bill.client, bill.matters[0], ask_day, Decimal(amount))
        requests.append(request)
        ledger.remaining[request] = request.due
        deposit_day = later_working_day(rng, ask_day, 1, 2, last=bill.day)
        deposit_day = deposit_day if deposit_day > ask_day else ask_day
        moment = ledger.moment(deposit_day)
        if deposit_day == ask_day:
            moment = request.created + timedelta(hours=1)
        ledger.pay(deposit_day, moment, [(request, request.due)], destination="trust", method="Wire")
        from_trust = min(bill.due, request.due)
        pay_day = ledger.after(bill.day, 1, 3) or bill.day
        ledger.pay(pay_day, ledger.moment(pay_day), [(bill, from_trust)], source="trust", method="Trust transfer")
        bill.tags.add("paid_from_trust")
        rest = ledger.remaining[bill]
        later = ledger.after(pay_day, 1, 4)
        if rest > 0 and later:
            ledger.pay(later, ledger.moment(later), [(bill, rest)], method="Check")
    unpaid_bill = next(
        b
        for b in bills
        if b.client["id"] not in clients_seen and parse_stamp(b.matters[0]["created_at"]).date() < days[0]
    )
    client, matter = unpaid_bill.client, unpaid_bill.matters[0]
    unpaid = _trust_request(rng, client, matter, days[-6], Decimal("5000.00"))
    requests.append(unpaid)
    ledger.remaining[unpaid] = unpaid.due
    return requests


def _trust_request(rng: random.Random, client: dict, matter: dict, day: date, amount: Decimal) -> BillPlan:
    request = BillPlan(office_moment(rng, day), client, [matter], kind="trust_kind", state="issued",
                       start=day, end=day)  # fmt: skip
    request.events["approved"] = request.created + timedelta(minutes=rng.randint(2, 20))
    request.events["sent"] = request.events["approved"] + timedelta(minutes=1)
    request.trust_lines = [{"id": 0, "date": day.isoformat(), "total": amount, "note": "Retainer deposit",
                            "matter_id": matter["id"], "client_id": client["id"]}]  # fmt: skip
    request.tags.add("trust_request")
    return request


def plan_special_payments(ledger: Ledger) -> None:
    """Split, edited, voided and deleted payments, partials, and late-evening payments."""
    rng, days = ledger.rng, ledger.days
    last_ok = days[-4]
    # one payment split across two bills of one client (twice)
    by_client: dict[int, list[BillPlan]] = {}
    for bill in ledger.fresh(before=last_ok):
        by_client.setdefault(bill.client["id"], []).append(bill)
    pairs = [sorted(group, key=lambda b: b.created)[:2] for group in by_client.values() if len(group) >= 2]
    for first, second in rng.sample(pairs, 2):
        day = ledger.after(max(first.day, second.day), 1, 5)
        if day:
            ledger.pay(day, ledger.moment(day), [(first, first.due), (second, _share(rng, second.due))])
            first.tags.add("split")
            second.tags.add("split")
    fresh = sorted(ledger.fresh(before=last_ok), key=lambda b: b.created)
    rng.shuffle(fresh)
    picks = iter(fresh)
    # edited upwards (partial -> paid) and downwards (paid -> partial), on a later day
    for upward in (True, False):
        bill = next(picks)
        day = ledger.after(bill.day, 1, 4)
        start = _share(rng, bill.due, 0.4, 0.8) if upward else bill.due
        payment = ledger.pay(day, ledger.moment(day), [(bill, start)])
        final = bill.due if upward else _share(rng, bill.due, 0.4, 0.8)
        edit_day = ledger.after(day, 1, 4) or day
        edit = ledger.moment(edit_day) if edit_day > day else payment.created + timedelta(hours=1)
        allocation = payment.allocations[0]
        ledger.remaining[bill] += allocation.amount - final
        allocation.amount, allocation.updated, payment.edited = final, edit, edit
        bill.tags.add("payment_edited")
    # voided later (one of them paid again afterwards), deleted later
    for action in ("void_then_repay", "void", "delete"):
        bill = next(picks)
        day = ledger.after(bill.day, 1, 4)
        payment = ledger.pay(day, ledger.moment(day), [(bill, bill.due)], method="Check")
        undo_day = ledger.after(day, 1, 3) or day
        undo = ledger.moment(undo_day) if undo_day > day else payment.created + timedelta(hours=2)
        allocation = payment.allocations[0]
        ledger.undo(allocation)
        if action == "delete":
            allocation.deleted = payment.deleted = undo
            bill.tags.add("payment_deleted")
        else:
            allocation.voided = payment.voided = undo
            bill.tags.add("payment_voided")
        if action == "void_then_repay":
            again = ledger.after(undo.date(), 1, 3)
            if again:
                ledger.pay(again, ledger.moment(again), [(bill, bill.due)], method="Wire")
    # several partial payments ending paid; one partial left open
    for _ in range(3):
        bill = next(picks)
        first_day = ledger.after(bill.day, 1, 3)
        part = _share(rng, bill.due)
        ledger.pay(first_day, ledger.moment(first_day), [(bill, part)])
        second_day = ledger.after(first_day, 1, 5)
        if second_day:
            ledger.pay(second_day, ledger.moment(second_day), [(bill, bill.due - part)])
        bill.tags.add("partial")
    for _ in range(3):
        bill = next(picks)
        day = ledger.after(bill.day, 1, 5)
        ledger.pay(day, ledger.moment(day), [(bill, _share(rng, bill.due))])
        bill.tags.add("partial_open")
    # late-evening payments, dated on the firm's (New York) day; one on the last day, one after DST ends
    evening_days = [days[len(days) // 2], next(d for d in days if d.month == 11 and d.day >= 2), days[-1]]
    for day in evening_days:
        bill = next(b for b in picks if b.day < day)
        ledger.pay(day, evening_moment(rng, day), [(bill, bill.due)], method="Credit Card", online="card")
        bill.tags.add("evening_payment")


def plan_credit_memos(ledger: Ledger) -> None:
    rng, days = ledger.rng, ledger.days
    fresh = ledger.fresh(before=days[-4])
    rng.shuffle(fresh)
    picks = iter(fresh)
    bill = next(picks)  # applied in full
    day = ledger.after(bill.day, 1, 5)
    ledger.credit(bill.client, day, ledger.moment(day), bill.due, "Write-off of disputed hours", [(bill, bill.due)])
    bill.tags.add("credited")
    by_client: dict[int, list[BillPlan]] = {}
    for candidate in picks:
        by_client.setdefault(candidate.client["id"], []).append(candidate)
    first, second = next(group for group in by_client.values() if len(group) >= 2)[:2]
    day = ledger.after(max(first.day, second.day), 1, 4)
    parts = [(first, _share(rng, first.due, 0.1, 0.3)), (second, _share(rng, second.due, 0.1, 0.3))]
    total = sum((part for _, part in parts), ZERO)
    ledger.credit(first.client, day, ledger.moment(day), total, "Credit for duplicated disbursements", parts)
    first.tags.add("credited")
    second.tags.add("credited")
    remaining = [b for group in by_client.values() for b in group if b not in (first, second)]
    discount_bill, voided_bill = remaining[0], remaining[1]
    day = ledger.after(discount_bill.day, 1, 3) or discount_bill.day
    amount = cents(discount_bill.due * Decimal("0.10"))
    ledger.credit(discount_bill.client, day, ledger.moment(day), amount, "10% courtesy discount",
                  [(discount_bill, amount)], discount=True)  # fmt: skip
    discount_bill.tags.add("credited")
    day = ledger.after(voided_bill.day, 1, 3)
    part = _share(rng, voided_bill.due, 0.2, 0.5)
    memo = ledger.credit(voided_bill.client, day, ledger.moment(day), part, "Credit issued in error",
                         [(voided_bill, part)])  # fmt: skip
    undo_day = ledger.after(day, 1, 3) or day
    memo.voided = memo.allocations[0].voided = ledger.moment(undo_day) if undo_day > day else memo.created
    ledger.undo(memo.allocations[0])
    voided_bill.tags.add("credit_voided")
    # unapplied credit, refunded to the client a few days later
    client = remaining[2].client
    day = days[len(days) // 2]
    memo = ledger.credit(client, day, ledger.moment(day), Decimal("350.00"), "Overpayment — retainer balance", [])
    refund_day = ledger.after(day, 2, 5)
    memo.refunded = ledger.moment(refund_day)


def plan_ordinary_payments(ledger: Ledger) -> None:
    """The other issued bills: ~50 % paid in full some days after issue, ~10 % partly, the rest open."""
    rng = ledger.rng
    for bill in sorted(ledger.fresh(before=ledger.days[-2]), key=lambda b: b.created):
        roll = rng.random()
        day = ledger.after(bill.day, 1, 12)
        if day is None or roll >= 0.6:
            continue
        evening = rng.random() < 0.06
        moment = evening_moment(rng, day) if evening else ledger.moment(day)
        online = rng.choice(("card", "eCheck")) if rng.random() < 0.08 else None
        method = {"card": "Credit Card", "eCheck": "ACH"}.get(online or "")
        amount = bill.due if roll < 0.5 else _share(rng, bill.due)
        ledger.pay(day, moment, [(bill, amount)], online=online, method=method)
