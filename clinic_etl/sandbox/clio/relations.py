"""How a record's nested relations and computed fields are found in the Firm.

A relation is either a lookup (`(collection, key)`: the row's id or list of ids in `key`, resolved in the
firm's `collection`) or a function of (row, firm). Relations not listed here are read from the row itself
(inline value objects such as a bill's `discount`, `interest`, `balances` or a contact's `addresses`), and a
relation the firm does not model (legal aid, split invoices, groups...) is null, or `[]` when it is a list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio import banking
from clinic_etl.sandbox.clio.settle import live
from clinic_etl.sandbox.clio.wire import etag

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm

Finder = tuple[str, str] | Callable[[dict[str, Any], "Firm"], Any]


def _client_addresses(row: dict[str, Any], firm: Firm) -> list[dict[str, Any]]:
    client = firm.find("contacts", row.get("client_id"))
    return list(client["addresses"]) if client else []


def _address(pick: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any], Firm], Any]:
    return lambda row, firm: next((a for a in row.get("addresses", []) if pick(a)), None)


def _memo_allocations(row: dict[str, Any], firm: Firm) -> list[dict[str, Any]]:
    return [
        a
        for a in firm.allocations
        if live(a) and a["parent"]["type"] == "CreditMemo" and a["parent"]["id"] == row["id"]
    ]


def _charge_matters(row: dict[str, Any], firm: Firm) -> list[dict[str, Any]]:
    bill = firm.find("bills", row.get("bill_id"))
    return [m for m in (firm.find("matters", i) for i in (bill or {}).get("matter_ids", [])) if m]


RELATIONS: dict[str, dict[str, Finder]] = {
    "Bill": {
        "user": ("users", "user_id"),
        "client": ("contacts", "client_id"),
        "matters": ("matters", "matter_ids"),
        "original_bill": ("bills", "original_bill_id"),
        "destination_account": ("bank_accounts", "destination_account_id"),
        "currency": ("currencies", "currency_id"),
        "billing_setting": ("billing_settings", "billing_setting_id"),
        "bill_theme": ("bill_themes", "bill_theme_id"),
        "client_addresses": _client_addresses,
    },
    "LineItem": {"bill": ("bills", "bill_id"), "matter": ("matters", "matter_id"), "user": ("users", "user_id")},
    "TrustLineItem": {
        "bill": ("bills", "bill_id"),
        "matter": ("matters", "matter_id"),
        "client": ("contacts", "client_id"),
    },
    "Allocation": {
        "bill": ("bills", "bill_id"),
        "matter": ("matters", "matter_id"),
        "contact": ("contacts", "contact_id"),
        "source_bank_account": ("bank_accounts", "source_bank_account_id"),
        "destination_bank_account": ("bank_accounts", "destination_bank_account_id"),
    },
    "CreditMemo": {
        "user": ("users", "user_id"),
        "contact": ("contacts", "contact_id"),
        "allocations": _memo_allocations,
    },
    "BankTransaction": {
        "client": ("contacts", "client_id"),
        "matter": ("matters", "matter_id"),
        "bank_account": ("bank_accounts", "bank_account_id"),
        "bill": ("bills", "bill_id"),
        "allocation": ("allocations", "allocation_id"),
    },
    "BankAccount": {"user": ("users", "user_id")},
    "Contact": {
        "company": ("contacts", "company_id"),
        "primary_address": _address(lambda a: a["primary"]),
        "primary_work_address": _address(lambda a: a["name"] == "Work"),
        "secondary_address": _address(lambda a: not a["primary"]),
    },
    "Matter": {
        "client": ("contacts", "client_id"),
        "practice_area": ("practice_areas", "practice_area_id"),
        "responsible_attorney": ("users", "responsible_attorney_id"),
        "originating_attorney": ("users", "originating_attorney_id"),
        "user": ("users", "user_id"),
    },
    "InterestCharge": {"bill": ("bills", "bill_id"), "matters": _charge_matters},
}

# Base fields whose value is computed from the firm rather than stored.
COMPUTED: dict[str, dict[str, Callable[[dict[str, Any], Firm], Any]]] = {
    "BankAccount": {
        "balance": lambda row, firm: banking.balance(firm, row["id"]),
        "bank_transactions_count": lambda row, firm: banking.count(firm, row["id"]),
    },
    "BankTransaction": {"current_account_balance": lambda row, firm: banking.balance(firm, row["bank_account_id"])},
}


def resolve(kind: str, name: str, row: dict[str, Any], firm: Firm, many: bool) -> Any:
    finder = RELATIONS.get(kind, {}).get(name)
    if finder is None:
        value = row.get(name)
        return ([] if value is None else value) if many else value
    if callable(finder):
        return finder(row, firm)
    collection, key = finder
    value = row.get(key)
    if many:
        return [found for found in (firm.find(collection, item) for item in value or []) if found]
    return firm.find(collection, value)


def field_value(kind: str, name: str, row: dict[str, Any], firm: Firm) -> Any:
    computed = COMPUTED.get(kind, {}).get(name)
    if computed is not None:
        return computed(row, firm)
    if name == "etag" and "etag" not in row and "id" in row:
        return etag(row)
    return row.get(name)
