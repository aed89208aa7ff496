"""The per-record loader: what recipe-style automations do, one request per contact, invoice and payment.

It posts the documents the batch loader gets (the same month's ledger through the same `to_xero`), each in its own
`PUT` (a contact, then its invoices, then their payments), through the same client (call budget, retries, 429
waits), so the two are compared under the same enforced limits. It stops where Xero's daily quota refuses it (a
wait of hours: the client gives up on it) and says how far it got. Benchmark only: it keeps no state store, so it
is not idempotent and never runs against a real organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from clinic_etl.http.errors import RateLimitError

KINDS = ("contact", "invoice", "payment")


class Writer(Protocol):
    def write(self, method: str, resource: str, payload: dict, **params: Any) -> dict: ...


@dataclass
class PerRecordResult:
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    needed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))  # one call per record
    failed: int = 0  # answered with a validation error
    stopped: str | None = None  # why it stopped before the last record (Xero's daily quota)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def total_needed(self) -> int:
        return sum(self.needed.values())


def contact_element(row: dict) -> dict:
    fields = ("Name", "FirstName", "LastName", "EmailAddress")
    return {"ContactNumber": row["contact_key"], **{f: row[f] for f in fields if isinstance(row.get(f), str)}}


def invoice_element(row: dict, contact_id: str, currency: str) -> dict:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": row["InvoiceNumber"],
        "Date": row["Date"],
        "DueDate": row["DueDate"],
        "Reference": row["Reference"],
        "Status": row["Status"],
        "LineAmountTypes": "Inclusive",
        "CurrencyCode": currency,
        "LineItems": row["LineItems"],
    }


def payment_element(row: dict, invoice_id: str) -> dict:
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": row["AccountCode"]},
        "Date": row["Date"],
        "Amount": row["Amount"],
        "Reference": row["Reference"],
    }


class PerRecordLoader:
    def __init__(self, client: Writer, currency: str = "AUD") -> None:
        self.client = client
        self.currency = currency
        self.result = PerRecordResult()

    def _put(self, kind: str, resource: str, element: dict, **params: Any) -> dict | None:
        """One record in one request; its answer's element, or None when Xero refused it."""
        self.result.calls[kind] += 1
        body = self.client.write("PUT", resource, {resource: [element]}, **params)
        answer = (body.get(resource) or [{}])[0]
        if answer.get("ValidationErrors") or answer.get("HasErrors"):
            self.result.failed += 1
            return None
        return answer

    def load(self, documents: dict[str, pd.DataFrame]) -> PerRecordResult:
        contacts = documents["contacts"].to_dict("records")
        invoices = [r for r in documents["invoices"].to_dict("records") if r["source_status"] != "deleted"]
        payments = documents["payments"].to_dict("records")
        for kind, rows in zip(KINDS, (contacts, invoices, payments), strict=True):
            self.result.needed[kind] = len(rows)
        contact_ids: dict[str, str] = {}
        invoice_ids: dict[str, str] = {}
        try:
            for row in contacts:
                if answer := self._put("contact", "Contacts", contact_element(row)):
                    contact_ids[row["contact_key"]] = answer["ContactID"]
            for row in invoices:
                if row["contact_key"] in contact_ids:
                    element = invoice_element(row, contact_ids[row["contact_key"]], self.currency)
                    if answer := self._put("invoice", "Invoices", element, unitdp=4):
                        invoice_ids[row["invoice_key"]] = answer["InvoiceID"]
            for row in payments:
                if row["invoice_key"] in invoice_ids:
                    self._put("payment", "Payments", payment_element(row, invoice_ids[row["invoice_key"]]))
        except RateLimitError as error:  # a wait longer than the client sleeps through: Xero's daily quota
            wait = f"{error.retry_after:.0f} s" if error.retry_after is not None else "longer than a retry"
            self.result.stopped = f"Xero refused it after {self.result.total} calls (asked to wait {wait})"
        return self.result
