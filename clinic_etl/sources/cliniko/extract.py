"""Extract a window of practice days from Cliniko in one pass: the invoices issued in it and those changed or
removed in it, their items, and the patients, businesses, practitioners and taxes they reference (the
reference lists read once per run, whatever the window's length); and the patients archived in it (FACTS §6: hidden
unless asked for, so asked for by `archived_at` in the window's bounds), whose Xero contacts are archived.

With `invoice_from="appointments"` (a practice that does not invoice in Cliniko) also the individual appointments that
ended in the window or changed in it, each ended before the extraction (`ends_at` < now, APPOINTMENTS §6), removed ones
included; the live invoices Cliniko holds for them (`invoices?q[]=appointment_id:=...`, APPOINTMENTS §4), whatever
day they were issued; and what prices them: appointment types, their billable items (portal:
Appointment-Type-Billable-Item), billable items and concession prices (APPOINTMENTS §5), with each patient's
concession type. Invoice mode makes exactly the calls it always made (plus the archived patients).

Only the fields the sync needs are kept (data minimisation: no notes, dates of birth, Medicare numbers, appointment
notes or patient names from appointments).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

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
    # invoice_from: appointments
    "appointments": [
        "id",
        "starts_at",
        "ends_at",
        "cancelled_at",
        "did_not_arrive",
        "patient_arrived",
        "archived_at",
        "deleted_at",
        "updated_at",
        "patient_id",
        "business_id",
        "practitioner_id",
        "appointment_type_id",
    ],
    "appointment_invoices": ["id", "appointment_id", "created_at", "archived_at", "deleted_at"],
    "appointment_types": ["id", "billable_item_id", "archived_at"],
    "appointment_type_billable_items": [
        "id",
        "appointment_type_id",
        "billable_item_id",
        "quantity",
        "discount_percentage",
        "discounted_amount",
        "is_monetary_discount",
    ],
    "billable_items": ["id", "item_code", "name", "price", "tax_id", "archived_at"],
    "concession_prices": ["id", "billable_item_id", "concession_type_id", "price"],
}
CONCESSION_PATIENTS = [*KEEP["patients"], "concession_type_id"]  # appointments mode: prices by concession
EVERYTHING = ["archived_at:*", "deleted_at:*"]  # removed rows are hidden unless asked for
REMOVED_TOO = ["cancelled_at:*", *EVERYTHING]  # and cancelled appointments (FACTS §6)


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


def frame(resource: str, records: list[dict], columns: list[str] | None = None) -> pd.DataFrame:
    columns = columns or KEEP[resource]
    rows = [flatten(r, columns) if isinstance(r, dict) else dict.fromkeys(columns, OBJECT) for r in records]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _by_id(*lists: Iterable[dict]) -> list[dict]:
    """The records of several lists, each id once (the first seen); a record without an id is kept."""
    out: dict[str, dict] = {}
    for n, record in enumerate(r for rows in lists for r in rows):
        has_id = isinstance(record, dict) and record.get("id") not in (None, "")
        out.setdefault(str(record["id"]) if has_id else f"<no id> {n}", record)
    return list(out.values())


def extract(
    client: ClinikoClient, window: SyncWindow, *, invoice_from: str = "invoices", now: datetime | None = None
) -> dict[str, pd.DataFrame]:
    """The window's raw frames. `invoice_from` "appointments" adds the appointment frames; `now` (default: the clock)
    is the moment an appointment must have ended by."""
    if invoice_from not in ("invoices", "appointments"):
        raise ValueError(f"invoice_from is {invoice_from!r}: invoices or appointments")
    start, end = (_utc(m) for m in window.bounds_utc())
    issued = (
        [f"issue_date:={window.first.isoformat()}"]
        if window.first == window.last
        else [f"issue_date:>={window.first.isoformat()}", f"issue_date:<={window.last.isoformat()}"]
    )
    changed = [
        ("invoices", [*issued, *EVERYTHING]),
        ("invoices", [f"updated_at:>={start}", f"updated_at:<{end}", *EVERYTHING]),
        ("invoices", [f"deleted_at:>={start}", f"deleted_at:<{end}", "archived_at:*"]),
        ("invoices", [f"archived_at:>={start}", f"archived_at:<{end}", "deleted_at:*"]),
    ]
    settings = [
        ("patients", [f"archived_at:>={start}", f"archived_at:<{end}"]),
        ("practitioners", []),
        ("practitioners/inactive", []),
        ("businesses", ["archived_at:*"]),
        ("taxes", []),
    ]
    # every list that depends on nothing else, read at once (up to the client's max_in_flight)
    *found, archived, active, inactive, businesses, taxes = client.lists([*changed, *settings])
    invoices: dict[str, dict] = {}
    for records in found:
        for n, record in enumerate(records):  # one without an id is kept, for quarantine
            invoices[str(record["id"]) if record.get("id") not in (None, "") else f"<no id> {len(invoices)}:{n}"] = (
                record
            )
    # only well-formed ids go into a query: a malformed one is quarantined by the ledger, never sent back
    live = [i for i, r in invoices.items() if is_id(i) and not r.get("deleted_at") and not r.get("archived_at")]
    patient_ids = {link_id(r.get("patient")) for r in invoices.values()} - {None}
    item_queries = client.by_ids("invoice_items", "invoice_id", live)
    answers = client.lists([*item_queries, *client.by_ids("patients", "id", patient_ids, extra=["archived_at:*"])])
    items = [row for rows in answers[: len(item_queries)] for row in rows]
    patients = [row for rows in answers[len(item_queries) :] for row in rows]
    raw = {
        "invoices": frame("invoices", list(invoices.values())),
        "invoice_items": frame("invoice_items", items),
        "patients": frame("patients", _by_id(patients, archived)),
        "businesses": frame("businesses", businesses),
        "practitioners": frame("practitioners", active + inactive),
        "taxes": frame("taxes", taxes),
    }
    if invoice_from == "appointments":
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        raw |= _appointments(client, window, list(invoices.values()), _by_id(patients, archived), moment)
    return raw


def _ids(records: Iterable[dict]) -> set[str]:
    return {str(r["id"]) for r in records if isinstance(r, dict) and is_id(str(r.get("id")))}


def _appointments(
    client: ClinikoClient, window: SyncWindow, invoices: list[dict], patients: list[dict], now: datetime
) -> dict[str, pd.DataFrame]:
    """The appointment frames (see the module's docstring), and the patients frame again with concession types."""
    first, last = window.bounds_utc()
    start, end = _utc(first), _utc(last)
    ended = [f"ends_at:<{_utc(now)}"]
    queries: list[tuple[str, list[str]]] = []
    if now > first:  # ended in the window
        until = f"ends_at:<{_utc(min(now, last))}"
        queries.append(("individual_appointments", [f"ends_at:>={start}", until, *REMOVED_TOO]))
    for column in ("updated_at", "cancelled_at", "archived_at", "deleted_at"):  # or changed in it, removed or not
        others = [f for f in REMOVED_TOO if not f.startswith(f"{column}:")]
        queries.append(("individual_appointments", [f"{column}:>={start}", f"{column}:<{end}", *ended, *others]))
    appointments = _by_id(*client.lists(queries))
    live = [r for r in invoices if isinstance(r, dict) and not r.get("deleted_at") and not r.get("archived_at")]
    backed = {link_id(r.get("appointment")) for r in live} - {None}
    # an appointment invoiced in Cliniko in the window that ended on another day: read too (its invoice may have come
    # after its own day synced it)
    if linked := backed - _ids(appointments):
        appointments += client.list_by_ids("individual_appointments", "id", linked, extra=[*ended, *REMOVED_TOO])
    # the live invoices Cliniko holds for the others (archived and deleted ones hidden), whatever day they were issued
    held = client.list_by_ids("invoices", "appointment_id", _ids(appointments) - backed)
    wanted = {link_id(a.get("patient")) for a in appointments if isinstance(a, dict)} - _ids(patients) - {None}
    patients = _by_id(patients, client.list_by_ids("patients", "id", wanted, extra=["archived_at:*"]))

    references = [  # read only when there is something to price
        ("appointment_types", ["archived_at:*"]),
        ("appointment_type_billable_items", []),
        ("billable_items", ["archived_at:*"]),
        ("concession_prices", []),
    ]
    priced = client.lists(references) if appointments else [[] for _ in references]
    return {
        "patients": frame("patients", patients, CONCESSION_PATIENTS),
        "appointments": frame("appointments", appointments),
        "appointment_invoices": frame("appointment_invoices", [*live, *held]),
        **{resource: frame(resource, rows) for (resource, _), rows in zip(references, priced, strict=True)},
    }
