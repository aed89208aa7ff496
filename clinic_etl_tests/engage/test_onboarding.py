"""New patients into GoHighLevel, as the Dagster asset runs them: each first-time patient with consent is one contact,
tagged and in the workflow once; a re-run sends nothing; a changed e-mail or phone updates the same contact; two
patients of one name stay two contacts; a shared e-mail is never merged; patients without consent are never sent;
429s are waited out; a refused step is finished on the re-run without repeating the others; ids only in metadata."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from clinic_etl.engage.gohighlevel.contacts import NO_CONSENT
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko.wire import utc
from clinic_etl.sandbox.gohighlevel import SANDBOX_LOCATION_ID as GHL_LOCATION
from clinic_etl.sandbox.gohighlevel import SANDBOX_WORKFLOW_ID

from .conftest import GHL, change, leaks, metadata, metadata_texts

OCTOBER = ("2026-10-01", "2026-10-31")
DAY = "2026-10-14"


def first_time(practice, first: str, last: str) -> dict[str, dict]:
    """Patients whose first appointment was booked in [first, last] (Sydney days), from the practice's own rows."""
    w = SyncWindow(date.fromisoformat(first), date.fromisoformat(last), ZoneInfo("Australia/Sydney"))
    start, end = (m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in w.bounds_utc())
    earliest: dict[str, str] = {}
    for row in practice.individual_appointments:
        if not row["cancelled_at"]:
            earliest[row["patient_id"]] = min(earliest.get(row["patient_id"], "9"), row["created_at"])
    by_id = {p["id"]: p for p in practice.patients}
    return {p: by_id[p] for p, booked in earliest.items() if start <= booked < end}


def contacts(outbound) -> dict[str, dict]:
    return {c["email"]: c for c in outbound.ghl("GET", "/__sandbox__/contacts")["contacts"]}


def test_a_month_onboards_each_first_time_patient_once_and_a_rerun_sends_nothing(editable):
    mapping = editable.mapping(mailchimp=None)
    result = editable.onboard(mapping, *OCTOBER)
    assert result.success
    new = first_time(editable.practice, *OCTOBER)
    consenting = {p["email"] for p in new.values() if p["accepted_email_marketing"] or p["accepted_sms_marketing"]}
    declined = {p["email"] for p in new.values()} - consenting
    assert len(consenting) >= 2 and len(declined) >= 2
    found = contacts(editable)
    assert set(found) == consenting  # opted-out patients are never sent
    assert all(c["tags"] == ["new-patient", "cliniko"] for c in found.values())
    enrolled = [e["contactId"] for e in editable.ghl("GET", "/__sandbox__/enrolments")["enrolments"]]
    assert sorted(enrolled) == sorted(c["id"] for c in found.values())  # each exactly once
    for c in found.values():  # a channel without consent goes as DND
        patient = next(p for p in new.values() if p["email"] == c["email"])
        assert ("SMS" in c.get("dndSettings", {})) == (not patient["accepted_sms_marketing"])
    with editable.store() as store:
        records = store.engage_contacts("gohighlevel", GHL_LOCATION)
    assert {r.status for r in records.values()} == {"onboarded", "declined"}
    assert all(r.reason == NO_CONSENT for r in records.values() if r.status == "declined")
    run = metadata(result, "gohighlevel_onboarding")
    assert run["run_new_patients"] == len(new) and run["run_ghl_writes"] == 3 * len(consenting)
    assert not leaks(metadata_texts(result), editable.practice)

    before = editable.ghl("GET", "/__sandbox__/stats")["calls"]
    again = editable.onboard(mapping, *OCTOBER)
    assert again.success and metadata(again, "gohighlevel_onboarding")["run_ghl_writes"] == 0
    assert change(before, editable.ghl("GET", "/__sandbox__/stats")["calls"]) == {}  # 0 calls that change anything


def test_a_later_change_of_email_or_phone_updates_the_same_contact(editable):
    mapping = editable.mapping(mailchimp=None)
    assert editable.onboard(mapping, DAY).success
    before = min(contacts(editable).values(), key=lambda c: c["id"])
    others = set(contacts(editable)) - {before["email"]}
    patient = next(p for p in editable.practice.patients if p["email"] == before["email"])
    patient["email"] = "moved.house@example.org"
    patient["patient_phone_numbers"][0].update(number="0499 111 222", normalized_number="61499111222")
    patient["updated_at"] = "2026-10-20T01:00:00Z"  # Tuesday 20 Oct, Sydney
    calls = editable.ghl("GET", "/__sandbox__/stats")["calls"]
    result = editable.onboard(mapping, "2026-10-20")
    assert result.success and metadata(result, "gohighlevel_onboarding", "2026-10-20")["updated"] == 1
    assert change(calls, editable.ghl("GET", "/__sandbox__/stats")["calls"]) == {"PUT /contacts/{contactId}": 1}
    after = contacts(editable)
    assert set(after) == {"moved.house@example.org"} | others  # the same contact, not a second one
    assert after["moved.house@example.org"]["id"] == before["id"]
    assert after["moved.house@example.org"]["phone"] == "+61499111222"
    assert editable.onboard(mapping, "2026-10-20").success  # and once only
    assert change(calls, editable.ghl("GET", "/__sandbox__/stats")["calls"]) == {"PUT /contacts/{contactId}": 1}


