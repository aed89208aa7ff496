"""New patients as GoHighLevel contacts (pure): who may be sent, and what is sent.

- Consent (`gohighlevel.consent`): Cliniko's `accepted_email_marketing` / `accepted_sms_marketing` must be true
  (`email`, `sms`, either for `email_or_sms`); `none` sends every new patient. A patient without it is never sent.
- A channel the patient has not consented to is sent as DND on (`dndSettings.<Email|SMS>.status: active`). DND is
  never switched off by the sync: a patient's STOP in GHL stays.
- The contact has the patient's names (the preferred first name when there is one), e-mail and phone; never a date
  of birth, address, notes or anything clinical. Tags go through the tags endpoint, never in the body (an upsert's
  `tags` replaces every tag the contact has).
- The content hash covers exactly what is sent, so a changed e-mail, phone, name or consent updates the contact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pandas as pd

from clinic_etl.mapping import GoHighLevel
from clinic_etl.store.engage import personal_hash

SOURCE = "cliniko"
ROW_COLUMNS = ["source_key", "patient_id", "day", "first", "eligible", "reason", "body", "content_hash"]
ROW_COLUMNS += ["email_hash", "phone_hash"]
NO_CONSENT = "no marketing consent in Cliniko (accepted_email_marketing / accepted_sms_marketing)"
NO_CHANNEL = "no e-mail or phone in Cliniko: GHL has nothing to find the contact by"


def patient_key(patient_id: str) -> str:
    return f"{SOURCE}:patient:{patient_id}"


def _consents(patient: dict, rule: str) -> bool:
    email, sms = bool(patient["accepted_email_marketing"]), bool(patient["accepted_sms_marketing"])
    return {"email": email, "sms": sms, "email_or_sms": email or sms, "none": True}[rule]


def contact_body(patient: dict, config: GoHighLevel) -> dict:
    """The fields of a contact as the sync manages them (upsert and update alike; `locationId` is the client's)."""
    first = patient["preferred_first_name"] or patient["first_name"]
    last = patient["last_name"]
    body: dict = {
        "firstName": first,
        "lastName": last,
        "name": " ".join(part for part in (first, last) if part) or None,
        "email": patient["email"],
        "phone": patient["phone"],
        "source": config.source,
    }
    if config.consent != "none":
        dnd = {}
        if not patient["accepted_email_marketing"]:
            dnd["Email"] = {"status": "active"}
        if not patient["accepted_sms_marketing"]:
            dnd["SMS"] = {"status": "active"}
        if dnd:
            body["dndSettings"] = dnd
    return {k: v for k, v in body.items() if v is not None}


def content_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def contact_rows(
    first_bookings: pd.DataFrame, patients: pd.DataFrame, config: GoHighLevel, day_of: Callable[[str], str]
) -> pd.DataFrame:
    """One row per patient read: those whose first appointment was booked in the window (`first`, on the day it was
    booked), and the others read because they changed in it (on the day of the change; sent only if the state store
    says they are in GHL already). `day_of` gives an instant's local day."""
    days = dict(zip(first_bookings["patient_id"], first_bookings["day"], strict=True))
    rows = []
    for patient in patients.to_dict("records"):
        pid = patient["id"]
        body = contact_body(patient, config)
        reason = ""
        if not _consents(patient, config.consent):
            reason = NO_CONSENT
        elif not patient["email"] and not patient["phone"]:
            reason = NO_CHANNEL
        rows.append(
            {
                "source_key": patient_key(pid),
                "patient_id": pid,
                "day": days.get(pid) or (day_of(patient["updated_at"]) if patient["updated_at"] else None),
                "first": pid in days,
                "eligible": not reason,
                "reason": reason,
                "body": body,
                "content_hash": content_hash(body),
                "email_hash": personal_hash("email", patient["email"]),
                "phone_hash": personal_hash("phone", patient["phone"]),
            }
        )
    return pd.DataFrame(rows, columns=ROW_COLUMNS)
