"""The practice's fixed set-up: locations, practitioners, taxes, billable items and products.

Australian allied-health practice in Sydney, prices in AUD. GST-free health services link the 0 % tax
"GST Free"; massage, Pilates, reports and retail carry 10 % GST; the missed-appointment fee has no tax link
at all (so its invoice items carry a null `tax_name`/`tax_rate`), which is the other way Cliniko shows a
tax-free line. Business and practitioner ids are 64-bit like the real ones (beyond 2**53).
"""

from __future__ import annotations

from typing import Any

from clinic_etl.sandbox.cliniko.wire import money

TIME_ZONE = "Australia/Sydney"
GST_ID, GST_FREE_ID = "1", "2"


def _stamp(text: str) -> dict[str, str]:
    return {"created_at": text, "updated_at": text}


def businesses() -> list[dict[str, Any]]:
    sites = [
        ("514810976554457178", "Surry Hills", "412 Crown Street", "2010", "2024-02-12T23:04:11Z"),
        ("514810976554457305", "Parramatta", "88 Church Street", "2150", "2024-02-12T23:09:47Z"),
        ("733190518264881540", "Manly", "17 Pittwater Road", "2095", "2025-06-30T01:15:02Z"),
    ]
    rows = []
    for business_id, suburb, street, post_code, created in sites:
        name = f"Harbourside Allied Health {suburb}"
        rows.append({
            "id": business_id, "business_name": name, "display_name": name, "label": name,
            "address_1": street, "address_2": "", "city": suburb, "state": "NSW", "post_code": post_code,
            "country": "Australia", "country_code": "AU", "business_registration_name": "ABN",
            "business_registration_value": "51 824 753 556", "contact_information": "(02) 9000 0000",
            "email_reply_to": f"{suburb.lower().replace(' ', '')}@harbourside.example.com",
            "website_address": "https://harbourside.example.com", "additional_information": None,
            "additional_invoice_information": "Payment due within 14 days.",
            "appointment_reminders_enabled": True, "appointment_type_ids": ["1001", "1002", "1003"],
            "show_in_online_bookings": True, "time_zone": "Sydney", "time_zone_identifier": TIME_ZONE,
            "archived_at": None, "deleted_at": None, **_stamp(created),
        })  # fmt: skip
    return rows


# (id, title, first, last, designation, discipline, business indexes, user id, created, deactivated)
PRACTITIONERS = (
    ("842114790016322561", "Ms", "Olivia", "Bennett", "Physiotherapist", "physio", (0, 1),
     "842114789950001153", "2024-02-13T00:10:00Z", None),
    ("842114790016322562", "Mr", "Rajesh", "Kumar", "Physiotherapist", "physio", (0,),
     "842114789950001154", "2024-02-13T00:12:00Z", None),
    ("842114790016322563", "Ms", "Hannah", "Walsh", "Remedial Massage Therapist", "massage", (0, 2),
     "842114789950001155", "2024-03-01T02:00:00Z", None),
    ("842114790016322564", "Mr", "Tom", "Fitzgerald", "Exercise Physiologist", "ep", (1, 2),
     "842114789950001156", "2024-05-20T03:30:00Z", None),
    ("842114790016322565", "Dr", "Mei Lin", "Zhao", "Podiatrist", "podiatry", (0, 1),
     "842114789950001157", "2024-08-05T04:45:00Z", None),
    ("842114790016322566", "Mr", "Liam", "O'Brien", "Physiotherapist", "physio", (2,),
     "842114789950001158", "2025-07-01T00:00:00Z", "2026-10-16T06:30:00Z"),
)  # fmt: skip


_DISCIPLINES = (
    ("Physiotherapist", "physio"),
    ("Remedial Massage Therapist", "massage"),
    ("Exercise Physiologist", "ep"),
    ("Physiotherapist", "physio"),
    ("Podiatrist", "podiatry"),
)
_MORE_NAMES = (
    ("Ms", "Grace", "Nolan"), ("Mr", "Arjun", "Mehta"), ("Ms", "Sophie", "Tran"), ("Mr", "Daniel", "Ashby"),
    ("Ms", "Isla", "Ferreira"), ("Mr", "Kenji", "Watanabe"), ("Ms", "Leah", "Gallagher"), ("Mr", "Omar", "Haddad"),
    ("Ms", "Ruby", "McKenzie"), ("Mr", "Ethan", "Papadopoulos"), ("Ms", "Priya", "Raman"), ("Mr", "Hamish", "Reid"),
    ("Ms", "Chloe", "Dubois"), ("Mr", "Lachlan", "Price"),
)  # fmt: skip


