"""Patients archived in Cliniko during the run's days come out as ledger contacts with archived=True (Cliniko's own
Xero integration archives their Xero contacts); archived rows are hidden unless asked for (FACTS §6), so the extract
asks by `archived_at` in the window's bounds. A patient both invoiced in the window and archived is one row."""

from __future__ import annotations

import httpx

from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, create_app
from clinic_etl.sandbox.cliniko.patients import ARCHIVED_PATIENT_AT
from clinic_etl.sandbox.cliniko.wire import utc
from clinic_etl.sandbox.transport import InProcessTransport

from .billing import DAY, fresh_practice, local_day, through_resource, window

ARCHIVED_DAY = local_day(utc(ARCHIVED_PATIENT_AT))  # 2026-10-21


def archived_patient(practice) -> dict:
    return next(p for p in practice.patients if p["archived_at"])


def test_the_simulator_serves_archived_patients_only_when_asked(practice):
    patient = archived_patient(practice)
    start, end = (utc(m) for m in window(ARCHIVED_DAY).bounds_utc())
    app = create_app(practice)
    auth, agent = (SANDBOX_CLINIKO_API_KEY, ""), {"User-Agent": "tests (tests@example.com)"}
    with httpx.Client(transport=InProcessTransport(app), base_url="http://c/v1", auth=auth, headers=agent) as http:
        everyone = http.get("/patients", params={"per_page": 100, "q[]": f"id:={patient['id']}"}).json()
        assert everyone["total_entries"] == 0
        asked = http.get("/patients", params={"q[]": [f"archived_at:>={start}", f"archived_at:<{end}"]}).json()
        assert [p["id"] for p in asked["patients"]] == [patient["id"]]
        assert http.get("/patients", params={"q[]": "archived_at:?"}).json()["total_entries"] == 1
        refused = http.get("/patients", params={"q[]": "deleted_at:*"})  # not filterable on /patients (spec)
        assert refused.status_code == 400


def test_the_patient_archived_on_a_day_is_an_archived_contact_of_that_day():
    practice = fresh_practice()
    patient = archived_patient(practice)
    key = f"cliniko:patient:{patient['id']}"
    for fields in ({}, {"invoice_from": "appointments"}):
        ledger, rejected, _ = through_resource(practice, window(ARCHIVED_DAY), **fields)
        contacts = ledger["contacts"].set_index("contact_key")
        assert rejected.empty
        assert contacts.index.is_unique and bool(contacts.at[key, "archived"]) is True
        assert contacts["archived"].sum() == 1  # the one patient archived that day
        assert set(contacts.index) == set(ledger["invoices"]["contact_key"]) | {key}
    # archived even on a day it was invoiced with no invoice of it left: there to be archived, nothing else
    invoiced = {i["id"] for i in practice.invoices if i["patient_id"] == patient["id"]}
    practice.invoices = [i for i in practice.invoices if i["id"] not in invoiced]
    ledger, _, _ = through_resource(practice, window(ARCHIVED_DAY))
    assert key not in set(ledger["invoices"]["contact_key"])
    assert list(ledger["contacts"].loc[ledger["contacts"]["contact_key"] == key, "archived"]) == [True]
    ledger, _, _ = through_resource(practice, window(DAY))  # a day it was not archived: not a contact
    assert key not in set(ledger["contacts"]["contact_key"])
    assert not ledger["contacts"]["archived"].any()


def test_a_patient_invoiced_in_the_window_and_archived_in_it_is_one_archived_contact():
    practice = fresh_practice()
    invoice = next(i for i in practice.invoices if i["issue_date"] == DAY and not i["deleted_at"])
    patient = next(p for p in practice.patients if p["id"] == invoice["patient_id"])
    start, _ = window(DAY).bounds_utc()
    patient["archived_at"] = patient["updated_at"] = utc(start.replace(hour=start.hour + 8))
    ledger, rejected, _ = through_resource(practice, window(DAY))
    contacts = ledger["contacts"]
    key = f"cliniko:patient:{patient['id']}"
    assert rejected.empty
    assert list(contacts.loc[contacts["contact_key"] == key, "archived"]) == [True]
    assert f"cliniko:invoice:{invoice['id']}" in set(ledger["invoices"]["invoice_key"])
    assert contacts["contact_key"].is_unique
