"""The resources the simulator serves: where their rows live, their record type (for `fields`), orders,
filters, and which rows a list or a `GET /{id}.json` may show.

Per FACTS §6-7: records deleted from Clio are absent (no tombstones); a deleted bill (`state` deleted) is
absent from lists and 404 by id, except that an explicit `state=deleted` filter lists them (the spec offers
that value; unverified what it returns); void bills stay listed; voided allocations and credit memos stay,
with `voided_at`. `type=revenue|trust` on bills separates revenue bills from trust requests (`kind`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio import filters as f
from clinic_etl.sandbox.clio.listing import SortKey
from clinic_etl.sandbox.clio.settle import live

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm

Row = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    path: str  # URL segment: /api/v4/<path>.json and /api/v4/<path>/{id}.json
    collection: str  # Firm attribute
    kind: str  # record type in schema.json
    orders: dict[str, Callable[[Firm], SortKey]] = field(default_factory=dict)
    default_order: str = "id(asc)"
    filters: dict[str, f.Filter] = field(default_factory=dict)
    listed: Callable[[Row, Any], bool] = lambda row, params: live(row)  # noqa: E731
    shown: Callable[[Row], bool] = live  # GET by id
    max_limit: int = 200

    def rows(self, firm: Firm) -> list[Row]:
        return getattr(firm, self.collection)

    def sort_key(self, name: str, firm: Firm) -> SortKey:
        return self.orders[name](firm)


def _by(key: str) -> Callable[[Firm], SortKey]:
    return lambda firm: lambda row: row.get(key)


def _related_name(collection: str, key: str, attribute: str = "name") -> Callable[[Firm], SortKey]:
    def make(firm: Firm) -> SortKey:
        names = {row["id"]: row.get(attribute) for row in getattr(firm, collection)}
        return lambda row: names.get(row[key][0] if isinstance(row.get(key), list) and row[key] else row.get(key))

    return make


def _orders(*keys: str, **special: Callable[[Firm], SortKey]) -> dict[str, Callable[[Firm], SortKey]]:
    return {"id": _by("id"), **{key: _by(key) for key in keys}, **special}


def _bill_listed(row: Row, params: Any) -> bool:
    return live(row) and (row["state"] != "deleted" or params.get("state") == "deleted")


def _bill_state(row: Row, value: str, ctx: f.Context) -> bool:
    return row["state"] == value


def _bill_type(row: Row, value: str, ctx: f.Context) -> bool:
    return (row["kind"] == "trust_kind") == (value == "trust")


def _overdue(row: Row, value: Any, ctx: f.Context) -> bool:
    return row["state"] == "awaiting_payment" and date.fromisoformat(row["due_at"]) < ctx.today


def _query_number(row: Row, value: str, ctx: f.Context) -> bool:
    return value in str(row.get("number", ""))


def _allocation_parent(row: Row, value: str, ctx: f.Context) -> bool:
    return row["parent"]["type"] == value


def _allocation_status(row: Row, value: str, ctx: f.Context) -> bool:
    return (row.get("voided_at") is None) == (value == "valid")


def _contact_query(row: Row, value: str, ctx: f.Context) -> bool:
    needle = value.lower()
    haystack = [row.get("name") or "", *(e["address"] for e in row.get("email_addresses", []))]
    return any(needle in item.lower() for item in haystack)


def _matter_query(row: Row, value: str, ctx: f.Context) -> bool:
    needle = value.lower()
    client = ctx.firm.find("contacts", row.get("client_id")) or {}
    haystack = [row.get("display_number"), row.get("description"), str(row.get("number")), client.get("name")]
    return any(needle in (item or "").lower() for item in haystack)


def _matter_status(row: Row, value: str, ctx: f.Context) -> bool:
    return row["status"].lower() in {part.strip().lower() for part in value.split(",")}


def _status_values(name: str, raw: str) -> str:
    parts = {part.strip() for part in raw.split(",")}
    if not parts <= {"open", "closed", "pending"}:
        raise f.bad_request(f"Invalid value for {name}: '{raw}'.")
    return raw


BILL = Resource(
    "bills", "bills", "Bill",
    orders=_orders("due_at", "issued_at", "paid_at", "last_sent_at", "balance", "number",
                   client_name=_related_name("contacts", "client_id"),
                   matter_display_number=_related_name("matters", "matter_ids", "display_number")),
    filters={**f.COMMON, "client_id": f.equals("client_id"), "matter_id": f.equals("matter_ids", nullable=True),
             "state": f.choice(_bill_state, "draft", "awaiting_approval", "awaiting_payment", "paid", "void",
                               "deleted"),
             "type": f.choice(_bill_type, "revenue", "trust"),
             "status": f.choice(lambda row, v, ctx: v == "all" or _overdue(row, v, ctx), "all", "overdue"),
             "overdue_only": f.flag(lambda row, v, ctx: not v or _overdue(row, v, ctx)),
             "issued_after": f.date_after("issued_at"), "issued_before": f.date_before("issued_at"),
             "due_after": f.date_after("due_at"), "due_before": f.date_before("due_at"), "due_at": f.date_on("due_at"),
             "last_sent_start_date": f.date_after("last_sent_at"), "last_sent_end_date": f.date_before("last_sent_at"),
             "currency_id": f.equals("currency_id"), "query": f.text(_query_number),
             "responsible_attorney_id": f.equals("user_id", nullable=True)},
    listed=_bill_listed,
    shown=lambda row: live(row) and row["state"] != "deleted",
)  # fmt: skip

LINE_ITEM = Resource(
    "line_items", "line_items", "LineItem",
    filters={**f.COMMON, "bill_id": f.equals("bill_id"), "matter_id": f.equals("matter_id", nullable=True),
             "activity_id": f.equals("activity_id", nullable=True), "exclude_ids[]": f.ids(exclude=True),
             "kind": f.choice(lambda row, v, ctx: row["kind"] == v, "Service", "Expense"),
             "display": f.flag(lambda row, v, ctx: True),
             "group_ordering": f.integer(lambda row, v, ctx: row["group_ordering"] == v),
             "query": f.text(lambda row, v, ctx: v.lower() in f"{row['description']} {row['note'] or ''}".lower())},
)  # fmt: skip

ALLOCATION = Resource(
    "allocations", "allocations", "Allocation",
    orders=_orders("date"), default_order="date(asc)",
    filters={**f.COMMON, "bill_id": f.equals("bill_id"), "contact_id": f.equals("contact_id"),
             "matter_id": f.equals("matter_id"),
             "parent_id": f.integer(lambda row, v, ctx: row["parent"]["id"] == v),
             "parent_type": f.choice(_allocation_parent, "Payment", "CreditMemo"),
             "status": f.choice(_allocation_status, "valid", "invalid")},
)  # fmt: skip

CREDIT_MEMO = Resource(
    "credit_memos", "credit_memos", "CreditMemo",
    orders=_orders("date"), default_order="date(asc)",
    filters={**f.COMMON, "contact_id": f.equals("contact_id")},
)  # fmt: skip

BANK_ACCOUNT = Resource(
    "bank_accounts", "bank_accounts", "BankAccount",
    orders=_orders("name", "institution", "account_number", "transit_number", "currency", "updated_at", "type"),
    filters={**f.COMMON,
             "type": f.choice(lambda row, v, ctx: row["type"] + "Account" == v, "OperatingAccount", "TrustAccount"),
             "user_id": f.equals("user_id", nullable=True),
             "show_empty_accounts": f.flag(lambda row, v, ctx: True)},
)  # fmt: skip

BANK_TRANSACTION = Resource(
    "bank_transactions", "bank_transactions", "BankTransaction",
    orders=_orders("date"),
    filters={**f.COMMON, "bank_account_id": f.equals("bank_account_id"), "client_id": f.equals("client_id"),
             "matter_id": f.equals("matter_id"),
             "type": f.choice(lambda row, v, ctx: row["type"] == v, "asset", "liability")},
)  # fmt: skip

CONTACT = Resource(
    "contacts", "contacts", "Contact",
    orders=_orders("name", shared_at=_by("id")),
    filters={**f.COMMON, "type": f.choice(lambda row, v, ctx: row["type"] == v, "Company", "Person"),
             "client_only": f.flag(lambda row, v, ctx: not v or row["is_client"]),
             "email_only": f.flag(lambda row, v, ctx: not v or bool(row["email_addresses"])),
             "exclude_ids[]": f.ids(exclude=True), "query": f.text(_contact_query),
             "initial": f.choice(lambda row, v, ctx: ((row.get("last_name") or row["name"])[:1].upper() == v),
                                 *"ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
)  # fmt: skip

MATTER = Resource(
    "matters", "matters", "Matter",
    orders=_orders("display_number", "custom_number", "open_date", "close_date", "pending_date", "updated_at",
                   "created_at", "matter_stage_updated_at",
                   **{"client.name": _related_name("contacts", "client_id"),
                      "practice_area.name": _related_name("practice_areas", "practice_area_id"),
                      "responsible_attorney.name": _related_name("users", "responsible_attorney_id"),
                      "originating_attorney.name": _related_name("users", "originating_attorney_id"),
                      "matter_stage.name": _by("matter_stage_name"), "grants": _by("grants"),
                      "statute_of_limitations.due_at": _by("statute_of_limitations_due_at")}),
    filters={**f.COMMON, "client_id": f.equals("client_id"),
             "status": f.Filter(_status_values, _matter_status),
             "billable": f.flag(lambda row, v, ctx: row["billable"] == v),
             "practice_area_id": f.equals("practice_area_id"),
             "responsible_attorney_id": f.equals("responsible_attorney_id", nullable=True),
             "originating_attorney_id": f.equals("originating_attorney_id", nullable=True),
             "query": f.text(_matter_query)},
)  # fmt: skip

TRUST_LINE_ITEM = Resource(
    "trust_line_items", "trust_line_items", "TrustLineItem",
    orders=_orders(),
    filters={**f.COMMON, "bill_id": f.equals("bill_id"), "matter_id": f.equals("matter_id", nullable=True)},
)  # fmt: skip

INTEREST_CHARGE = Resource(
    "interest_charges", "interest_charges", "InterestCharge",
    filters={**f.COMMON, "bill_id": f.equals("bill_id"), "exclude_ids[]": f.ids(exclude=True)},
)  # fmt: skip

USER = Resource(
    "users", "users", "User",
    orders=_orders("email", "enabled", "name", "first_name", "last_name", "initials", "subscription_type"),
    filters={**f.COMMON, "enabled": f.flag(lambda row, v, ctx: row["enabled"] == v),
             "name": f.text(lambda row, v, ctx: row["name"] == v),
             "role": f.choice(lambda row, v, ctx: v in row["roles"], "admin", "accounts", "billing", "reports"),
             "subscription_type": f.choice(lambda row, v, ctx: row["subscription_type"].lower() == v,
                                           "attorney", "nonattorney")},
    max_limit=2000,
)  # fmt: skip

RESOURCES: dict[str, Resource] = {
    resource.path: resource
    for resource in (
        BILL,
        LINE_ITEM,
        ALLOCATION,
        CREDIT_MEMO,
        BANK_ACCOUNT,
        BANK_TRANSACTION,
        CONTACT,
        MATTER,
        TRUST_LINE_ITEM,
        INTEREST_CHARGE,
        USER,
        Resource("currencies", "currencies", "Currency", filters=dict(f.COMMON)),
        Resource("practice_areas", "practice_areas", "PracticeArea", orders=_orders("name"), filters=dict(f.COMMON)),
        Resource("bill_themes", "bill_themes", "BillTheme", filters=dict(f.COMMON)),
    )
}
# Index routes without an `order` parameter in the spec: always id(asc) (an `order` given is ignored).
NO_ORDER = {"line_items", "interest_charges", "currencies", "bill_themes"}
# Routes served only as index (no GET by id in the spec): line items, trust line items, interest charges,
# currencies and bill themes.
NO_SHOW = {"line_items", "trust_line_items", "interest_charges", "currencies", "bill_themes"}
