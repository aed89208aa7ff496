"""Individual appointments of the synthetic practice: the visits its invoices were raised for, and when each was
booked.

Made after everything else from a random generator of their own, so the practice's other rows (patients, invoices,
items) are exactly what they were before appointments existed. Rules (the data the GoHighLevel onboarding reads):

- every invoice with an `appointment_id` has that appointment: same patient, business and practitioner (a
  practitioner of the business when the invoice has none), ending 5-40 minutes before the invoice was raised;
- a patient's first appointment is booked 1-40 minutes after the patient was created (the front desk makes the
  patient while booking); their later ones 1-21 days before they start, never before the first was booked;
- a patient created more than 30 days before the window has had a visit before it (booked and held back then), so
  only patients created in the window book their first appointment in it;
- a patient created in the window without an invoice still has a first appointment, booked that day for a day or
  two later;
- two fixed cases whatever the data: a later appointment cancelled (reason 50 Other), and one the patient did not
  arrive for;
- on every working day, 2-5 appointments nobody invoiced in Cliniko (what a practice that bills from its appointments
  has): an established patient (one with a visit before the window) seen by a practitioner working that day, the type
  the practitioner's discipline books, booked 1-14 days ahead, the arrival marked on about 85 % of them. They come from
  a generator of their own, after every row above, so the rows above and everyone's first booking stay as they were.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic_etl.sandbox.cliniko.reference import APPOINTMENT_TYPES, TIME_ZONE, appointment_type_for
from clinic_etl.sandbox.cliniko.wire import parse_utc, utc

FIRST_HISTORY_ID = 1_098_765_000_000_000_001  # appointments before the window (below the invoices' ids)
FIRST_EXTRA_ID = 1_098_766_000_000_000_001  # first appointments without an invoice (above them)
FIRST_UNBILLED_ID = 1_098_767_000_000_000_001  # appointments of established patients nobody invoiced in Cliniko
_TYPES = ("1001", "1002", "1003")
_HISTORY_AGE = timedelta(days=30)


def _quarter(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _row(appointment_id: int | str, patient: dict, business: str, practitioner: str, starts: datetime) -> dict:
    minutes = 30 if patient["id"][-1] in "0246" else 45
    return {
        "id": str(appointment_id),
        "starts_at": utc(starts),
        "ends_at": utc(starts + timedelta(minutes=minutes)),
        "patient_name": patient["label"],
        "notes": None,
        "telehealth_url": None,
        "booking_ip_address": None,
        "repeat_rule": None,
        "did_not_arrive": False,
        "patient_arrived": True,
        "email_reminder_sent": True,
        "sms_reminder_sent": False,
        "online_booking_policy_accepted": None,
        "has_patient_appointment_notes": False,
        "invoice_status": None,
        "treatment_note_status": 90,
        "cancelled_at": None,
        "cancellation_reason": None,
        "cancellation_reason_description": None,
        "cancellation_note": None,
        "archived_at": None,
        "deleted_at": None,
        "created_at": "",
        "updated_at": "",
        "appointment_type_id": _TYPES[int(patient["id"]) % len(_TYPES)],
        "business_id": business,
        "practitioner_id": practitioner,
        "patient_id": patient["id"],
    }


def make_appointments(
    seed: int,
    patients: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    practitioners: list[dict[str, Any]],
    businesses: list[dict[str, Any]],
    window_start: datetime,
    days: Sequence[date] = (),
    staff_rows: Sequence[tuple] = (),
) -> list[dict[str, Any]]:
    rng = random.Random(seed * 1_000_003 + 12)
    by_patient = {p["id"]: p for p in patients}
    staff = [p["id"] for p in practitioners if p.get("active", True)] or [p["id"] for p in practitioners]
    rows: list[dict[str, Any]] = []
    for invoice in invoices:
        if not invoice.get("appointment_id") or invoice["patient_id"] not in by_patient:
            continue
        raised = parse_utc(invoice["created_at"])
        practitioner = invoice["practitioner_id"] or staff[int(invoice["id"]) % len(staff)]
        row = _row(
            invoice["appointment_id"],
            by_patient[invoice["patient_id"]],
            invoice["business_id"],
            practitioner,
            _quarter(raised - timedelta(minutes=rng.randint(35, 85))),
        )
        row["invoice_status"] = invoice["status"]
        rows.append(row)
    extra_id, history_id = FIRST_EXTRA_ID, FIRST_HISTORY_ID
    business = businesses[0]["id"] if businesses else None
    visited = {row["patient_id"] for row in rows}
    for patient in patients:  # a visit before the window, or a first booking without an invoice yet
        created = parse_utc(patient["created_at"])
        if created < window_start - _HISTORY_AGE:
            starts = _quarter(created + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 6)))
            rows.append(_row(history_id, patient, business, staff[history_id % len(staff)], starts))
            history_id += 1
        elif created >= window_start and patient["id"] not in visited:
            starts = _quarter(created + timedelta(days=rng.randint(1, 2), hours=rng.randint(2, 8)))
            row = _row(extra_id, patient, business, staff[extra_id % len(staff)], starts)
            row.update(patient_arrived=False, treatment_note_status=None)
            rows.append(row)
            extra_id += 1
    specials = []
    for patient_id in rng.sample(sorted(visited), 2) if len(visited) >= 2 else []:
        last = max(parse_utc(r["starts_at"]) for r in rows if r["patient_id"] == patient_id)
        specials.append(
            _row(
                extra_id,
                by_patient[patient_id],
                business,
                staff[extra_id % len(staff)],
                _quarter(last + timedelta(days=rng.randint(3, 9))),
            )
        )
        extra_id += 1
    rows += specials
    _book(rng, rows, by_patient)
    _specials(specials)
    rows += _unbilled(seed, patients, businesses, window_start, days, staff_rows)
    return sorted(rows, key=lambda row: (row["created_at"], int(row["id"])))


def _unbilled(
    seed: int,
    patients: list[dict[str, Any]],
    businesses: list[dict[str, Any]],
    window_start: datetime,
    days: Sequence[date],
    staff_rows: Sequence[tuple],
) -> list[dict[str, Any]]:
    """Appointments nobody invoiced in Cliniko, 2-5 a working day (see the module's rules)."""
    rng = random.Random(seed * 1_000_003 + 13)
    zone = ZoneInfo(TIME_ZONE)
    minutes = {row[0]: row[3] for row in APPOINTMENT_TYPES}
    established = [
        p
        for p in patients
        if parse_utc(p["created_at"]) < window_start - _HISTORY_AGE and not (p["archived_at"] or p["deleted_at"])
    ]
    rows: list[dict[str, Any]] = []
    next_id = FIRST_UNBILLED_ID
    for day in days:
        for _ in range(rng.randint(2, 5) if established else 0):
            starts = datetime.combine(day, time(8), tzinfo=zone) + timedelta(minutes=15 * rng.randint(0, 35))
            working = [
                (row, index)
                for row in staff_rows
                for index in row[6]
                if index < len(businesses) and (row[9] is None or starts < parse_utc(row[9]))
            ]
            if not working:
                continue
            (staff, index), patient = rng.choice(working), rng.choice(established)
            type_id = appointment_type_for(staff[5])
            row = _row(next_id, patient, businesses[index]["id"], staff[0], starts)
            booked = starts - timedelta(days=rng.randint(1, 14), minutes=rng.randint(0, 600))
            arrived = rng.random() < 0.85
            ends = starts + timedelta(minutes=minutes[type_id])
            row.update(
                appointment_type_id=type_id,
                ends_at=utc(ends),
                patient_arrived=arrived,
                treatment_note_status=90 if arrived else None,
                created_at=utc(booked),
                updated_at=utc(ends if arrived else booked),
            )
            rows.append(row)
            next_id += 1
    return rows


def _book(rng: random.Random, rows: list[dict[str, Any]], patients: dict[str, dict[str, Any]]) -> None:
    """`created_at` (booked) and `updated_at` of every row: the first of each patient's appointments is booked when
    the patient was made, the later ones some days before they start."""
    rows.sort(key=lambda row: (row["patient_id"], row["starts_at"], int(row["id"])))
    first_booked: dict[str, datetime] = {}
    for row in rows:
        starts = parse_utc(row["starts_at"])
        patient = patients[row["patient_id"]]
        if row["patient_id"] not in first_booked:
            booked = parse_utc(patient["created_at"]) + timedelta(
                minutes=rng.randint(1, 40), seconds=rng.randint(0, 59)
            )
            first_booked[row["patient_id"]] = booked
        else:
            earliest = first_booked[row["patient_id"]] + timedelta(hours=1)
            booked = max(starts - timedelta(days=rng.randint(1, 21), minutes=rng.randint(0, 600)), earliest)
        booked = max(min(booked, starts - timedelta(minutes=5)), parse_utc(patient["created_at"]))
        row["created_at"] = utc(booked)
        row["updated_at"] = utc(max(booked, parse_utc(row["ends_at"])) if row["patient_arrived"] else booked)


def _specials(rows: list[dict[str, Any]]) -> None:
    """A later appointment cancelled the day before, and one the patient did not arrive for (each a patient's
    later appointment without an invoice, so the first-booking rule is unaffected)."""
    if len(rows) == 2:
        cancelled, missed = rows
        when = parse_utc(cancelled["starts_at"]) - timedelta(days=1)
        cancelled.update(
            cancelled_at=utc(when),
            cancellation_reason=50,
            cancellation_reason_description="Other",
            patient_arrived=False,
            treatment_note_status=None,
            updated_at=utc(when),
        )
        marked = utc(parse_utc(missed["ends_at"]) + timedelta(hours=1))
        missed.update(did_not_arrive=True, patient_arrived=False, treatment_note_status=None, updated_at=marked)
