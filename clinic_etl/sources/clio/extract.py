"""Extract a window of the firm's days from Clio Manage in one pass: the bills issued in it or changed in it, their
line items, the allocations (payments and credit-memo applications, voided ones too) of those bills and those
changed in the window, the credit memos, the refunds among the bank transactions, the bank accounts (to tell trust
from operating), and the contacts and matters all of these reference. A month is one extract: every list is read
once for the whole window, whatever its length (`updated_since` has no upper bound, so the window's end is
applied here).

What "in the window" means (the firm's days `window.days`, its UTC bounds `window.bounds_utc()`):
- a date field (`issued_at`, an allocation's or a credit memo's `date`, a transaction's `date`) is one of the days;
- a timestamp (`updated_at`) falls on one of the days in the firm's zone (`window.local_date`), so a payment entered
  at 22:30 in New York belongs to that New York day, not to the next UTC day;
- a value that cannot be read as a date or timestamp is kept (the ledger quarantines it, nothing is lost silently).

Bills: issued in the window (`issued_after`/`issued_before`, one day wider on each side since the spec does not say
whether they are inclusive, then cut here) or updated in it (`updated_since`), every state Clio lists (drafts
included; the ledger decides what is an invoice). Deleted bills are not tombstoned and leave the default lists
(FACTS §6-7), and whether void ones stay in them is unverified: both are read by name (`state=void`,
`state=deleted`, values the spec offers) and kept when voided or deleted (last updated) in the window or issued in
it, so a bill issued in the window and deleted since comes as deleted, never as a bill to create.
Line items of the bills Clio still lists: those updated since the window's start in one pass (every line of a bill
created in the window is there), and per bill (`bill_id`) for the bills created before the window.
Allocations: `status=valid` and `status=invalid` (voided) read separately, so voided ones are seen whatever the
default list shows; kept when dated or updated in the window or belonging to a bill of the extract; the valid
allocations of bills created before the window are read per bill. A deleted allocation is gone from the API.
Credit memos: updated since the window's start, kept when dated or updated in the window or applied by an allocation
of the extract (those not yet read are fetched by `ids[]`). The ledger lists every live allocation and refund of each
of its credit notes, so a memo comes with them: its allocations read above whatever their date, and the valid
allocations of memos created before the window (`parent_id`).
Refunds: bank transactions whose `transaction_type` is Refund, dated or updated in the window (the route has no
filter on the kind: every transaction updated since the window's start is read and the others dropped), and those
since the window's start to a contact with a memo in the extract (a transaction names no memo: the ledger matches it
to one). A refund before the window of a memo made before the window is not read (known gap).

Only the fields the sync needs are requested and kept (data minimisation: no notes, matter descriptions, addresses,
phone numbers or dates of birth). Frames hold strings or None: relations flattened to `<name>_id` (a list relation
to comma-separated ids), numbers as their shortest round-trip text (Decimal(str(x)) reads them exactly).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.clio.client import ClioClient, is_id, parse_instant
from clinic_etl.sources.raw import LIST, OBJECT, scalar_text

OVERLAP = timedelta(minutes=10)  # `updated_since` starts this much before the window (clock skew, "after" filters)

# What `flatten` puts where Clio served something that cannot be the expected scalar: it fails every check.
NOT_AN_OBJECT = "<not an object>"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Nested:
    """One field of a nested record, kept as `column`: `Nested("client", "id", "client_id")` requests
    `client{id}`. With `many`, the relation is a list and the column holds its values comma-separated."""

    relation: str
    field: str
    column: str
    many: bool = False


@dataclass(frozen=True)
class Resource:
    route: str
    scalars: tuple[str, ...]
    nested: tuple[Nested, ...] = field(default_factory=tuple)

    @property
    def fields(self) -> str:
        """The `fields` parameter: scalars, then each relation once with its nested fields in braces."""
        groups: dict[str, list[str]] = {}
        for item in self.nested:
            groups.setdefault(item.relation, []).append(item.field)
        nested = [f"{relation}{{{','.join(names)}}}" for relation, names in groups.items()]
        return ",".join([*self.scalars, *nested])

    @property
    def columns(self) -> list[str]:
        return [*self.scalars, *(item.column for item in self.nested)]

    def flatten(self, record: object) -> dict[str, str | None]:
        if not isinstance(record, dict):
            return dict.fromkeys(self.columns, OBJECT)
        row = {name: scalar_text(record.get(name)) for name in self.scalars}
        for item in self.nested:
            row[item.column] = _nested_text(record.get(item.relation), item)
        return row

    def frame(self, records: Iterable[dict]) -> pd.DataFrame:
        return pd.DataFrame([self.flatten(r) for r in records], columns=self.columns, dtype=object)


def _one(relation: str, *names: str) -> tuple[Nested, ...]:
    return tuple(Nested(relation, name, f"{relation}_{name}") for name in names)


BILLS = Resource(
    "bills",
    ("id", "etag", "number", "state", "type", "kind", "issued_at", "due_at", "purchase_order", "tax_rate",
     "secondary_tax_rate", "sub_total", "tax_sum", "secondary_tax_sum", "total_tax", "total", "due", "paid",
     "paid_at", "credits_issued", "balance", "created_at", "updated_at"),
    (*_one("client", "id"), Nested("matters", "id", "matter_ids", many=True), *_one("currency", "id", "code"),
     *_one("original_bill", "id"), *_one("destination_account", "id"), *_one("discount", "rate", "type"),
     *_one("interest", "total")),
)  # fmt: skip
LINE_ITEMS = Resource(
    "line_items",
    ("id", "etag", "type", "kind", "description", "date", "price", "quantity", "sub_total", "tax", "secondary_tax",
     "total", "taxable", "secondary_taxable", "group_ordering", "created_at", "updated_at"),
    (*_one("bill", "id"), *_one("matter", "id"), *_one("discount", "rate", "type")),
)  # fmt: skip
ALLOCATIONS = Resource(
    "allocations",
    ("id", "etag", "date", "amount", "interest", "voided_at", "has_online_payment", "payment_type", "created_at",
     "updated_at"),
    (*_one("parent", "id", "type", "identifier"), *_one("bill", "id"), *_one("contact", "id"), *_one("matter", "id"),
     *_one("source_bank_account", "id"), *_one("destination_bank_account", "id")),
)  # fmt: skip
CREDIT_MEMOS = Resource(
    "credit_memos",
    ("id", "etag", "date", "amount", "description", "discount", "voided_at", "created_at", "updated_at"),
    _one("contact", "id"),
)
REFUNDS = Resource(
    "bank_transactions",
    ("id", "etag", "transaction_type", "type", "bank_account_id", "date", "amount", "funds_in", "funds_out",
     "currency", "source", "confirmation", "description", "created_at", "updated_at"),
    _one("client", "id"),
)  # fmt: skip
BANK_ACCOUNTS = Resource(
    "bank_accounts",
    ("id", "etag", "name", "type", "currency", "general_ledger_number", "default_account", "updated_at"),
)
CONTACTS = Resource(
    "contacts",
    ("id", "etag", "type", "name", "first_name", "last_name", "primary_email_address", "is_client", "created_at",
     "updated_at"),
)  # fmt: skip
MATTERS = Resource(
    "matters",
    ("id", "etag", "number", "display_number", "status", "created_at", "updated_at"),
    _one("client", "id"),
)
RESOURCES: dict[str, Resource] = {
    "bills": BILLS,
    "line_items": LINE_ITEMS,
    "allocations": ALLOCATIONS,
    "credit_memos": CREDIT_MEMOS,
    "refunds": REFUNDS,
    "bank_accounts": BANK_ACCOUNTS,
    "contacts": CONTACTS,
    "matters": MATTERS,
}
KEEP: dict[str, list[str]] = {name: resource.columns for name, resource in RESOURCES.items()}


def _nested_text(value: object, item: Nested) -> str | None:
    if value is None:
        return None
    if item.many:
        if not isinstance(value, list):
            return LIST if isinstance(value, tuple) else NOT_AN_OBJECT
        parts = [scalar_text(v.get(item.field)) if isinstance(v, dict) else NOT_AN_OBJECT for v in value]
        return ",".join(part if part is not None else "" for part in parts)
    if not isinstance(value, dict):
        return NOT_AN_OBJECT
    return scalar_text(value.get(item.field))


def _id_of(record: dict, relation: str) -> str | None:
    value = record.get(relation)
    return scalar_text(value.get("id")) if isinstance(value, dict) else None


def _key(record: dict, pool: dict) -> str:
    value = record.get("id")
    return str(value) if value not in (None, "") and not isinstance(value, bool) else f"<no id> {len(pool)}"


class _Window:
    """Membership of dates and timestamps in a SyncWindow, on the firm's own calendar."""

    def __init__(self, window: SyncWindow) -> None:
        self.window = window
        self.days = frozenset(window.days)
        self.start, self.end = window.bounds_utc()

    def day_of(self, value: object) -> str | None:
        """A date as served (`2026-10-14`), or the firm's day of a timestamp; None if it is neither."""
        if not isinstance(value, str):
            return None
        if _DATE.fullmatch(value):
            return value
        moment = parse_instant(value)
        if moment is None:
            return None
        return self.window.local_date(moment.astimezone(UTC).isoformat())

    def holds(self, value: object) -> bool:
        """True for a date or timestamp on one of the window's days, and for a value that is neither (kept for the
        ledger to quarantine, never dropped unseen)."""
        day = self.day_of(value)
        return day is None or day in self.days

    def before(self, value: object) -> bool:
        """A timestamp before the window starts (or no timestamp at all)."""
        moment = parse_instant(value)
        return moment is None or moment < self.start


