"""The resources the simulator serves: where their rows live, their sub-collection links, and which rows a
route shows (archived/deleted rows hidden unless the request filters on that column, per FACTS §6; cancelled
appointments too, as FACTS §6 says of "archived/cancelled rows": APPOINTMENTS §3 marks that unverified for
`/individual_appointments`, so the client filters on `cancelled_at` itself either way).

An appointment type links its billable items as the list route filtered on the type
(`/appointment_type_billable_items?q[]=appointment_type_id:=1001`, URL-encoded): the portal documents the link but not
its target; that shape is the one seen in third-party material (APPOINTMENTS.md §5: unverified)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinic_etl.sandbox.cliniko.fields import FILTERABLE
from clinic_etl.sandbox.cliniko.filters import Filter, parse_filters
from clinic_etl.sandbox.cliniko.more_fields import MORE_FILTERABLE
from clinic_etl.sandbox.cliniko.practice import Practice
from clinic_etl.sandbox.cliniko.wire import render

Row = dict[str, Any]
HIDING_COLUMNS = ("archived_at", "deleted_at", "cancelled_at")


@dataclass(frozen=True)
class Resource:
    plural: str  # JSON array key, path segment and Practice attribute
    collections: tuple[str, ...] = ()  # sub-collection links rendered on each record
    filtered: tuple[tuple[str, str], ...] = ()  # (link, filter field): a list route filtered on this record's id

    def rows(self, practice: Practice) -> list[Row]:
        return getattr(practice, self.plural)

    def render(self, row: Row, base: str) -> Row:
        out = render(row, base, self.plural, self.collections)
        for name, field in self.filtered:
            out[name] = {"links": {"self": f"{base}/{name}?q%5B%5D={field}%3A%3D{row['id']}"}}
        out["links"] = out.pop("links")  # `links.self` stays last
        return out


RESOURCES = {
    resource.plural: resource
    for resource in (
        Resource("invoices", ("invoice_items",)),
        Resource("invoice_items"),
        Resource("patients", ("appointments", "attendees", "invoices", "medical_alerts", "patient_attachments")),
        Resource("businesses", ("appointments", "practitioners")),
        Resource(
            "practitioners",
            ("appointment_types", "appointments", "invoices", "practitioner_reference_numbers"),
        ),
        Resource("taxes"),
        Resource("billable_items"),
        Resource("products"),
        Resource("individual_appointments", ("attendees", "conflicts")),
        Resource(
            "appointment_types",
            ("practitioners",),
            (("appointment_type_billable_items", "appointment_type_id"),),
        ),
        Resource("appointment_type_billable_items"),
        Resource("concession_types"),
        Resource("concession_prices"),
    )
}
SEARCHABLE = {**FILTERABLE, **MORE_FILTERABLE}


def filters_for(route: str, texts: list[str]) -> list[Filter]:
    """Parse `q[]`/`q` against the route's filterable fields (400 on anything else)."""
    return parse_filters(texts, SEARCHABLE[route])


def visible(rows: list[Row], filters: list[Filter], scope: Callable[[Row], bool] | None = None) -> list[Row]:
    """Rows the request may see: archived/deleted rows only when that column is filtered on, then the
    route's own scope (e.g. active practitioners), then every filter (ANDed)."""
    asked = {f.field for f in filters}
    hidden = [column for column in HIDING_COLUMNS if column not in asked]
    return [
        row
        for row in rows
        if all(row.get(column) is None for column in hidden)
        and (scope is None or scope(row))
        and all(f.matches(row) for f in filters)
    ]