def _new_patient(practice, pid: str, first: str, last: str, email: str, booked: str) -> None:
    template = next(p for p in practice.patients if p["accepted_email_marketing"])
    practice.patients.append(
        {
            **template,
            "id": pid,
            "first_name": first,
            "last_name": last,
            "label": f"{first} {last}",
            "email": email,
            "patient_phone_numbers": [
                {"phone_type": "Mobile", "number": f"04{pid[-8:]}", "normalized_number": f"614{pid[-8:]}"}
            ],
            "created_at": booked,
            "updated_at": booked,
        }  # fmt: skip
    )
    appointment = practice.individual_appointments[0]
    practice.individual_appointments.append(
        {
            **appointment,
            "id": str(8_000_000 + int(pid)),
            "patient_id": pid,
            "created_at": booked,
            "updated_at": booked,
            "starts_at": "2026-10-20T00:00:00Z",
            "ends_at": "2026-10-20T00:30:00Z",
        }  # fmt: skip
    )


def test_two_patients_of_one_name_stay_two_contacts_and_a_shared_email_is_never_merged(editable):
    booked = utc(datetime(2026, 10, 13, 23, 0, tzinfo=UTC))  # 10:00 on 14 Oct, Sydney
    _new_patient(editable.practice, "50000001", "Emily", "Chen", "emily.chen.a@example.org", booked)
    _new_patient(editable.practice, "50000002", "Emily", "Chen", "emily.chen.b@example.org", booked)
    _new_patient(editable.practice, "50000003", "Sam", "Chen", "emily.chen.a@example.org", booked)  # a family address
    result = editable.onboard(editable.mapping(mailchimp=None), DAY)
    assert result.success
    emilys = [c for c in contacts(editable).values() if c.get("name") == "Emily Chen"]
    assert len(emilys) == 2 and len({c["id"] for c in emilys}) == 2
    assert not any(c.get("firstName") == "Sam" for c in contacts(editable).values())  # never merged into Emily's
    with editable.store() as store:
        sam = store.engage_contacts("gohighlevel", GHL_LOCATION)["cliniko:patient:50000003"]
    assert sam.status == "skipped" and "cliniko:patient:50000001" in str(sam.reason) and "@" not in str(sam.reason)
    table = metadata(result, "gohighlevel_onboarding", DAY)["not_sent"]
    assert "cliniko:patient:50000003" in table and "Sam" not in table


def test_429s_are_waited_out_and_a_refused_step_is_finished_by_the_rerun_without_repeating(editable):
    mapping = editable.mapping(mailchimp=None, gohighlevel={**GHL, "workflow_id": "not-a-workflow"})
    editable.ghl("POST", "/__sandbox__/faults", json={"path_prefix": "/contacts/", "status": 429, "count": 3})
    failed = editable.onboard(mapping, DAY, ghl_time_scale=1000)  # the 10-second interval lasts 10 ms
    assert not failed.success  # the workflow id is refused: the step stops, saying which mapping key to fix
    error = str(failed.get_step_failure_events()[0].step_failure_data.error.message)
    assert "gohighlevel.workflow_id" in error
    calls = editable.ghl("GET", "/__sandbox__/stats")["calls"]
    assert calls["POST /contacts/upsert"] == 4  # three 429s, then the contact
    assert len(contacts(editable)) == 1 and all(c["tags"] for c in contacts(editable).values())
    fixed = editable.mapping(mailchimp=None)
    assert editable.onboard(fixed, DAY).success
    done = change(calls, editable.ghl("GET", "/__sandbox__/stats")["calls"])
    # the first patient gets only the step left; the second (not reached when the step stopped) everything, once each
    assert done == {
        "POST /contacts/{contactId}/workflow/{workflowId}": 2,
        "POST /contacts/upsert": 1,
        "POST /contacts/{contactId}/tags": 1,
    }
    enrolments = editable.ghl("GET", "/__sandbox__/enrolments")["enrolments"]
    assert sorted(e["contactId"] for e in enrolments) == sorted(c["id"] for c in contacts(editable).values())
    assert {e["workflowId"] for e in enrolments} == {SANDBOX_WORKFLOW_ID}