def extract(client: ClioClient, window: SyncWindow) -> dict[str, pd.DataFrame]:
    span = _Window(window)
    since = span.start - OVERLAP

    # bills: issued in the window, changed in it, voided or deleted in it (later reads win: the final states last)
    bills: dict[str, dict] = {}
    wider = {
        "issued_after": (window.first - timedelta(days=1)).isoformat(),
        "issued_before": (window.last + timedelta(days=1)).isoformat(),
    }
    for record in client.list("bills", BILLS.fields, wider):
        if span.holds(record.get("issued_at")):
            bills[_key(record, bills)] = record
    for record in client.changed_since("bills", since, BILLS.fields):
        if span.holds(record.get("updated_at")):
            bills[_key(record, bills)] = record
    for state in ("void", "deleted"):  # whether default lists show them is unverified (FACTS §6): asked by name
        for record in client.changed_since("bills", since, BILLS.fields, {"state": state}):
            issued = record.get("issued_at")
            if span.holds(record.get("updated_at")) or (span.day_of(issued) is not None and span.holds(issued)):
                bills[_key(record, bills)] = record
    listed = {i: r for i, r in bills.items() if is_id(i) and r.get("state") != "deleted"}
    older = [i for i, r in listed.items() if span.before(r.get("created_at"))]

    # line items of the bills Clio still lists
    lines: dict[str, dict] = {}
    for record in client.changed_since("line_items", since, LINE_ITEMS.fields):
        if _id_of(record, "bill") in bills:
            lines[_key(record, lines)] = record
    for bill_id in older:
        for record in client.list("line_items", LINE_ITEMS.fields, {"bill_id": bill_id}):
            lines[_key(record, lines)] = record

    # allocations: valid and voided, changed or dated in the window or on a bill of the extract
    allocations: dict[str, dict] = {}
    changed_allocations: list[dict] = []
    for status in ("valid", "invalid"):
        for record in client.changed_since("allocations", since, ALLOCATIONS.fields, {"status": status}):
            changed_allocations.append(record)
            date, updated = record.get("date"), record.get("updated_at")
            if (
                _id_of(record, "bill") in bills
                or (span.day_of(date) is not None and span.holds(date))
                or span.holds(updated)
            ):
                allocations[_key(record, allocations)] = record
    for bill_id in older:
        for record in client.list("allocations", ALLOCATIONS.fields, {"bill_id": bill_id, "status": "valid"}):
            allocations.setdefault(_key(record, allocations), record)

    # credit memos: changed or dated in the window, or applied by an allocation of the extract
    memos: dict[str, dict] = {}
    applied = {
        _id_of(a, "parent")
        for a in allocations.values()
        if isinstance(a.get("parent"), dict) and a["parent"].get("type") == "CreditMemo"
    } - {None}
    for record in client.changed_since("credit_memos", since, CREDIT_MEMOS.fields):
        date = record.get("date")
        if (
            _key(record, memos) in applied
            or (span.day_of(date) is not None and span.holds(date))
            or span.holds(record.get("updated_at"))
        ):
            memos[_key(record, memos)] = record
    for record in client.list_by_ids("credit_memos", sorted(applied - set(memos)), CREDIT_MEMOS.fields):
        memos[_key(record, memos)] = record

    # a credit memo comes with all its allocations: those read above, and the valid ones of memos made before the window
    for record in changed_allocations:
        if _parent_memo(record) in memos:
            allocations.setdefault(_key(record, allocations), record)
    for memo_id in sorted((i for i, m in memos.items() if is_id(i) and span.before(m.get("created_at"))), key=int):
        for record in client.list("allocations", ALLOCATIONS.fields, {"parent_id": memo_id, "status": "valid"}):
            if _parent_memo(record) == memo_id:
                allocations.setdefault(_key(record, allocations), record)

    # refunds: bank transactions of the Refund kind, dated or updated in the window (from either account), and any
    # refund since the window's start to a contact with a credit memo in the extract (a memo comes with its refunds)
    refunds: dict[str, dict] = {}
    memo_contacts = {_id_of(m, "contact") for m in memos.values()} - {None}
    for record in client.changed_since("bank_transactions", since, REFUNDS.fields):
        kind, date = record.get("transaction_type"), record.get("date")
        if not isinstance(kind, str) or kind.strip().casefold() != "refund":
            continue
        if (
            (span.day_of(date) is not None and span.holds(date))
            or span.holds(record.get("updated_at"))
            or _id_of(record, "client") in memo_contacts
        ):
            refunds[_key(record, refunds)] = record

    accounts = client.list("bank_accounts", BANK_ACCOUNTS.fields, {"show_empty_accounts": "true"})

    contact_ids = (
        {_id_of(r, "client") for r in bills.values()}
        | {_id_of(r, "contact") for r in allocations.values()}
        | {_id_of(r, "contact") for r in memos.values()}
        | {_id_of(r, "client") for r in refunds.values()}
    )
    matter_ids = (
        {i for r in bills.values() for i in _ids_of(r, "matters")}
        | {_id_of(r, "matter") for r in lines.values()}
        | {_id_of(r, "matter") for r in allocations.values()}
    )
    contacts = client.list_by_ids("contacts", _ids(contact_ids), CONTACTS.fields)
    matters = client.list_by_ids("matters", _ids(matter_ids), MATTERS.fields)

    return {
        "bills": BILLS.frame(bills.values()),
        "line_items": LINE_ITEMS.frame(lines.values()),
        "allocations": ALLOCATIONS.frame(allocations.values()),
        "credit_memos": CREDIT_MEMOS.frame(memos.values()),
        "refunds": REFUNDS.frame(refunds.values()),
        "bank_accounts": BANK_ACCOUNTS.frame(accounts),
        "contacts": CONTACTS.frame(contacts),
        "matters": MATTERS.frame(matters),
    }


def _parent_memo(record: dict) -> str | None:
    """The credit memo an allocation applies (None for a payment's allocation)."""
    parent = record.get("parent")
    return _id_of(record, "parent") if isinstance(parent, dict) and parent.get("type") == "CreditMemo" else None


def _ids_of(record: dict, relation: str) -> list[str | None]:
    """The ids of a list relation (`matters`)."""
    values = record.get(relation)
    return [_id_of({"x": v}, "x") for v in values] if isinstance(values, list) else []


def _ids(values: Iterable[object]) -> list[str]:
    """Well-formed ids only: a malformed one is quarantined with its record, never sent back to Clio."""
    return sorted({str(v) for v in values if v is not None and is_id(str(v))}, key=int)
