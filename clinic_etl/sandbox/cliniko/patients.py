"""Synthetic patients: mostly ordinary names, plus the awkward cases an ETL must survive.

Specials (always present, whatever the seed): two different patients named exactly "Emily Chen", several
non-ASCII names, a patient without an e-mail (null), and a patient archived part-way through the window.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic_etl.sandbox.cliniko import names
from clinic_etl.sandbox.cliniko.reference import TIME_ZONE
from clinic_etl.sandbox.cliniko.wire import utc

ARCHIVED_PATIENT_AT = datetime(2026, 10, 21, 3, 12, 40, tzinfo=UTC)
_HISTORY_START = datetime(2022, 3, 1, tzinfo=UTC)


@dataclass
class Specials:
    """Ids of the patients that must appear on live invoices (generation-only bookkeeping)."""

    twins: list[str] = field(default_factory=list)
    non_ascii: list[str] = field(default_factory=list)
    no_email: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.twins + self.non_ascii + self.no_email + self.archived


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _patient(rng: random.Random, title: str, first: str, last: str, sex: str, created: datetime) -> dict:
    suburb, post_code = rng.choice(names.SUBURBS)
    mobile = f"04{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    insurer = rng.choice(names.INSURERS) if rng.random() < 0.12 else None
    stamp = utc(created)
    phone = {
        "phone_type": "Mobile",
        "number": mobile,
        "normalized_number": "61" + mobile[1:].replace(" ", ""),
    }
    return {
        "id": "", "title": title, "first_name": first, "last_name": last, "preferred_first_name": "",
        "label": f"{first} {last}", "date_of_birth": date(rng.randint(1940, 2012), rng.randint(1, 12),
                                                          rng.randint(1, 28)).isoformat(),
        "sex": sex, "gender_identity": None, "gender": sex, "pronouns": None,
        "email": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{rng.choice(names.EMAIL_DOMAINS)}",
        "patient_phone_numbers": [phone],
        "address_1": f"{rng.randint(1, 250)} {rng.choice(names.STREETS)}", "address_2": "", "address_3": "",
        "city": suburb, "state": "NSW", "post_code": post_code, "country": "Australia",
        "time_zone": TIME_ZONE if rng.random() < 0.6 else None, "occupation": rng.choice(names.OCCUPATIONS),
        "emergency_contact": "", "medicare": "", "medicare_reference_number": "", "dva_card_number": "",
        "notes": "", "appointment_notes": "", "referral_source": "", "custom_fields": None,
        "invoice_default_to": insurer, "invoice_email": None,
        "invoice_extra_information": f"{insurer} member {rng.randint(10000000, 99999999)}" if insurer else "",
        "old_reference_id": f"PM-{rng.randint(1000, 9999)}" if created.year < 2023 else "",
        "accepted_privacy_policy": True, "accepted_email_marketing": rng.random() < 0.3,
        "accepted_sms_marketing": False, "receives_confirmation_emails": True, "reminder_type": "SMS & Email",
        "archived_at": None, "deleted_at": None, "merged_at": None, "created_at": stamp, "updated_at": stamp,
        "concession_type_id": None, "referring_doctor_id": None, "merged_with_patient_id": None,
    }  # fmt: skip


def _random_before(rng: random.Random, end: datetime) -> datetime:
    seconds = int((end - _HISTORY_START).total_seconds())
    return _HISTORY_START + timedelta(seconds=rng.randrange(seconds))


def make_patients(rng: random.Random, window_days: list[date], count: int = 320) -> tuple[list[dict], Specials]:
    """`count` patients sorted by created_at with sequential ids; ~6 % join during the window."""
    zone = ZoneInfo(TIME_ZONE)
    window_start = datetime.combine(window_days[0], time(0), tzinfo=zone).astimezone(UTC)
    tagged: list[tuple[str, dict]] = []
    for first, last in (names.TWIN_NAME, names.TWIN_NAME):
        tagged.append(("twins", _patient(rng, "Ms", first, last, "Female", _random_before(rng, window_start))))
    for title, first, last, sex in names.SPECIAL_NAMES:
        tagged.append(("non_ascii", _patient(rng, title, first, last, sex, _random_before(rng, window_start))))
    no_email = _patient(rng, "Mrs", "Margaret", "Doyle", "Female", _random_before(rng, window_start))
    no_email["email"] = None
    tagged.append(("no_email", no_email))
    archived = _patient(rng, "Mr", "Graham", "Lowe", "Male", _random_before(rng, window_start))
    archived["archived_at"] = archived["updated_at"] = utc(ARCHIVED_PATIENT_AT)
    tagged.append(("archived", archived))
    while len(tagged) < count:
        female = rng.random() < 0.58
        first = rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST)
        title = rng.choice(("Ms", "Mrs", "Miss", "")) if female else rng.choice(("Mr", ""))
        if rng.random() < 0.06:  # a new patient, created before opening on a window day
            day = rng.choice(window_days[1:])
            created = datetime.combine(day, time(7, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=zone)
        else:
            created = _random_before(rng, window_start)
        sex = "Female" if female else "Male"
        tagged.append(("", _patient(rng, title, first, rng.choice(names.LAST), sex, created)))
    tagged.sort(key=lambda pair: pair[1]["created_at"])
    specials = Specials()
    next_id = 1001
    for tag, patient in tagged:
        patient["id"] = str(next_id)
        next_id += rng.choice((1, 1, 1, 2))
        if tag:
            getattr(specials, tag).append(patient["id"])
    return [patient for _, patient in tagged], specials
