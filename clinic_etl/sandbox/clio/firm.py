"""The synthetic law firm the simulator serves: a deterministic function of a seed.

Rows are stored close to Clio's JSON shape (money as `Decimal`, date-times as ISO-8601 strings with the
firm's offset, dates as `YYYY-MM-DD`) except that relations are plain ids (`client_id`, `matter_ids`,
`bill_id`, ...) which the renderer resolves into nested records on request; keys starting with `_` are
internal and never served (`_deleted_at` marks a record deleted from the API). Tests may edit the lists
directly; `firm.recompute()` re-derives the bills' money and state from their lines and allocations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from clinic_etl.sandbox.clio import reference
from clinic_etl.sandbox.clio.assemble import bill_rows, money_rows, number_bills
from clinic_etl.sandbox.clio.billing import BillPlan, _plan, assign_states, draft_day
from clinic_etl.sandbox.clio.days import office_moment, working_days
from clinic_etl.sandbox.clio.matters import close_matter, make_matters
from clinic_etl.sandbox.clio.payments import (
    Ledger,
    plan_credit_memos,
    plan_interest,
    plan_ordinary_payments,
    plan_special_payments,
    plan_trust,
)
from clinic_etl.sandbox.clio.people import Specials, make_contacts
from clinic_etl.sandbox.clio.settle import settle
from clinic_etl.sandbox.clio.wire import parse_stamp

Rows = list[dict[str, Any]]


@dataclass
class Firm:
    users: Rows = field(default_factory=list)
    practice_areas: Rows = field(default_factory=list)
    currencies: Rows = field(default_factory=list)
    billing_settings: Rows = field(default_factory=list)
    bill_themes: Rows = field(default_factory=list)
    bank_accounts: Rows = field(default_factory=list)
    contacts: Rows = field(default_factory=list)
    matters: Rows = field(default_factory=list)
    bills: Rows = field(default_factory=list)
    line_items: Rows = field(default_factory=list)
    trust_line_items: Rows = field(default_factory=list)
    interest_charges: Rows = field(default_factory=list)
    allocations: Rows = field(default_factory=list)
    credit_memos: Rows = field(default_factory=list)
    bank_transactions: Rows = field(default_factory=list)

    def find(self, collection: str, record_id: int | None) -> dict[str, Any] | None:
        if record_id is None:
            return None
        return next((row for row in getattr(self, collection) if row["id"] == record_id), None)

    def recompute(self) -> None:
        settle(self)


def build_firm(seed: int = 11) -> Firm:
    """Same seed -> identical data (random.Random(seed) only; no clock, no global state)."""
    rng = random.Random(seed)
    days = working_days()
    contacts, specials = make_contacts(rng, days)
    matters = make_matters(rng, contacts, days)
    by_client: dict[int, list[dict]] = {}
    for matter in matters:
        by_client.setdefault(matter["client_id"], []).append(matter)
    special_ids = set(specials.clients())
    pool = [(c, by_client[c["id"]]) for c in contacts if c["id"] in by_client and c["id"] not in special_ids]
    revenue = [plan for day in days for plan in draft_day(rng, day, pool)]
    assign_states(rng, revenue, days)
    revenue += _special_clients_bills(rng, contacts, by_client, specials, days)
    ledger = Ledger(rng, revenue, days)
    interest = plan_interest(ledger)
    trust = plan_trust(ledger, revenue)
    plan_special_payments(ledger)
    plan_credit_memos(ledger)
    plan_ordinary_payments(ledger)
    plans = number_bills(rng, revenue + interest + trust)
    money = money_rows(rng, ledger.payments, ledger.memos)
    allocation_plans = [a for p in ledger.payments for a in p.allocations] + [
        a for m in ledger.memos for a in m.allocations
    ]
    billed = bill_rows(rng, plans, allocation_plans)
    _matter_history(rng, matters, plans, days)
    billed_clients = {plan.client["id"] for plan in plans}
    for contact in contacts:
        contact["is_bill_recipient"] = contact["id"] in billed_clients
    firm = Firm(
        users=reference.users(),
        practice_areas=reference.practice_areas(),
        currencies=reference.currencies(),
        billing_settings=reference.billing_settings(),
        bill_themes=reference.bill_themes(),
        bank_accounts=reference.bank_accounts(),
        contacts=contacts,
        matters=matters,
        **billed,
        **money,
    )
    settle(firm)
    return firm


def _special_clients_bills(
    rng: random.Random, contacts: list[dict], by_client: dict[int, list[dict]], specials: Specials, days: list
) -> list[BillPlan]:
    """One or two issued bills for each special client (same-name twins, no e-mail, non-ASCII, edited, new)."""
    plans = []
    for client_id in specials.clients():
        client = next(c for c in contacts if c["id"] == client_id)
        matters = by_client[client_id]
        opened = max(parse_stamp(m["created_at"]) for m in matters[:1])
        candidates = [day for day in days[:-3] if day > opened.date()]
        for day in sorted(rng.sample(candidates, min(len(candidates), rng.randint(1, 2)))):
            plan = _plan(rng, office_moment(rng, day), client, [matters[0]])
            plan.events["approved"] = plan.created + timedelta(minutes=rng.randint(5, 60))
            plan.events["sent"] = plan.events["approved"] + timedelta(minutes=2)
            plan.tags.add("special_client")
            plans.append(plan)
    return plans


def _matter_history(rng: random.Random, matters: list[dict], plans: list[BillPlan], days: list) -> None:
    """last_activity_date from the lines billed; one matter closed during the window; two left pending."""
    last_line: dict[int, str] = {}
    last_bill: dict[int, Any] = {}
    for plan in plans:
        for line in plan.lines:
            last_line[line["matter_id"]] = max(last_line.get(line["matter_id"], ""), line["date"])
        for matter in plan.matters:
            last_bill[matter["id"]] = max(last_bill.get(matter["id"], plan.day), plan.day)
    for matter in matters:
        matter["last_activity_date"] = last_line.get(matter["id"])
    closable = [m for m in matters if m["id"] in last_bill and last_bill[m["id"]] <= days[-8]]
    if closable:
        matter = rng.choice(closable)
        close_matter(rng, matter, days[days.index(last_bill[matter["id"]]) + rng.randint(2, 5)])
    unbilled = [m for m in matters if m["id"] not in last_bill and m["open_date"] < days[0].isoformat()]
    for matter in unbilled[:2]:
        matter.update({"status": "Pending", "pending_date": matter["open_date"], "open_date": None})
