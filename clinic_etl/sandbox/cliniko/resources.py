"""The resources the simulator serves: where their rows live, their sub-collection links, and which rows a
route shows (archived/deleted rows hidden unless the request filters on that column, per FACTS §6; cancelled
appointments too, as FACTS §6 says of "archived/cancelled rows": APPOINTMENTS §3 marks that unverified for
`/individual_appointments`, so the client filters on `cancelled_at` itself either way)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinic_etl.sandbox.cliniko.fields import FILTERABLE
from clinic_etl.sandbox.cliniko.filters import Filter, parse_filters
from clinic_etl.sandbox.cliniko.practice import Practice
from clinic_etl.sandbox.cliniko.wire import render

Row = dict[str, Any]
HIDING_COLUMNS = ("archived_at", "deleted_at", "cancelled_at")


@dataclass(frozen=True)
class Resource:
    plural: str  # JSON array key, path segment and Practice attribute
    collections: tuple[str, ...] = ()  # sub-collection links rendered on each record

    def rows(self, practice: Practice) -> list[Row]:
        return getattr(practice, self.plural)

    def render(self, row: Row, base: str) -> Row:
        return render(row, base, self.plural, self.collections)


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
    )
}


def filters_for(route: str, texts: list[str]) -> list[Filter]:
    """Parse `q[]`/`q` against the route's filterable fields (400 on anything else)."""
    return parse_filters(texts, FILTERABLE[route])


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
