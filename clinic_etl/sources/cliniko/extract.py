"""Extract a window of practice days from Cliniko in one pass: the invoices issued in it and those changed or
removed in it, their items, and the patients, businesses, practitioners and taxes they reference (the
reference lists read once per run, whatever the window's length).

Only the fields the sync needs are kept (data minimisation: no notes, dates of birth, Medicare numbers).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.client import ClinikoClient
from clinic_etl.sources.cliniko.schemas import NOT_A_LINK, is_id
from clinic_etl.sources.raw import OBJECT, scalar_text

KEEP: dict[str, list[str]] = {
    "invoices": [
        "id",
        "number",
        "issue_date",
        "status",
        "total_amount",
        "net_amount",
        "tax_amount",
        "discounted_amount",
        "closed_at",
        "archived_at",
        "deleted_at",
        "created_at",
        "updated_at",
        "patient_id",
        "business_id",
        "practitioner_id",
        "appointment_id",
        "invoice_to",  # the bill-to text (personal data): only matched by the mapping's rules, never logged
    ],
    "invoice_items": [
        "id",
        "invoice_id",
        "name",
        "code",
        "quantity",
        "unit_price",
        "discount_percentage",
        "is_monetary_discount",
        "discounted_amount",
        "net_price",
        "tax_name",
        "tax_rate",
        "total_including_tax",
        "billable_item_id",
        "product_id",
        "deleted_at",
    ],
    "patients": ["id", "first_name", "last_name", "email", "archived_at", "deleted_at"],
    "businesses": ["id", "business_name", "time_zone_identifier", "archived_at"],
    "practitioners": ["id", "display_name", "active"],
    "taxes": ["id", "name", "rate"],
}
EVERYTHING = ["archived_at:*", "deleted_at:*"]  # removed rows are hidden unless asked for


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def link_target(link: object) -> str | None:
    """The last path segment of a relation's `links.self`, whatever it holds; None if `link` is not a link object
    ({"links": {"self": "<url>"}})."""
    if not isinstance(link, dict) or not isinstance(links := link.get("links"), dict):
        return None
    href = links.get("self")
    if not isinstance(href, str):
        return None
    path = href.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    if "/" not in path:
        return None
    return path.rsplit("/", 1)[-1] or None


def link_id(link: object) -> str | None:
    """{"links": {"self": ".../patients/1593"}} -> "1593"; None unless the link ends in an id that can be queried
    (a 64-bit number), so a malformed link never reaches a filter."""
    target = link_target(link)
    return target if is_id(target) else None


def flatten(record: dict, columns: list[str]) -> dict[str, str | None]:
    """Relations become `<name>_id` (None when absent or null, `NOT_A_LINK` when the value is not a link); every
    kept scalar becomes a string (ids, money) or None."""
    row: dict[str, str | None] = {}
    for column in columns:
        relation = column[:-3]
        if column.endswith("_id") and column != "id" and relation in record:
            link = record[relation]
            row[column] = None if link is None else link_target(link) or NOT_A_LINK
            continue
        row[column] = scalar_text(record.get(column))
    return row


def frame(resource: str, records: list[dict]) -> pd.DataFrame:
    columns = KEEP[resource]
    rows = [flatten(r, columns) if isinstance(r, dict) else dict.fromkeys(columns, OBJECT) for r in records]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def extract(client: ClinikoClient, window: SyncWindow) -> dict[str, pd.DataFrame]:
    start, end = (_utc(m) for m in window.bounds_utc())
    issued = (
        [f"issue_date:={window.first.isoformat()}"]
        if window.first == window.last
        else [f"issue_date:>={window.first.isoformat()}", f"issue_date:<={window.last.isoformat()}"]
    )
    invoices: dict[str, dict] = {}
    for filters in (
        [*issued, *EVERYTHING],
        [f"updated_at:>={start}", f"updated_at:<{end}", *EVERYTHING],
        [f"deleted_at:>={start}", f"deleted_at:<{end}", "archived_at:*"],
        [f"archived_at:>={start}", f"archived_at:<{end}", "deleted_at:*"],
    ):
        for n, record in enumerate(client.list("invoices", filters)):  # one without an id is kept, for quarantine
            invoices[str(record["id"]) if record.get("id") not in (None, "") else f"<no id> {len(invoices)}:{n}"] = (
                record
            )
    # only well-formed ids go into a query: a malformed one is quarantined by the ledger, never sent back
    live = [i for i, r in invoices.items() if is_id(i) and not r.get("deleted_at") and not r.get("archived_at")]
    items = client.list_by_ids("invoice_items", "invoice_id", live)
    patient_ids = {link_id(r.get("patient")) for r in invoices.values()} - {None}
    patients = client.list_by_ids("patients", "id", patient_ids, extra=["archived_at:*"])
    practitioners = client.list("practitioners") + client.list("practitioners/inactive")
    return {
        "invoices": frame("invoices", list(invoices.values())),
        "invoice_items": frame("invoice_items", items),
        "patients": frame("patients", patients),
        "businesses": frame("businesses", client.list("businesses", ["archived_at:*"])),
        "practitioners": frame("practitioners", practitioners),
        "taxes": frame("taxes", client.list("taxes")),
    }
