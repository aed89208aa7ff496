"""Synthetic contacts: clients (people and companies), a few non-clients, and the awkward cases an ETL must
survive.

Specials (always present, whatever the seed): two different clients named exactly "Maria Garcia", a client
with no e-mail address at all, non-ASCII people and companies, a client whose billing address changes during
the window (its `updated_at` moves), and a client created during the window. E-mail addresses, phone numbers
and addresses are stored on the contact as lists (`email_addresses`, `phone_numbers`, `addresses`) with
their own ids; `primary_*` fields repeat the primary entries, as Clio shows them.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from clinic_etl.sandbox.clio import names
from clinic_etl.sandbox.clio.days import office_moment
from clinic_etl.sandbox.clio.reference import USD_ID
from clinic_etl.sandbox.clio.wire import ZONE, stamp

FIRST_CONTACT_ID, FIRST_DETAIL_ID = 1_402_118_001, 62_500_001
_HISTORY_START = datetime(2021, 3, 1, 9, tzinfo=ZONE)


@dataclass
class Specials:
    """Contact ids of the cases the firm must contain (generation-only bookkeeping)."""

    twins: list[int] = field(default_factory=list)
    no_email: list[int] = field(default_factory=list)
    non_ascii: list[int] = field(default_factory=list)
    edited: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)

    def clients(self) -> list[int]:
        return self.twins + self.no_email + self.non_ascii + self.edited + self.new


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class _Ids:
    def __init__(self) -> None:
        self.next = FIRST_DETAIL_ID

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def _address(rng: random.Random, ids: _Ids, name: str, primary: bool, created: str) -> dict[str, Any]:
    city, province, postal = rng.choice(names.CITIES)
    street = f"{rng.randint(1, 980)} {rng.choice(names.STREETS)}"
    if name == "Home" and rng.random() < 0.35:
        street += f", Apt {rng.randint(1, 24)}{rng.choice('ABCDEF')}"
    return {"id": ids.take(), "street": street, "city": city, "province": province, "postal_code": postal,
            "country": "United States", "name": name, "primary": primary, "created_at": created,
            "updated_at": created}  # fmt: skip


def _email(ids: _Ids, address: str, name: str, primary: bool, created: str) -> dict[str, Any]:
    return {"id": ids.take(), "address": address, "name": name, "primary": primary, "created_at": created,
            "updated_at": created}  # fmt: skip


def _phone(rng: random.Random, ids: _Ids, name: str, primary: bool, created: str) -> dict[str, Any]:
    number = f"{rng.choice(('212', '646', '718', '917', '201'))}-555-{rng.randint(100, 199):04d}"
    return {"id": ids.take(), "number": number, "name": name, "primary": primary, "created_at": created,
            "updated_at": created}  # fmt: skip


def _contact(kind: str, created: datetime) -> dict[str, Any]:
    text = stamp(created)
    return {
        "id": 0, "type": kind, "name": "", "first_name": None, "middle_name": None, "last_name": None,
        "prefix": None, "title": None, "initials": None, "date_of_birth": None,
        "primary_email_address": None, "secondary_email_address": None, "primary_phone_number": None,
        "secondary_phone_number": None, "is_client": True, "is_bill_recipient": False, "is_co_counsel": False,
        "is_clio_for_client_user": False, "has_clio_for_clients_permission": False, "clio_connect_email": None,
        "locked_clio_connect_email": False, "client_connect_user_id": None, "ledes_client_id": None,
        "sales_tax_number": None, "currency": {"id": USD_ID, "code": "USD", "sign": "$"},
        "created_at": text, "updated_at": text, "company_id": None,
        "email_addresses": [], "phone_numbers": [], "addresses": [], "custom_field_values": [],
        "web_sites": [], "instant_messengers": [],
    }  # fmt: skip


def _person(rng: random.Random, ids: _Ids, first: str, last: str, prefix: str, created: datetime) -> dict:
    row = _contact("Person", created)
    middle = rng.choice(names.MIDDLE) if rng.random() < 0.25 else None
    row.update({
        "name": " ".join(part for part in (first, middle, last) if part), "first_name": first,
        "middle_name": middle, "last_name": last, "prefix": prefix or None,
        "initials": "".join(part[0] for part in (first, middle, last) if part),
        "date_of_birth": date(rng.randint(1945, 2002), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
    })  # fmt: skip
    text = row["created_at"]
    domain = rng.choice(names.EMAIL_DOMAINS)
    home = _email(ids, f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{domain}", "Home", True, text)
    row["email_addresses"].append(home)
    if rng.random() < 0.2:
        row["email_addresses"].append(_email(ids, f"{_ascii(first)[0]}{_ascii(last)}@work.{domain}", "Work",
                                             False, text))  # fmt: skip
    row["phone_numbers"].append(_phone(rng, ids, rng.choice(("Personal", "Work")), True, text))
    row["addresses"].append(_address(rng, ids, "Home", True, text))
    return row


def _company(rng: random.Random, ids: _Ids, name: str, created: datetime) -> dict:
    row = _contact("Company", created)
    row.update({"name": name, "initials": "".join(word[0] for word in name.split()[:3] if word[0].isalpha())})
    text = row["created_at"]
    slug = _ascii(name.split(",")[0])[:18]
    row["email_addresses"].append(_email(ids, f"accounts@{slug}.example.com", "Work", True, text))
    row["phone_numbers"].append(_phone(rng, ids, "Work", True, text))
    row["addresses"].append(_address(rng, ids, "Billing", True, text))
    if rng.random() < 0.5:
        row["addresses"].append(_address(rng, ids, "Work", False, text))
    if rng.random() < 0.4:
        row["sales_tax_number"] = f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"
    return row


def _before_window(rng: random.Random, window_start: date) -> datetime:
    span = (datetime.combine(window_start, datetime.min.time(), tzinfo=ZONE) - _HISTORY_START).days
    return office_moment(rng, (_HISTORY_START + timedelta(days=rng.randrange(span - 7))).date())


def make_contacts(rng: random.Random, days: list[date], clients: int = 60) -> tuple[list[dict], Specials]:
    """Clients (people and companies) plus a few non-client contacts, sorted by `created_at`, sequential ids."""
    ids = _Ids()
    tagged: list[tuple[str, dict]] = []
    for first, last in (names.TWIN_NAME, names.TWIN_NAME):
        tagged.append(("twins", _person(rng, ids, first, last, "Ms.", _before_window(rng, days[0]))))
    for first, last, prefix in names.SPECIAL_PEOPLE:
        tagged.append(("non_ascii", _person(rng, ids, first, last, prefix, _before_window(rng, days[0]))))
    for company in names.SPECIAL_COMPANIES:
        tagged.append(("non_ascii", _company(rng, ids, company, _before_window(rng, days[0]))))
    no_email = _person(rng, ids, "Harold", "Finch", "Mr.", _before_window(rng, days[0]))
    no_email["email_addresses"] = []
    tagged.append(("no_email", no_email))
    tagged.append(("edited", _person(rng, ids, "Walter", "Brennan", "Mr.", _before_window(rng, days[0]))))
    new_day = days[len(days) // 3]
    tagged.append(("new", _company(rng, ids, "Greenpoint Robotics Inc.", office_moment(rng, new_day, 8, 10))))
    for company in names.COMPANIES:
        tagged.append(("", _company(rng, ids, company, _before_window(rng, days[0]))))
    while len(tagged) < clients:
        first, last = rng.choice(names.FIRST), rng.choice(names.LAST)
        tagged.append(("", _person(rng, ids, first, last, rng.choice(names.PREFIXES), _before_window(rng, days[0]))))
    employers = [_company(rng, ids, name, _before_window(rng, days[0])) for name in names.EMPLOYERS]
    for employer in employers:
        employer["is_client"] = False
        tagged.append(("employer", employer))
    for _ in range(4):  # opposing counsel and other non-clients
        other = _person(rng, ids, rng.choice(names.FIRST), rng.choice(names.LAST), "", _before_window(rng, days[0]))
        other["is_client"], other["title"] = False, "Attorney"
        tagged.append(("", other))
    tagged.sort(key=lambda pair: pair[1]["created_at"])
    specials, next_id = Specials(), FIRST_CONTACT_ID
    for tag, row in tagged:
        row["id"] = next_id
        next_id += rng.choice((1, 1, 2, 5))
        if tag and tag != "employer":
            getattr(specials, tag).append(row["id"])
    employer_ids = [row["id"] for tag, row in tagged if tag == "employer"]
    rows = [row for _, row in tagged]
    for row in rows:
        if row["type"] == "Person" and row["is_client"] and rng.random() < 0.2:
            row["company_id"] = rng.choice(employer_ids)
        _sync_primaries(row)
    edited = next(row for row in rows if row["id"] == specials.edited[0])
    _move_billing_address(rng, ids, edited, days[len(days) // 2])
    return rows, specials


def _move_billing_address(rng: random.Random, ids: _Ids, row: dict, day: date) -> None:
    """The client moves during the window: a new primary address, the old one kept as "Other"."""
    moved = stamp(office_moment(rng, day))
    for address in row["addresses"]:
        address.update({"primary": False, "name": "Other", "updated_at": moved})
    row["addresses"].append(_address(rng, ids, "Billing", True, moved))
    row["updated_at"] = moved
    _sync_primaries(row)


def _sync_primaries(row: dict) -> None:
    emails = row["email_addresses"]
    primary = next((e for e in emails if e["primary"]), None)
    row["primary_email_address"] = primary["address"] if primary else None
    others = [e["address"] for e in emails if not e["primary"]]
    row["secondary_email_address"] = others[0] if others else None
    phones = row["phone_numbers"]
    row["primary_phone_number"] = next((p["number"] for p in phones if p["primary"]), None)
    row["secondary_phone_number"] = next((p["number"] for p in phones if not p["primary"]), None)
