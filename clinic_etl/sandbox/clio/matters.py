"""Synthetic matters: one to three per client, numbered in opening order, `display_number` like
`00042-Okonkwo` (Clio's default "number-client" pattern, unverified).

Most matters were opened before the window; the client created during the window opens its matter that day;
one matter closes during the window (its `updated_at` moves).
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta
from typing import Any

from clinic_etl.sandbox.clio import names
from clinic_etl.sandbox.clio.days import office_moment
from clinic_etl.sandbox.clio.reference import ATTORNEYS, PRACTICE_AREAS, USD_ID
from clinic_etl.sandbox.clio.wire import local_date, parse_stamp, stamp

FIRST_MATTER_ID, FIRST_NUMBER = 1_318_544_001, 1201
_AREA_IDS = {name: area_id for area_id, name, _category, _code in PRACTICE_AREAS}


def _short(contact: dict[str, Any]) -> str:
    base = contact["last_name"] if contact["type"] == "Person" else contact["name"].split()[0].strip(",")
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch in "-'") or "Client"


def _description(rng: random.Random, area: str, contact: dict[str, Any]) -> str:
    template = rng.choice(names.MATTER_WORDING[area])
    other = rng.choice(names.COMPANIES).split(",")[0]
    street = f"{rng.randint(10, 640)} {rng.choice(names.STREETS)}"
    return template.format(other=other, street=street, last=contact["last_name"] or contact["name"])


def make_matters(rng: random.Random, contacts: list[dict[str, Any]], days: list[date]) -> list[dict[str, Any]]:
    drafts: list[tuple[str, dict[str, Any], str, str]] = []  # (opened stamp, client, area, billing method)
    for contact in contacts:
        if not contact["is_client"]:
            continue
        count = 1 if contact["type"] == "Person" and rng.random() < 0.55 else rng.choice((1, 2, 2, 3))
        created = parse_stamp(contact["created_at"])
        for index in range(count):
            area = rng.choice(list(names.MATTER_WORDING))
            if created.date() >= days[0] - timedelta(days=7):
                opened = created + timedelta(minutes=20 + 30 * index)
            else:
                span = max(1, (days[0] - created.date()).days - 2)
                opened = office_moment(rng, created.date() + timedelta(days=rng.randrange(1, span + 1)))
            method = "flat" if area in ("Estate Planning", "Real Estate") and rng.random() < 0.5 else "hourly"
            drafts.append((stamp(opened), contact, area, method))
    drafts.sort(key=lambda item: item[0])
    rows, matter_id = [], FIRST_MATTER_ID
    for number, (opened, contact, area, method) in enumerate(drafts, start=FIRST_NUMBER):
        attorney = rng.choice(ATTORNEYS)[0]
        rows.append({
            "id": matter_id, "number": number, "display_number": f"{number:05d}-{_short(contact)}",
            "custom_number": None, "description": _description(rng, area, contact), "status": "Open",
            "location": None, "client_reference": None, "client_id": contact["id"], "billable": True,
            "maildrop_address": f"{number:05d}.matter@maildrop.example.com", "billing_method": method,
            "open_date": local_date(opened).isoformat(), "close_date": None, "pending_date": None,
            "created_at": opened, "updated_at": opened, "shared": False, "has_tasks": False,
            "last_activity_date": None, "matter_stage_updated_at": None,
            "currency": {"id": USD_ID, "code": "USD", "sign": "$"},
            "responsible_attorney_id": attorney, "originating_attorney_id": rng.choice(ATTORNEYS)[0],
            "user_id": attorney, "practice_area_id": _AREA_IDS[area], "custom_field_values": [],
            "matter_bill_recipients": [], "relationships": [],
        })  # fmt: skip
        matter_id += rng.choice((1, 1, 3, 7))
    return rows


def close_matter(rng: random.Random, matter: dict[str, Any], day: date) -> None:
    closed = stamp(office_moment(rng, day))
    matter.update({"status": "Closed", "close_date": day.isoformat(), "updated_at": closed})
