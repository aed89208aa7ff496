"""New patients: the patients whose first appointment was booked in a window of practice days, read from Cliniko's
individual appointments (APPOINTMENTS.md), not from invoices; and the patients changed in the window (a new e-mail or
phone for a contact already made elsewhere).

"Booked" is an appointment's `created_at` (when the front desk or online booking made it), on the practice's local
day. A patient's first booking is their earliest appointment that is not cancelled, archived or deleted: one booked in
the window counts when the patient has no such appointment booked before the window. Cancelled rows are filtered out
explicitly (`cancelled_at:!?`) and checked again here, since whether the list hides them by default is unverified.
Group classes (attendees) are not read: a patient whose first visit is a class is found at their first individual
appointment.

Only the fields the onboarding needs are kept: names, e-mail, phone and the two marketing consents.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.client import ClinikoClient
from clinic_etl.sources.cliniko.extract import link_id
from clinic_etl.sources.cliniko.schemas import is_id

FIRST_BOOKING_COLUMNS = ["patient_id", "appointment_id", "booked_at", "day"]
PATIENT_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "preferred_first_name",
    "email",
    "phone",
    "accepted_email_marketing",
    "accepted_sms_marketing",
    "updated_at",
]
LIVE = ["cancelled_at:!?"]  # archived and deleted rows are hidden unless asked for (FACTS §6)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _live(row: dict) -> bool:
    return not any(row.get(column) for column in ("cancelled_at", "archived_at", "deleted_at"))


def first_bookings(client: ClinikoClient, window: SyncWindow) -> pd.DataFrame:
    """Patients whose first appointment was booked in the window: (patient id, that appointment, booked at (UTC),
    the local day it was booked)."""
    start, end = (_utc(m) for m in window.bounds_utc())
    booked: dict[str, dict] = {}
    for row in client.list("individual_appointments", [f"created_at:>={start}", f"created_at:<{end}", *LIVE]):
        patient = link_id(row.get("patient"))
        created = row.get("created_at")
        if patient is None or not isinstance(created, str) or not _live(row) or not is_id(str(row.get("id"))):
            continue
        if patient not in booked or (created, str(row["id"])) < (booked[patient]["created_at"], booked[patient]["id"]):
            booked[patient] = {"created_at": created, "id": str(row["id"])}
    earlier = client.list_by_ids("individual_appointments", "patient_id", booked, extra=[f"created_at:<{start}", *LIVE])
    returning = {link_id(row.get("patient")) for row in earlier if _live(row)}
    rows = [
        {
            "patient_id": p,
            "appointment_id": b["id"],
            "booked_at": b["created_at"],
            "day": window.local_date(b["created_at"]),
        }
        for p, b in sorted(booked.items())
        if p not in returning
    ]
    return pd.DataFrame(rows, columns=FIRST_BOOKING_COLUMNS, dtype=object)


def phone_of(patient: dict) -> str | None:
    """The patient's mobile (else first) number, in E.164 when Cliniko gives a normalized one (`61412...`)."""
    numbers = [n for n in patient.get("patient_phone_numbers") or [] if isinstance(n, dict)]
    numbers.sort(key=lambda n: n.get("phone_type") != "Mobile")
    for number in numbers:
        normalized = number.get("normalized_number")
        if isinstance(normalized, str) and normalized.strip().lstrip("+").isdigit():
            return "+" + normalized.strip().lstrip("+")
        raw = number.get("number")
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
    return None


def _patient_row(record: dict) -> dict:
    def text(name: str) -> str | None:
        value = record.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    return {
        "id": str(record["id"]),
        "first_name": text("first_name"),
        "last_name": text("last_name"),
        "preferred_first_name": text("preferred_first_name"),
        "email": text("email"),
        "phone": phone_of(record),
        "accepted_email_marketing": record.get("accepted_email_marketing") is True,
        "accepted_sms_marketing": record.get("accepted_sms_marketing") is True,
        "updated_at": text("updated_at"),
    }


def patients(client: ClinikoClient, ids: list[str], window: SyncWindow, *, changed: bool = True) -> pd.DataFrame:
    """The patients `ids`, plus (with `changed`) every patient updated in the window: an archived or deleted patient
    is not served (hidden unless asked for) and so never sent."""
    start, end = (_utc(m) for m in window.bounds_utc())
    records = {str(r["id"]): r for r in client.list_by_ids("patients", "id", [i for i in ids if is_id(i)])}
    if changed:
        for record in client.list("patients", [f"updated_at:>={start}", f"updated_at:<{end}"]):
            records.setdefault(str(record.get("id")), record)
    rows = [_patient_row(r) for key, r in sorted(records.items()) if is_id(key)]
    return pd.DataFrame(rows, columns=PATIENT_COLUMNS, dtype=object)
