"""Reconciliation: read the day's invoices and credit notes back from Xero and prove they equal the source, to the
cent.

Per invoice: Total, TotalTax, AmountPaid (its payments), AmountCredited (the credit allocated to it) and Status
against what the source says. Per credit note: Total, TotalTax, what is applied of it (allocations and refunds:
Total - RemainingCredit) and Status; its amounts count negative in the day's totals, so the totals are net of credit.
In total: the sum of source totals against the sum of Xero totals. Any difference fails the blocking check.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.money import cents, to_decimal
from clinic_etl.partitions import SyncWindow

COLUMNS = [
    "invoice_key",
    "day",
    "InvoiceNumber",
    "source_status",
    "expected_total",
    "xero_total",
    "expected_tax",
    "xero_tax",
    "expected_paid",
    "xero_paid",
    "expected_credited",
    "xero_credited",
    "expected_status",
    "xero_status",
    "held",
    "ok",
    "problem",
]


def expected_status(source_status: str, total: Decimal, paid: Decimal, draft: bool) -> set[str]:
    """`paid`: all that is applied to the document (payments and credit)."""
    if source_status == "deleted":
        return {"VOIDED", "DELETED", "ABSENT"}
    if draft:
        return {"DRAFT"}
    return {"PAID"} if paid == total else {"AUTHORISED"}


def _sums(frame: pd.DataFrame | None, key: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    if frame is not None:
        for k, amount in zip(frame[key], frame["Amount"], strict=True):
            out[k] = out.get(k, Decimal(0)) + amount
    return out


def held_rows(documents: dict[str, pd.DataFrame]) -> list[dict]:
    """The source invoices held back before the Xero frames (documents' `held`): accounted for, not compared."""
    return [
        {
            "invoice_key": inv["invoice_key"],
            "day": inv["day"],
            "InvoiceNumber": None,
            "source_status": inv["status"],
            "expected_total": inv["total"],
            "expected_tax": inv["tax_total"],
            "expected_paid": Decimal(0),
            "expected_credited": Decimal(0),
            "expected_status": "",
            "xero_total": None,
            "xero_tax": None,
            "xero_paid": None,
            "xero_credited": None,
            "xero_status": "HELD",
            "held": True,
            "ok": True,
            "problem": "held in quarantine",
        }
        for inv in documents.get("held", pd.DataFrame()).to_dict("records")
    ]


def reconcile(
    documents: dict[str, pd.DataFrame], xero_invoices: list[dict], held: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """One row per source invoice. Those `held` in quarantine are accounted for, not compared (their number may
    even be another invoice's in Xero): they make the day incomplete, never a mismatch nor a pass."""
    found = {i.get("InvoiceNumber"): i for i in xero_invoices}
    paid = _sums(documents["payments"], "invoice_key")  # an invoice may have several
    credited = _sums(documents.get("credit_allocations"), "invoice_key")
    rows = []
    for inv in documents["invoices"].to_dict("records"):
        is_held = inv["invoice_key"] in held
        x = None if is_held else found.get(inv["InvoiceNumber"])
        removed = inv["source_status"] == "deleted"
        want_paid = Decimal(0) if removed else paid.get(inv["invoice_key"], Decimal(0))
        want_credited = Decimal(0) if removed else credited.get(inv["invoice_key"], Decimal(0))
        applied = want_paid + want_credited
        statuses = expected_status(inv["source_status"], inv["total"], applied, inv["Status"] == "DRAFT")
        row = {
            "invoice_key": inv["invoice_key"],
            "day": inv["day"],
            "InvoiceNumber": inv["InvoiceNumber"],
            "source_status": inv["source_status"],
            "expected_total": inv["total"],
            "expected_tax": inv["tax_total"],
            "expected_paid": want_paid,
            "expected_status": "/".join(sorted(statuses - {"ABSENT"})),
            "xero_total": to_decimal(x.get("Total", 0)) if x else None,
            "xero_tax": to_decimal(x.get("TotalTax", 0)) if x else None,
            "xero_paid": to_decimal(x.get("AmountPaid", 0)) if x else None,
            "expected_credited": want_credited,
            "xero_credited": to_decimal(x.get("AmountCredited", 0)) if x else None,
            "xero_status": x.get("Status") if x else "ABSENT",
        }
        problems = []
        if is_held:
            rows.append({**row, "xero_status": "HELD", "held": True, "ok": True, "problem": "held in quarantine"})
            continue
        if row["xero_status"] not in statuses:
            problems.append(f"status {row['xero_status']} (expected {row['expected_status']})")
        if x is not None and not removed:
            for name in ("total", "tax", "paid", "credited"):
                if row[f"xero_{name}"] != row[f"expected_{name}"]:
                    problems.append(f"{name} {row[f'xero_{name}']} in Xero vs {row[f'expected_{name}']} at the source")
        rows.append({**row, "held": False, "ok": not problems, "problem": "; ".join(problems)})
    rows += held_rows(documents)
    return pd.DataFrame(rows, columns=COLUMNS)


def reconcile_credit_notes(
    documents: dict[str, pd.DataFrame],
    xero_notes: list[dict],
    held: frozenset[str] = frozenset(),
    invoices_in_xero: frozenset[str] | None = None,
) -> pd.DataFrame:
    """One row per source credit note (key in `invoice_key`, number in `InvoiceNumber`), amounts negative: what it
    takes off the day. `expected_paid` is what is applied of it (allocations and refunds); an allocation to an invoice
    not in Xero yet (`invoices_in_xero`: issued after the run's days) waits for that invoice's run, as the loader
    does."""
    notes = documents.get("credit_notes")
    if notes is None or notes.empty:
        return pd.DataFrame(columns=COLUMNS)
    found = {n.get("CreditNoteNumber"): n for n in xero_notes}
    allocations = documents.get("credit_allocations")
    if allocations is not None and invoices_in_xero is not None:
        allocations = allocations[allocations["invoice_key"].isin(list(invoices_in_xero))]
    applied = _sums(allocations, "credit_note_key")
    for key, amount in _sums(documents.get("refunds"), "credit_note_key").items():
        applied[key] = applied.get(key, Decimal(0)) + amount
    rows = []
    for note in notes.to_dict("records"):
        key, removed = note["credit_note_key"], note["source_status"] == "deleted"
        x = None if key in held else found.get(note["CreditNoteNumber"])
        want = Decimal(0) if removed else applied.get(key, Decimal(0))
        statuses = expected_status(note["source_status"], note["total"], want, False)
        total = to_decimal(x.get("Total", 0)) if x else None
        row = {
            "invoice_key": key,
            "day": note["day"],
            "InvoiceNumber": note["CreditNoteNumber"],
            "source_status": note["source_status"],
            "expected_total": -note["total"],
            "expected_tax": -note["tax_total"],
            "expected_paid": -want,
            "expected_credited": Decimal(0),
            "expected_status": "/".join(sorted(statuses - {"ABSENT"})),
            "xero_total": -total if total is not None else None,
            "xero_tax": -to_decimal(x.get("TotalTax", 0)) if x else None,
            "xero_paid": -(total - to_decimal(x.get("RemainingCredit", 0))) if x and total is not None else None,
            "xero_credited": Decimal(0) if x else None,
            "xero_status": x.get("Status") if x else "ABSENT",
        }
        if key in held:
            rows.append({**row, "xero_status": "HELD", "held": True, "ok": True, "problem": "held in quarantine"})
            continue
        problems = (
            []
            if row["xero_status"] in statuses
            else [f"status {row['xero_status']} (expected {row['expected_status']})"]
        )
        if x is not None and not removed:
            for name in ("total", "tax", "paid"):
                if row[f"xero_{name}"] != row[f"expected_{name}"]:
                    problems.append(f"{name} {row[f'xero_{name}']} in Xero vs {row[f'expected_{name}']} at the source")
        rows.append({**row, "held": False, "ok": not problems, "problem": "; ".join(problems)})
    return pd.DataFrame(rows, columns=COLUMNS)


def by_day(result: pd.DataFrame, days: list[str]) -> dict[str, dict[str, object]]:
    """`summary` of each day of the window (a day with no invoice compares nothing and passes)."""
    return {day: summary(result[result["day"] == day]) for day in days}


def summary(result: pd.DataFrame) -> dict[str, object]:
    """Totals: the source's, Xero's, and the money held back in quarantine; `difference` is what neither Xero
    nor the quarantine accounts for (0.00 on a reconciled day)."""
    live = result[result["source_status"] != "deleted"]
    held = live[live["held"].astype(bool)]
    source_total = sum(live["expected_total"], Decimal(0))
    held_total = sum(held["expected_total"], Decimal(0))
    xero_total = sum((v for v in live["xero_total"] if v is not None), Decimal(0))
    return {
        "invoices_compared": len(result) - len(result[result["held"].astype(bool)]),
        "mismatches": int((~result["ok"]).sum()) if len(result) else 0,
        "held": int(result["held"].astype(bool).sum()) if len(result) else 0,
        "source_total": str(cents(source_total)),
        "xero_total": str(cents(xero_total)),
        "held_total": str(cents(held_total)),
        "difference": str(cents(xero_total + held_total - source_total)),
        "source_paid": str(cents(sum(live["expected_paid"], Decimal(0)))),
        "xero_paid": str(cents(sum((v for v in live["xero_paid"] if v is not None), Decimal(0)))),
    }


def beyond_the_dated_read(invoices: pd.DataFrame, window: SyncWindow, recorded: Collection[str]) -> list[str]:
    """The numbers of `invoices` (documents) that reading the window's invoices back by date may miss, to be read by
    number: those dated outside the window, and those the state store knows (`recorded`: written or about to be,
    under any key), which Xero may hold under another date (edited there by hand). Any other one was never written
    by this project, so Xero holds it dated in the window or not at all (a deleted or held-back invoice of a first
    run: reading it by number would cost a call to learn that it is absent)."""
    dates = invoices["Date"].astype(str)
    outside = (dates < window.first.isoformat()) | (dates > window.last.isoformat())
    known = invoices["InvoiceNumber"].isin(list(recorded))
    return list(invoices.loc[outside | known, "InvoiceNumber"])