def staff(count: int = len(PRACTITIONERS)) -> tuple[tuple, ...]:
    """The practitioners' rows: the named six, then (for a larger benchmark practice) made-up ones working at
    one or two of the first two sites, their disciplines and names taken in turn (no randomness)."""
    rows = list(PRACTITIONERS[:count])
    for n in range(count - len(rows)):
        title, first, last = _MORE_NAMES[n % len(_MORE_NAMES)]
        designation, discipline = _DISCIPLINES[n % len(_DISCIPLINES)]
        sites = ((0,), (1,), (0, 1))[n % 3]
        pid, user = 842114790016322601 + n, 842114789950001201 + n
        rows.append((str(pid), title, first, last, designation, discipline, sites, str(user),
                     "2024-09-02T00:00:00Z", None))  # fmt: skip
    return tuple(rows)


def practitioners(rows: tuple[tuple, ...] = PRACTITIONERS) -> list[dict[str, Any]]:
    rows_out = []
    for pid, title, first, last, designation, _d, _b, user_id, created, deactivated in rows:
        rows_out.append({
            "id": pid, "title": title, "first_name": first, "last_name": last,
            "display_name": f"{first} {last}", "label": f"{title} {first} {last}", "designation": designation,
            "description": f"{designation} at Harbourside Allied Health.", "active": deactivated is None,
            "show_in_online_bookings": deactivated is None, "user_id": user_id,
            "default_appointment_type_id": None, "created_at": created, "updated_at": deactivated or created,
        })  # fmt: skip
    return rows_out


def taxes() -> list[dict[str, Any]]:
    return [
        {"id": GST_ID, "name": "GST", "rate": "10.0", "amount": "10.0", **_stamp("2024-02-12T23:05:00Z")},
        {
            "id": GST_FREE_ID,
            "name": "GST Free",
            "rate": "0.0",
            "amount": "0.0",
            **_stamp("2024-02-12T23:05:30Z"),
        },
    ]


# (id, code, name, ex-tax price, tax id or None, discipline, archived_at)
BILLABLE_ITEMS = (
    ("1", "PHY-INIT", "Physiotherapy Initial Consultation", "120.0", GST_FREE_ID, "physio", None),
    ("2", "PHY-STD", "Physiotherapy Standard Consultation", "95.0", GST_FREE_ID, "physio", None),
    ("3", "PHY-LONG", "Physiotherapy Long Consultation", "140.0", GST_FREE_ID, "physio", None),
    ("4", "RM-60", "Remedial Massage 60 min", "100.0", GST_ID, "massage", None),
    ("5", "RM-30", "Remedial Massage 30 min", "63.636", GST_ID, "massage", None),
    ("6", "EP-INIT", "Exercise Physiology Initial Assessment", "150.0", GST_FREE_ID, "ep", None),
    ("7", "EP-STD", "Exercise Physiology Session", "89.5", GST_FREE_ID, "ep", None),
    ("8", "POD-STD", "Podiatry Consultation", "85.0", GST_FREE_ID, "podiatry", None),
    ("9", "PIL-CLASS", "Clinical Pilates Class", "36.364", GST_ID, "pilates", None),
    ("10", "REPORT", "Medico-legal Report", "181.818", GST_ID, "report", None),
    ("11", "DNA", "Missed Appointment Fee", "50.0", None, "fee", None),
    ("12", "PHY-OLD", "Physiotherapy Consultation (2024 price)", "89.0", GST_FREE_ID, "physio",
     "2025-07-01T00:30:00Z"),
)  # fmt: skip
CONCESSION_PRICES = {"2": "80.0", "7": "75.0", "8": "70.0"}  # "Pensioner" concession, ex-tax


def billable_items() -> list[dict[str, Any]]:
    rows = []
    for item_id, code, name, price, tax_id, discipline, archived in BILLABLE_ITEMS:
        created = "2024-02-13T01:00:00Z" if int(item_id) < 12 else "2024-02-13T01:30:00Z"
        item_type = "Other" if discipline == "fee" else "Service"
        rows.append({
            "id": item_id, "item_code": code, "item_type": item_type, "name": name, "price": price,
            "tax_id": tax_id, "archived_at": archived, "created_at": created,
            "updated_at": archived or created,
        })  # fmt: skip
    return rows


# (id, code, name, ex-tax price, price including tax, cost price, stock level)
PRODUCTS = (
    ("1", "TB-RED", "TheraBand Resistance Band (Red)", "18.182", "20.0", "7.5", 42),
    ("2", "FR-90", "Foam Roller 90 cm", "40.909", "45.0", "19.0", 11),
    ("3", "HP-WHEAT", "Wheat Heat Pack", "22.727", "25.0", "9.2", 23),
)


