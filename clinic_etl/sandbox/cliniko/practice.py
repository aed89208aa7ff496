"""The synthetic practice the simulator serves: a deterministic function of a seed.

Rows are stored in Cliniko's JSON shape (ids and money as strings, UTC `...Z` date-times) except that
relations are plain ids (`patient_id`, `business_id`, ...); the app renders those as link objects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic_etl.sandbox.cliniko import reference
from clinic_etl.sandbox.cliniko.appointments import make_appointments
from clinic_etl.sandbox.cliniko.invoicing import Draft, Pool, assign_events, draft_day, force_examples, to_rows
from clinic_etl.sandbox.cliniko.patients import ARCHIVED_PATIENT_AT, Specials, make_patients

# First and last issue_date of the synthetic invoices: six weeks of working days (Mon-Fri). Sydney
# daylight saving starts on Sunday 4 Oct 2026 (UTC+10 -> UTC+11) inside the window, and Monday 5 Oct
# 2026 (NSW Labour Day) is a public holiday without invoices.
SANDBOX_WINDOW: tuple[date, date] = (date(2026, 9, 28), date(2026, 11, 6))
PUBLIC_HOLIDAYS = (date(2026, 10, 5),)


@dataclass(frozen=True)
class Shape:
    """How big the synthetic practice is. The defaults are the sandbox practice every test knows (same seed, same
    data); a benchmark asks for more days, fewer sites or more practitioners, invoices and patients."""

    window: tuple[date, date] = SANDBOX_WINDOW  # first and last issue_date
    sites: int = 3  # the first `sites` of the reference businesses
    practitioners: int = len(reference.PRACTITIONERS)  # past the named six, more are made up (reference.staff)
    invoices_per_day: tuple[int, int] = (15, 40)  # per working day, uniformly
    patients: int = 320


DEFAULT_SHAPE = Shape()


@dataclass
class Practice:
    businesses: list[dict[str, Any]] = field(default_factory=list)
    practitioners: list[dict[str, Any]] = field(default_factory=list)
    patients: list[dict[str, Any]] = field(default_factory=list)
    taxes: list[dict[str, Any]] = field(default_factory=list)
    billable_items: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    invoice_items: list[dict[str, Any]] = field(default_factory=list)
    individual_appointments: list[dict[str, Any]] = field(default_factory=list)
    appointment_types: list[dict[str, Any]] = field(default_factory=list)
    appointment_type_billable_items: list[dict[str, Any]] = field(default_factory=list)
    concession_types: list[dict[str, Any]] = field(default_factory=list)
    concession_prices: list[dict[str, Any]] = field(default_factory=list)

    def items_of(self, invoice_id: str) -> list[dict[str, Any]]:
        return [item for item in self.invoice_items if item["invoice_id"] == invoice_id]


def working_days(window: tuple[date, date] = SANDBOX_WINDOW) -> list[date]:
    first, last = window
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day.weekday() < 5 and day not in PUBLIC_HOLIDAYS]


def build_practice(seed: int = 7, shape: Shape = DEFAULT_SHAPE) -> Practice:
    """Same seed and shape -> identical data (random.Random(seed) only; no clock, no global state)."""
    rng = random.Random(seed)
    days = working_days(shape.window)
    patients, specials = make_patients(rng, days, shape.patients)
    special_ids = set(specials.all())
    pool = Pool([patient for patient in patients if patient["id"] not in special_ids])
    businesses = reference.businesses()[: shape.sites]
    business_ids = [row["id"] for row in businesses]
    staff = reference.staff(shape.practitioners)
    drafted = [draft_day(rng, day, business_ids, pool, shape.invoices_per_day, staff) for day in days]
    force_examples(drafted, business_ids)
    _give_specials_invoices(rng, drafted, patients, specials)
    drafts = [draft for day in drafted for draft in day]
    assign_events(rng, drafts)
    invoices, items = to_rows(drafts, rng)
    _give_concessions(patients, invoices, items)
    practitioners = reference.practitioners(staff)
    opening = datetime.combine(days[0], time(0), tzinfo=ZoneInfo(reference.TIME_ZONE)).astimezone(UTC)
    # last, from a generator of their own: every row above is what it was before appointments were served
    appointments = make_appointments(seed, patients, invoices, practitioners, businesses, opening, days, staff)
    return Practice(
        businesses=businesses,
        practitioners=practitioners,
        patients=patients,
        taxes=reference.taxes(),
        billable_items=reference.billable_items(),
        products=reference.products(),
        invoices=invoices,
        invoice_items=items,
        individual_appointments=appointments,
        appointment_types=reference.appointment_types(),
        appointment_type_billable_items=reference.appointment_type_billable_items(),
        concession_types=reference.concession_types(),
        concession_prices=reference.concession_prices(),
    )


def _give_concessions(patients: list[dict], invoices: list[dict], items: list[dict]) -> None:
    """A patient billed a Pensioner price in Cliniko has the Pensioner concession type; a student (occupation) the
    Student one. No random draw: every other row stays as it was."""
    patient_of = {invoice["id"]: invoice["patient_id"] for invoice in invoices}
    pensioners = {patient_of[item["invoice_id"]] for item in items if item["concession_type_name"] == "Pensioner"}
    for patient in patients:
        if patient["id"] in pensioners:
            patient["concession_type_id"] = reference.PENSIONER
        elif patient["occupation"] == "Student":
            patient["concession_type_id"] = reference.STUDENT


def _give_specials_invoices(
    rng: random.Random, drafted: list[list[Draft]], patients: list[dict], specials: Specials
) -> None:
    """Each special patient gets 1-3 live invoices (never deleted or archived); the archived patient's
    all fall before the day they were archived."""
    by_id = {patient["id"]: patient for patient in patients}
    archived_day = ARCHIVED_PATIENT_AT.date()
    for patient_id in specials.all():
        patient = by_id[patient_id]
        for _ in range(rng.randint(1, 3)):
            candidates = [
                draft
                for day in drafted
                for draft in day
                if not draft.forced
                and (patient_id not in specials.archived or draft.created.astimezone(UTC).date() < archived_day)
                and draft.created > datetime.fromisoformat(patient["created_at"].replace("Z", "+00:00"))
            ]
            if not candidates:  # a short window after the archived patient's day (never the default practice)
                continue
            chosen = rng.choice(candidates)
            chosen.patient, chosen.forced = patient, True
