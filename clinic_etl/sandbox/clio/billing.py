"""Bills and their line items over the window: who, when, what, and which state they end in.

Bills are created in office hours (New York) on every working day, most for one matter (MatterBill), some
for two matters of one client (ClientBill). Hourly matters bill attorneys' and paralegals' time (hours in
tenths) and disbursements; flat-fee matters bill one flat line. Drafts and bills awaiting approval are
recent; a few bills are voided, or deleted (one on the day it was raised, one after it had been issued).
Ids and numbers are given later, in creation order across all bills (revenue, trust requests, interest).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from clinic_etl.sandbox.clio import names
from clinic_etl.sandbox.clio.days import later_working_day, office_moment
from clinic_etl.sandbox.clio.money import line_amounts
from clinic_etl.sandbox.clio.reference import SECONDARY_TAX_RATE, TAX_RATE, USERS
from clinic_etl.sandbox.clio.wire import ZERO, parse_stamp

_RATES = {row[0]: Decimal(row[4]) for row in USERS}
_PARALEGAL = next(row[0] for row in USERS if row[3] == "NonAttorney" and row[4] != "0")
_FLAT_FEES = ("1500.00", "2250.00", "3500.00", "950.00")


@dataclass(eq=False)
class BillPlan:
    """A bill being generated (rows are rendered from it at the end)."""

    created: datetime
    client: dict[str, Any]
    matters: list[dict[str, Any]]
    kind: str = "revenue_kind"
    lines: list[dict[str, Any]] = field(default_factory=list)
    trust_lines: list[dict[str, Any]] = field(default_factory=list)
    state: str = "issued"  # draft | awaiting_approval | issued | void | deleted
    events: dict[str, datetime] = field(default_factory=dict)  # approved, sent, voided, deleted
    tags: set[str] = field(default_factory=set)
    interest: Decimal | None = None
    original: BillPlan | None = None
    taxed: bool = False
    start: date | None = None
    end: date | None = None
    id: int = 0
    number: str = ""

    @property
    def day(self) -> date:
        return self.created.date()

    @property
    def bill_type(self) -> str:
        return "ClientBill" if len(self.matters) > 1 else "MatterBill"

    @property
    def due(self) -> Decimal:
        if self.interest is not None:
            return self.interest
        if self.kind == "trust_kind":
            return sum((Decimal(row["total"]) for row in self.trust_lines), ZERO)
        return sum((row["total"] + row["tax"] + row["secondary_tax"] for row in self.lines), ZERO)

    @property
    def issued(self) -> bool:
        return self.state in ("issued", "void") or (self.state == "deleted" and "approved" in self.events)


def _service(rng: random.Random, matter: dict, day: date, user_id: int) -> dict[str, Any]:
    hours = Decimal(rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 25, 35, 42))) / 10
    return _line("ActivityLineItem", "Service", rng.choice(names.SERVICES), _RATES[user_id], hours, day,
                 matter, user_id)  # fmt: skip


def _expense(rng: random.Random, matter: dict, day: date) -> dict[str, Any]:
    text, price, quantities = rng.choice(names.EXPENSES)
    user_id = matter["responsible_attorney_id"]
    return _line("ActivityLineItem", "Expense", text, Decimal(price), Decimal(rng.choice(quantities)), day,
                 matter, user_id)  # fmt: skip


def _line(kind_type: str, kind: str, text: str, price: Decimal, quantity: Decimal, day: date, matter: dict,
          user_id: int) -> dict[str, Any]:  # fmt: skip
    return {
        "id": 0, "type": kind_type, "kind": kind, "description": text, "note": None, "date": day.isoformat(),
        "price": price, "quantity": quantity, "sub_total": ZERO, "tax": ZERO, "secondary_tax": ZERO,
        "total": ZERO, "taxable": False, "secondary_taxable": False, "group_ordering": 0,
        "created_at": "", "updated_at": "", "bill_id": 0, "matter_id": matter["id"], "user_id": user_id,
        "activity_id": None, "discount": None, "included_line_item_totals": None,
    }  # fmt: skip


def _lines_for(rng: random.Random, matter: dict, start: date, end: date) -> list[dict[str, Any]]:
    span = max(0, (end - start).days)

    def when() -> date:
        return start + timedelta(days=rng.randint(0, span))

    if matter["billing_method"] == "flat":
        flat = _line("ActivityLineItem", "Service", f"Flat fee — {matter['description']}",
                     Decimal(rng.choice(_FLAT_FEES)), Decimal(1), when(), matter,
                     matter["responsible_attorney_id"])  # fmt: skip
        lines = [flat]
    else:
        staff = [matter["responsible_attorney_id"], _PARALEGAL]
        lines = [_service(rng, matter, when(), rng.choice(staff)) for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.12:
            lines[-1]["type"] = "NoChargeLineItem"
            lines[-1]["description"] = "Courtesy call — no charge"
        if rng.random() < 0.1:
            lines[0]["type"] = "LineItem"  # added by hand on the bill, not from a time entry
        if rng.random() < 0.08:
            lines[0]["discount"] = {"rate": Decimal(rng.choice(("10", "15"))), "type": "percentage",
                                    "note": "Professional courtesy", "early_payment_rate": 0,
                                    "early_payment_period": 0}  # fmt: skip
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        lines.append(_expense(rng, matter, when()))
    return lines


def draft_day(rng: random.Random, day: date, pool: list[tuple[dict, list[dict]]]) -> list[BillPlan]:
    """3-6 revenue bills of one day; `pool` holds (client, open matters) that may be billed."""
    plans = []
    moments = sorted(office_moment(rng, day) for _ in range(rng.randint(3, 6)))
    for moment in moments:
        eligible = [(c, ms) for c, ms in pool if all(parse_stamp(m["created_at"]) < moment for m in ms)]
        client, matters = rng.choice(eligible)
        chosen = rng.sample(matters, 2) if len(matters) > 1 and rng.random() < 0.3 else [rng.choice(matters)]
        plans.append(_plan(rng, moment, client, chosen))
    return plans


def _plan(rng: random.Random, moment: datetime, client: dict, matters: list[dict]) -> BillPlan:
    end = moment.date() - timedelta(days=1)
    start = end - timedelta(days=rng.randint(13, 34))
    plan = BillPlan(moment, client, sorted(matters, key=lambda m: m["id"]), start=start, end=end)
    plan.lines = [line for matter in plan.matters for line in _lines_for(rng, matter, start, end)]
    plan.taxed = rng.random() < 0.4
    if plan.taxed:
        secondary = rng.random() < 0.35
        for line in plan.lines:
            line["taxable"] = line["kind"] == "Expense" or rng.random() < 0.5
            line["secondary_taxable"] = secondary and line["kind"] == "Service"
    price_lines(plan)
    return plan


def price_lines(plan: BillPlan) -> None:
    for order, line in enumerate(plan.lines, start=1):
        amounts = line_amounts(line, TAX_RATE, SECONDARY_TAX_RATE)
        line.update({"sub_total": amounts.sub_total, "total": amounts.total, "tax": amounts.tax,
                     "secondary_tax": amounts.secondary_tax, "group_ordering": order})  # fmt: skip


def assign_states(rng: random.Random, plans: list[BillPlan], days: list[date]) -> None:
    """Final states: recent drafts / awaiting approval, ~4 % void, ~3 % deleted (at least two of each),
    the rest issued (approved the same day, most sent too). Issued bills end paid or awaiting payment
    depending on their allocations (see payments)."""
    recent = set(days[-8:])
    for plan in plans:
        roll = rng.random()
        if plan.day in recent and roll < 0.3:
            plan.state = "draft"
        elif plan.day in recent and roll < 0.5:
            plan.state = "awaiting_approval"
    issued = [plan for plan in plans if plan.state == "issued" and plan.day < days[-3]]
    doomed = rng.sample(issued, max(2, round(len(plans) * 0.03)) + max(2, round(len(plans) * 0.04)))
    half = max(2, round(len(plans) * 0.03))
    for plan in doomed[:half]:
        plan.state = "deleted"
    for plan in doomed[half:]:
        plan.state = "void"
    for state in ("draft", "awaiting_approval"):
        while sum(plan.state == state for plan in plans) < 2:
            rng.choice([p for p in plans if p.state == "issued" and p.day in recent]).state = state
    for plan in plans:
        if plan.state in ("issued", "void", "deleted"):
            plan.events["approved"] = plan.created + timedelta(minutes=rng.randint(5, 120))
            if rng.random() < 0.8:
                plan.events["sent"] = plan.events["approved"] + timedelta(minutes=rng.randint(1, 30))
    deleted = [plan for plan in plans if plan.state == "deleted"]
    for index, plan in enumerate(deleted):
        if index % 2 == 0:  # deleted the day it was raised, before anyone approved it
            plan.events.pop("approved", None)
            plan.events.pop("sent", None)
            plan.events["deleted"] = plan.created + timedelta(minutes=rng.randint(10, 90))
        else:  # issued, seen by a sync, then deleted on a later day
            plan.events["deleted"] = office_moment(rng, later_working_day(rng, plan.day, 1, 6))
    for plan in plans:
        if plan.state == "void":
            plan.events["voided"] = office_moment(rng, later_working_day(rng, plan.day, 1, 8))