def products() -> list[dict[str, Any]]:
    return [
        {
            "id": pid, "item_code": code, "name": name, "notes": None, "price_ex_tax": money(ex_tax),
            "price_including_tax": money(inc_tax), "cost_price": money(cost), "stock_level": stock,
            "serial_number": None, "product_supplier_name": "Allied Supplies Pty Ltd",
            "product_supplier_id": "1", "tax_id": GST_ID, "archived_at": None,
            **_stamp("2024-03-04T05:00:00Z"),
        }
        for pid, code, name, ex_tax, inc_tax, cost, stock in PRODUCTS
    ]  # fmt: skip


# Appointment types (APPOINTMENTS.md §5): (id, name, category, minutes, discipline, colour). Types 1001-1003 are the
# ones every appointment before them carries; 1004 prices podiatry; 1005 has no billable item at all (a telehealth
# check-in the practice does not charge for), which an appointment-invoicing run quarantines.
APPOINTMENT_TYPES = (
    ("1001", "Physiotherapy Consultation", "Physiotherapy", 30, "physio", "#2e86de"),
    ("1002", "Remedial Massage 60 min", "Massage", 60, "massage", "#10ac84"),
    ("1003", "Exercise Physiology Session + Pilates", "Exercise Physiology", 45, "ep", "#ee5253"),
    ("1004", "Podiatry Consultation", "Podiatry", 30, "podiatry", "#8854d0"),
    ("1005", "Telehealth Check-in", None, 15, None, "#576574"),
)
# Their billable items (portal: Appointment-Type-Billable-Item): (id, type id, billable item id, quantity,
# discount_percentage, discounted_amount, is_monetary_discount). Session 1003 bundles a GST-free consultation with a
# GST-taxed Pilates class at 10 % off.
APPOINTMENT_TYPE_ITEMS = (
    ("3001", "1001", "2", 1, None, None, False),
    ("3002", "1002", "4", 1, None, None, False),
    ("3003", "1003", "7", 1, None, None, False),
    ("3004", "1003", "9", 1, "10.0", None, False),
    ("3005", "1004", "8", 1, None, None, False),
)
PENSIONER, STUDENT = "1", "2"
CONCESSION_TYPES = ((PENSIONER, "Pensioner"), (STUDENT, "Student"))
# (id, billable item, concession type, price or None): the Pensioner prices above, and a Student row without a price
# (`price` is nullable in the spec: the item's own price applies).
CONCESSION_PRICE_ROWS = (
    ("1", "2", PENSIONER, CONCESSION_PRICES["2"]),
    ("2", "7", PENSIONER, CONCESSION_PRICES["7"]),
    ("3", "8", PENSIONER, CONCESSION_PRICES["8"]),
    ("4", "4", STUDENT, None),
)
_SETUP = "2024-02-13T01:45:00Z"


def appointment_types() -> list[dict[str, Any]]:
    """Each type also carries the single (deprecated) `billable_item` link: its first item, as older accounts had."""
    first_item = {}
    for _id, type_id, item_id, *_rest in APPOINTMENT_TYPE_ITEMS:
        first_item.setdefault(type_id, item_id)
    return [
        {
            "id": type_id, "name": name, "category": category, "color": colour, "description": None,
            "duration_in_minutes": minutes, "max_attendees": 1, "deposit_price": None,
            "add_deposit_to_account_credit": False, "online_payments_enabled": False, "online_payments_mode": None,
            "online_bookings_lead_time_hours": 2, "show_in_online_bookings": discipline is not None,
            "telehealth_enabled": discipline is None, "appointment_confirmation_template_ids": [],
            "appointment_reminder_template_ids": [], "archived_at": None,
            "billable_item_id": first_item.get(type_id), "product_id": None, **_stamp(_SETUP),
        }
        for type_id, name, category, minutes, discipline, colour in APPOINTMENT_TYPES
    ]  # fmt: skip


def appointment_type_billable_items() -> list[dict[str, Any]]:
    return [
        {
            "id": row_id, "quantity": quantity, "discount_percentage": percent, "discounted_amount": amount,
            "is_monetary_discount": monetary, **_stamp(_SETUP), "appointment_type_id": type_id,
            "billable_item_id": item_id,
        }
        for row_id, type_id, item_id, quantity, percent, amount, monetary in APPOINTMENT_TYPE_ITEMS
    ]  # fmt: skip


def concession_types() -> list[dict[str, Any]]:
    return [{"id": type_id, "name": name, **_stamp(_SETUP)} for type_id, name in CONCESSION_TYPES]


def concession_prices() -> list[dict[str, Any]]:
    return [
        {"id": row_id, "price": price, **_stamp(_SETUP), "billable_item_id": item_id, "concession_type_id": type_id}
        for row_id, item_id, type_id, price in CONCESSION_PRICE_ROWS
    ]


def appointment_type_for(discipline: str) -> str:
    """The type a practitioner of `discipline` books (pilates/report/fee disciplines book none)."""
    return next(row[0] for row in APPOINTMENT_TYPES if row[4] == discipline)
