"""New patients come from Cliniko's individual appointments (APPOINTMENTS.md), not from invoices: the simulator serves
`/individual_appointments` with the spec's filters, every invoice's appointment exists, and a patient counts as new on
the local day their first (not cancelled) appointment was booked. Adding appointments changed no other row."""

import copy
from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest

from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, build_practice, create_app
from clinic_etl.sandbox.cliniko import practice as practice_module
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.cliniko.appointments import first_bookings, patients, phone_of
from clinic_etl.sources.cliniko.client import ClinikoClient

ZONE = ZoneInfo("Australia/Sydney")


def window(first: str, last: str) -> SyncWindow:
    return SyncWindow(date.fromisoformat(first), date.fromisoformat(last), ZONE)


def client(practice) -> ClinikoClient:
    app = create_app(practice)
    return ClinikoClient(SANDBOX_CLINIKO_API_KEY, "http://cliniko/v1", transport=InProcessTransport(app))


def expected_new(practice, w: SyncWindow) -> dict[str, str]:
    """Straight from the data: each patient's earliest live appointment by booking time, if booked in the window."""
    start, end = (m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in w.bounds_utc())
    first: dict[str, dict] = {}
    for row in sorted(practice.individual_appointments, key=lambda r: (r["created_at"], r["id"])):
        if not (row["cancelled_at"] or row["archived_at"] or row["deleted_at"]):
            first.setdefault(row["patient_id"], row)
    return {p: w.local_date(r["created_at"]) for p, r in first.items() if start <= r["created_at"] < end}


@pytest.fixture(scope="module")
def practice():
    return build_practice()


def test_appointments_were_added_without_changing_any_other_row(monkeypatch, practice):
    monkeypatch.setattr(practice_module, "make_appointments", lambda *args: [])
    without = build_practice()
    for name in ("businesses", "practitioners", "patients", "taxes", "billable_items", "products", "invoices"):
        assert getattr(without, name) == getattr(practice, name), name
    assert without.invoice_items == practice.invoice_items and without.individual_appointments == []
    ids = {row["id"] for row in practice.individual_appointments}
    assert {i["appointment_id"] for i in practice.invoices if i["appointment_id"]} <= ids


def test_the_route_serves_the_spec_filters_and_hides_cancelled_rows_unless_asked(practice):
    app = create_app(practice)
    auth = (SANDBOX_CLINIKO_API_KEY, "")
    ua = {"User-Agent": "tests (tests@example.com)"}
    with httpx.Client(transport=InProcessTransport(app), base_url="http://c/v1", auth=auth, headers=ua) as http:
        everything = http.get("/individual_appointments", params={"per_page": 100}).json()
        assert everything["total_entries"] == sum(1 for r in practice.individual_appointments if not r["cancelled_at"])
        row = everything["individual_appointments"][0]
        assert {"starts_at", "ends_at", "cancelled_at", "did_not_arrive", "patient_arrived", "created_at"} <= set(row)
        assert row["patient"]["links"]["self"].startswith("http://c/v1/patients/")
        cancelled = http.get("/individual_appointments", params={"q[]": "cancelled_at:?"}).json()
        assert cancelled["total_entries"] == 1
        refused = http.get("/individual_appointments", params={"q[]": "did_not_arrive:=true"})
        assert refused.status_code == 400 and refused.json() == {"message": "This column is not searchable."}


def test_a_patient_is_new_on_the_day_their_first_appointment_was_booked(practice):
    w = window("2026-10-01", "2026-10-31")
    found = first_bookings(client(practice), w)
    assert dict(zip(found["patient_id"], found["day"], strict=True)) == expected_new(practice, w)
    assert len(found) >= 5
    created = {p["id"]: p["created_at"] for p in practice.patients}
    assert all(created[p] >= "2026-09-30" for p in found["patient_id"])  # only patients made in the window


def test_a_cancelled_first_booking_does_not_count_and_an_earlier_booking_makes_a_patient_returning(practice):
    edited = copy.deepcopy(practice)
    w = window("2026-10-14", "2026-10-14")
    new = list(first_bookings(client(edited), w)["patient_id"])
    assert len(new) == 2
    cancelled, returning = new
    for row in edited.individual_appointments:
        if row["patient_id"] == cancelled and w.local_date(row["created_at"]) == "2026-10-14":
            row["cancelled_at"] = row["created_at"]
    earlier = next(r for r in edited.individual_appointments if r["patient_id"] == returning)
    edited.individual_appointments.append({**earlier, "id": "999", "created_at": "2026-09-01T00:00:00Z"})
    assert list(first_bookings(client(edited), w)["patient_id"]) == []


def test_only_the_fields_the_onboarding_needs_are_kept(practice):
    w = window("2026-10-14", "2026-10-14")
    found = first_bookings(client(practice), w)
    rows = patients(client(practice), list(found["patient_id"]), w)
    assert list(rows.columns) == [
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
    assert set(found["patient_id"]) <= set(rows["id"])
    assert phone_of({"patient_phone_numbers": [{"phone_type": "Mobile", "number": "0412 345 678",
                                                "normalized_number": "61412345678"}]}) == "+61412345678"  # fmt: skip
