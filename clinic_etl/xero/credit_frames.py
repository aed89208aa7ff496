"""Practice ledger -> Xero credit notes (ACCRECCREDIT), their allocations to invoices, and refunds (pure).

A ledger credit note has one amount: it becomes one line booked to `accounts.credit_notes` (default: the revenue
account; a write-off to `accounts.bad_debts`) with `taxes.exempt` when it carries no tax, else `taxes.taxable` with
the source's tax as the line's TaxAmount, so Xero's total and tax equal the source's. A refund is a Xero payment out
of the credit note, from the payments account. A mapping the organisation cannot take holds the credit note back
with a reason, and with it its allocations and refunds.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from clinic_etl.mapping import Mapping
from clinic_etl.xero.fields import fitted
from clinic_etl.xero.lock_dates import placed
from clinic_etl.xero.org import XeroOrg

CREDIT_NOTE_COLUMNS = [
    "credit_note_key",
    "day",
    "CreditNoteNumber",
    "contact_key",
    "Date",
    "Reference",
    "Status",
    "source_status",
    "total",
    "tax_total",
    "LineItems",
    "content_hash",
]
ALLOCATION_COLUMNS = ["allocation_key", "credit_note_key", "invoice_key", "day", "Date", "Amount"]
REFUND_COLUMNS = ["payment_key", "credit_note_key", "day", "Date", "Amount", "AccountCode", "Reference"]

Problem = tuple[str, str, str, str, str]  # source, entity, source id, day, reason


def _line(note: dict, mapping: Mapping, org: XeroOrg) -> tuple[dict, str | None]:
    if note.get("kind") == "write_off":
        account, where = mapping.accounts.bad_debts or "", "accounts.bad_debts"
    elif mapping.accounts.credit_notes:
        account, where = mapping.accounts.credit_notes, "accounts.credit_notes"
    else:
        account, where = mapping.accounts.revenue, "accounts.revenue"
    if account not in org.accounts:
        return {}, f"account code {account!r} ({where} in the mapping) is not an active Xero account"
    taxed = note["tax_total"] != 0
    tax_type, tax_where = (mapping.taxes.taxable, "taxes.taxable") if taxed else (mapping.taxes.exempt, "taxes.exempt")
    if tax_type not in org.tax_rates:
        return {}, f"TaxType {tax_type!r} ({tax_where} in the mapping) is not an active Xero tax rate"
    line = {
        "Description": note["description"][:4000],
        "Quantity": Decimal(1),
        "UnitAmount": note["total"],
        "LineAmount": note["total"],
        "AccountCode": account,
        "TaxType": tax_type,
    }
    if taxed:
        line["TaxAmount"] = note["tax_total"]
    return line, None


def credit_note_frames(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg, content_hash, moved: list[dict] | None = None
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """`moved`: where to record what is dated past Xero's lock date (rules.locked_period: move)."""
    moved = [] if moved is None else moved
    notes, problems, kept = [], [], set()
    rule = mapping.rules.locked_period

    def place(key: str, day: str, on: str) -> tuple[str, str | None]:
        sent_on, locked = placed(on, org.lock_date, rule)
        if sent_on != on:
            moved.append({"key": key, "day": day, "from": on, "to": sent_on})
        return sent_on, locked

    for note in ledger["credit_notes"].to_dict("records"):
        source = note["credit_note_key"].split(":", 1)[0]
        line, problem = (None, None) if note["status"] == "deleted" else _line(note, mapping, org)
        if note["status"] != "deleted" and not problem:
            on, problem = place(note["credit_note_key"], note["day"], note["issue_date"])
            note = {**note, "issue_date": on}
        document, too_long = fitted(
            "CreditNote",
            {
                "CreditNoteNumber": f"{mapping.invoice_number_prefix}{note['number']}",
                "contact_key": note["contact_key"],
                "Date": note["issue_date"],
                "Reference": f"{source.title()} credit note {note['number']}",
                "Status": "AUTHORISED",
                "LineItems": [line] if line else [],
            },
        )
        if problem or too_long:
            problems.append((source, "credit_note", note["source_id"], note["day"], problem or "; ".join(too_long)))
            continue
        kept.add(note["credit_note_key"])
        notes.append(
            {
                "credit_note_key": note["credit_note_key"],
                "day": note["day"],
                **document,
                "source_status": note["status"],
                "total": note["total"],
                "tax_total": note["tax_total"],
                "content_hash": content_hash(document),
            }
        )

    def placed_rows(name: str, key: str, what: str):
        """The rows of the kept credit notes, each with the date to send (moved past the lock date, or held back)."""
        for row in ledger[name].to_dict("records"):
            if row["credit_note_key"] not in kept:
                continue
            on, locked = place(row[key], row["day"], row["date"])
            if locked:
                source, _, source_id = row["credit_note_key"].split(":", 2)
                problems.append((source, "credit_note", source_id, row["day"], f"its {what} is {locked}"))
            else:
                yield row, on

    allocations = [
        {
            "allocation_key": a["allocation_key"],
            "credit_note_key": a["credit_note_key"],
            "invoice_key": a["invoice_key"],
            "day": a["day"],
            "Date": on,
            "Amount": a["amount"],
        }
        for a, on in placed_rows("credit_allocations", "allocation_key", "allocation")
    ]
    refunds = [
        {
            "payment_key": r["refund_key"],
            "credit_note_key": r["credit_note_key"],
            "day": r["day"],
            "Date": on,
            "Amount": r["amount"],
            "AccountCode": mapping.accounts.payments,
            "Reference": f"{r['refund_key'].split(':', 1)[0].title()} refund {r['refund_key'].rsplit(':', 1)[-1]}",
        }
        for r, on in placed_rows("refunds", "refund_key", "refund")
    ]
    frames = {
        "credit_notes": pd.DataFrame(notes, columns=CREDIT_NOTE_COLUMNS),
        "credit_allocations": pd.DataFrame(allocations, columns=ALLOCATION_COLUMNS),
        "refunds": pd.DataFrame(refunds, columns=REFUND_COLUMNS),
    }
    return frames, problems
