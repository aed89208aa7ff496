"""Cliniko's wire formats: Rails BigDecimal strings, UTC date-times with `Z`, and relation links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
BASIS = Decimal("0.0001")

# Relation keys stored on the practice's rows -> (link name in the JSON, collection path of the target).
RELATIONS: dict[str, tuple[str, str]] = {
    "patient_id": ("patient", "patients"),
    "practitioner_id": ("practitioner", "practitioners"),
    "business_id": ("business", "businesses"),
    "appointment_id": ("appointment", "appointments"),
    "invoice_id": ("invoice", "invoices"),
    "tax_id": ("tax", "taxes"),
    "billable_item_id": ("billable_item", "billable_items"),
    "product_id": ("product", "products"),
    "user_id": ("user", "users"),
    "concession_type_id": ("concession_type", "concession_types"),
    "referring_doctor_id": ("referring_doctor", "contacts"),
    "merged_with_patient_id": ("merged_with_patient", "patients"),
    "product_supplier_id": ("product_supplier", "product_suppliers"),
    "default_appointment_type_id": ("default_appointment_type", "appointment_types"),
    "appointment_type_id": ("appointment_type", "appointment_types"),
}


def money(value: Decimal | int | str) -> str:
    """Serialise like Rails' BigDecimal#to_s("F"): `50.0`, `2367.18`, `81.818`, `-5.5` (no exponent)."""
    text = format(Decimal(value).normalize(), "f")
    if "." not in text:
        return text + ".0"
    text = text.rstrip("0")
    return text + "0" if text.endswith(".") else text


def round_half_up(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def utc(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` for an aware datetime (converted to UTC, seconds precision)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """Inverse of `utc` (also accepts fractional seconds)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso_date(day: date) -> str:
    return day.isoformat()


def link(base: str, path: str) -> dict[str, dict[str, str]]:
    return {"links": {"self": f"{base}/{path}"}}


def render(record: dict[str, Any], base: str, plural: str, collections: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored row as the API shows it: relation ids become link objects (omitted when None), the
    record's sub-collections get links (e.g. an invoice's `invoice_items`), and `links.self` comes last."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in RELATIONS:
            name, target = RELATIONS[key]
            if value is not None:
                out[name] = link(base, f"{target}/{value}")
        else:
            out[key] = value
    own = f"{plural}/{record['id']}"
    for collection in collections:
        out[collection] = link(base, f"{own}/{collection}")
    out["links"] = {"self": f"{base}/{own}"}
    return out
