"""Filterable fields of the routes the generated table (`fields.py`) does not cover, by hand, with their source.

From the same OpenAPI file (Oct 2023), the `q[]` parameter's "Available filters" table of each route
(`/concession_prices` has a `decimal` filter, a type scripts/extract_cliniko_filters.py does not know yet); and one
route that is only in the current developer portal (APPOINTMENTS.md §5, portal: Appointment-Type-Billable-Item).
"""

from __future__ import annotations

MORE_FILTERABLE: dict[str, dict[str, str]] = {
    # spec: paths./appointment_types.get.parameters (q[])
    "/appointment_types": {
        "id": "numeric",
        "archived_at": "datetime",
        "created_at": "datetime",
        "updated_at": "datetime",
        "category": "string",
        "online_payments_mode": "string",
        "show_in_online_bookings": "boolean",
        "appointment_confirmation_template_ids": "array",
        "appointment_reminder_template_ids": "array",
    },
    "/appointment_types/{id}": {"archived_at": "datetime"},
    # portal only: filters appointment_type_id, billable_item_id, created_at, id, updated_at
    "/appointment_type_billable_items": {
        "id": "numeric",
        "created_at": "datetime",
        "updated_at": "datetime",
        "appointment_type_id": "numeric",
        "billable_item_id": "numeric",
    },
    "/appointment_type_billable_items/{id}": {},
    "/concession_types": {"id": "numeric", "created_at": "datetime", "updated_at": "datetime"},
    "/concession_types/{id}": {},
    "/concession_prices": {
        "id": "numeric",
        "created_at": "datetime",
        "updated_at": "datetime",
        "billable_item_id": "numeric",
        "concession_type_id": "numeric",
        "price": "decimal",
    },
    "/concession_prices/{id}": {},
    # spec: paths./appointments/{appointment_id}/invoices.get.parameters (q[]): /invoices' filters but appointment_id
    "/appointments/{appointment_id}/invoices": {
        "id": "numeric",
        "archived_at": "datetime",
        "created_at": "datetime",
        "deleted_at": "datetime",
        "updated_at": "datetime",
        "business_id": "numeric",
        "issue_date": "date",
        "number": "numeric",
        "patient_id": "numeric",
        "practitioner_id": "numeric",
        "status": "numeric",
    },
}
