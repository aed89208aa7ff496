"""Invoices and their items over the window: who, when, what, and what happened to them afterwards.

Invoices are created in business hours (Australia/Sydney) on every working day; `created_at` is UTC, so
invoices created before 10:00/11:00 local fall on the previous UTC date. Numbers are sequential in creation
order and never reused (deleted invoices keep theirs).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from clinic_etl.sandbox.cliniko.lines import TAXES, Line, product, random_lines, service
from clinic_etl.sandbox.cliniko.money import invoice_amounts
from clinic_etl.sandbox.cliniko.reference import PRACTITIONERS, TIME_ZONE
from clinic_etl.sandbox.cliniko.wire import utc

ZONE = ZoneInfo(TIME_ZONE)
FIRST_NUMBER, FIRST_INVOICE_ID, FIRST_ITEM_ID = 10231, 20001, 60001
FIRST_APPOINTMENT_ID = 1_098_765_432_100_000_001
_NOTES = ("Thank you for your visit.", "Paid by EFTPOS.", "Claimed on HICAPS.", "Follow-up in 2 weeks.")


@dataclass
class Draft:
    created: datetime
    business: str
    practitioner: str | None
    patient: dict[str, Any]
    lines: list[Line]
    appointment: bool = True
    forced: bool = False
    events: dict[str, datetime] = field(default_factory=dict)  # closed / deleted / archived


def local(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE) + timedelta(seconds=seconds)


class Pool(list):
    """The patients that may be picked, sorted by `created_at` (as `make_patients` makes them): those created
    before a moment are a prefix, found by bisection rather than a scan (same list, so the same random pick)."""

    def __init__(self, patients: list[dict]) -> None:
        super().__init__(patients)
        self.created = [p["created_at"] for p in patients]
        assert self.created == sorted(self.created), "patients must be sorted by created_at"

    def before(self, stamp: str) -> list[dict]:
        return self[: bisect.bisect_left(self.created, stamp)]


def _staff(business_index: int, at: datetime, rows: tuple[tuple, ...] = PRACTITIONERS) -> list[tuple]:
    return [row for row in rows if business_index in row[6] and (row[9] is None or at < datetime.fromisoformat(row[9]))]


def draft_day(
    rng: random.Random,
    day: date,
    businesses: list[str],
    pool: Pool,
    per_day: tuple[int, int] = (15, 40),
    staff_rows: tuple[tuple, ...] = PRACTITIONERS,
) -> list[Draft]:
    """`per_day` (15-40) invoices of one day, in creation order; `pool` holds the patients that may be picked."""
    count = rng.randint(*per_day)
    moments = sorted(local(day, rng.randint(8 * 3600, 18 * 3600 + 1800)) for _ in range(count))
    drafts = []
    for moment in moments:
        business_index = rng.choices(range(len(businesses)), weights=(5, 3, 2)[: len(businesses)])[0]
        staff = _staff(business_index, moment, staff_rows)
        stamp = utc(moment)
        patient = rng.choice(pool.before(stamp))
        if rng.random() < 0.05:  # retail sale at the front desk: no practitioner, no appointment
            drafts.append(Draft(moment, businesses[business_index], None, patient, random_lines(rng, None), False))
            continue
        row = rng.choice(staff)
        draft = Draft(moment, businesses[business_index], row[0], patient, random_lines(rng, row[5]))
        draft.appointment = rng.random() < 0.9
        if rng.random() < 0.03:
            draft.practitioner = None  # raised by reception without a practitioner
        drafts.append(draft)
    return drafts


def force_examples(days: list[list[Draft]], businesses: list[str]) -> None:
    """Fixed cases whatever the seed (first invoice of days 1-3): the documented 20.0 money discount on a
    110.0 GST line (total 90.0, net 81.818), a zero-total invoice (100 % discount), and a GST-free service
    with a GST product carrying a 10 % discount on the same invoice."""
    physio, massage = PRACTITIONERS[0][0], PRACTITIONERS[2][0]
    cases = [
        (massage, [service("4")], ("discount_money", "20")),
        (physio, [service("2")], ("discount_percent", "100")),
        (physio, [service("3"), product("2")], ("discount_percent", "10")),
    ]
    for day, (practitioner, lines, (attribute, value)) in zip(days, cases, strict=False):
        setattr(lines[-1], attribute, Decimal(value))
        draft = day[0]
        draft.business, draft.practitioner, draft.lines = businesses[0], practitioner, lines
        draft.appointment = draft.forced = True


def assign_events(rng: random.Random, drafts: list[Draft]) -> None:
    """Deleted (~1 %, half on a later day), two archived (one open, one paid), ~55 % paid (~15 % of
    those on a later day); a zero-total invoice is paid when it is raised."""
    free = [d for d in drafts if not d.forced and _total(d) > 0]
    doomed = rng.sample(free, max(4, round(len(drafts) * 0.012)) + 2)
    deleted, archived = doomed[:-2], doomed[-2:]
    for index, draft in enumerate(deleted):
        same_day = draft.created + timedelta(minutes=rng.randint(5, 90))
        draft.events["deleted"] = same_day if index % 2 == 0 else later_day(rng, draft.created, 1, 5)
    skip = {id(draft) for draft in deleted}
    for draft in drafts:
        if id(draft) in skip:
            continue
        if _total(draft) == 0:
            draft.events["closed"] = draft.created
        elif rng.random() < 0.55 and draft is not archived[1]:
            paid_later = rng.random() < 0.15
            draft.events["closed"] = (
                later_day(rng, draft.created, 1, 10)
                if paid_later
                else draft.created + timedelta(minutes=rng.randint(1, 45))
            )
    archived[1].events["closed"] = archived[1].created + timedelta(minutes=rng.randint(1, 45))
    archived[0].events.pop("closed", None)
    for draft in archived:
        draft.events["archived"] = later_day(rng, draft.created, 3, 12)


def _total(draft: Draft) -> Decimal:
    return sum((line.amounts().total_including_tax for line in draft.lines), Decimal(0))


def to_rows(drafts: list[Draft], rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Number the drafts and render them (with their items) in Cliniko's JSON shape."""
    invoices, items = [], []
    invoice_id, item_id, appointment_id = FIRST_INVOICE_ID, FIRST_ITEM_ID, FIRST_APPOINTMENT_ID
    for number, draft in enumerate(drafts, start=FIRST_NUMBER):
        created = utc(draft.created)
        events = {key: utc(moment) for key, moment in draft.events.items()}
        updated = max([created, *events.values()])
        amounts = [line.amounts() for line in draft.lines]
        closed = events.get("closed")
        patient = draft.patient
        extra = patient["invoice_extra_information"]
        appointment_id += rng.randint(1, 6)
        invoices.append({
            "id": str(invoice_id), "issue_date": draft.created.astimezone(ZONE).date().isoformat(),
            **invoice_amounts(amounts), "notes": _notes(rng), "status": 20 if closed else 10,
            "invoice_to": _invoice_to(patient), "patient_extra_information": extra,
            "number": number, "status_description": "Paid" if closed else "Open", "created_at": created,
            "updated_at": updated, "archived_at": events.get("archived"), "deleted_at": events.get("deleted"),
            "closed_at": closed, "online_payment_url": None,
            "appointment_id": str(appointment_id) if draft.appointment else None,
            "business_id": draft.business, "practitioner_id": draft.practitioner, "patient_id": patient["id"],
        })  # fmt: skip
        item_updated = max([created, *(v for k, v in events.items() if k != "closed")])
        for line, amount in zip(draft.lines, amounts, strict=True):
            items.append({
                "id": str(item_id), "created_at": created, "updated_at": item_updated,
                "concession_type_name": line.concession, "name": line.name, "code": line.code,
                "tax_name": TAXES[line.tax_id][0], **amount.wire(),
                "archived_at": events.get("archived"), "deleted_at": events.get("deleted"),
                "billable_item_id": line.billable_item_id, "product_id": line.product_id,
                "invoice_id": str(invoice_id),
            })  # fmt: skip
            item_id += rng.choice((1, 1, 1, 2))
        invoice_id += rng.choice((1, 1, 1, 1, 2, 3))
    return invoices, items


def _invoice_to(patient: dict[str, Any]) -> str:
    if patient["invoice_default_to"]:
        return f"{patient['invoice_default_to']}\r\nRe: {patient['label']}"
    title = f"{patient['title']} " if patient["title"] else ""
    return (
        f"{title}{patient['first_name']} {patient['last_name']}\r\n{patient['address_1']}\r\n"
        f"{patient['city']}  {patient['state']}  {patient['post_code']}"
    )


def _notes(rng: random.Random) -> str | None:
    roll = rng.random()
    return None if roll < 0.7 else "" if roll < 0.9 else rng.choice(_NOTES)


def later_day(rng: random.Random, moment: datetime, low: int, high: int) -> datetime:
    """A business-hours moment `low`..`high` calendar days after `moment`'s local date."""
    day = moment.astimezone(ZONE).date() + timedelta(days=rng.randint(low, high))
    return local(day, rng.randint(9 * 3600, 17 * 3600)).astimezone(UTC)
