"""The proof starts from the source, not from the plan (pure).

`reconcile` compares Xero with the documents the pipeline built. Two more things make it a proof of the source:
- every invoice and credit note of the practice ledger is accounted for: compared in Xero with the source's own total
  and tax, or kept out by a named rule (`excluded`), or held in quarantine. One that is none of these (a transform
  that lost it) is a mismatch: "not in Xero, not excluded by a rule, not in quarantine";
- every sales invoice Xero holds under the organisation's number prefix, dated on a day of the run, stands for a
  source record: one that no source record of the run and no mapping of the state store accounts for is a mismatch
  ("in Xero with no source invoice"): created by hand under our prefix, or left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.money import to_decimal
from clinic_etl.xero.reconcile import COLUMNS
from clinic_etl.xero.same_document import xero_day

GONE = {"VOIDED", "DELETED"}


def _row(
    key: str, day: str, number: object, total: object, tax: object, problem: str, xero: dict | None = None
) -> dict:
    xero = xero or {}
    return {
        "invoice_key": key,
        "day": day,
        "InvoiceNumber": number,
        "source_status": "",
        "expected_total": total,
        "expected_tax": tax,
        "expected_paid": Decimal(0),
        "expected_credited": Decimal(0),
        "expected_status": "",
        "xero_total": xero.get("total"),
        "xero_tax": xero.get("tax"),
        "xero_paid": xero.get("paid"),
        "xero_credited": None,
        "xero_status": xero.get("status", "ABSENT"),
        "held": False,
        "ok": False,
        "problem": problem,
    }


def unaccounted(
    ledger: dict[str, pd.DataFrame], result: pd.DataFrame, excluded: pd.DataFrame, covered: Iterable[str] = ()
) -> pd.DataFrame:
    """Rows for the ledger's invoices and credit notes that the comparison, the rules and the quarantine all miss, and
    for those whose planned total or tax is not the source's. `covered`: source invoices a compared summary stands
    for (summary mode)."""
    seen = set(result["invoice_key"]) | set(covered)
    ruled = set(excluded["record_key"])
    rows = []
    for frame, key in (("invoices", "invoice_key"), ("credit_notes", "credit_note_key")):
        source = ledger[frame]
        sign = -1 if frame == "credit_notes" else 1
        # a deleted record is accounted for by its absence (or, once synced, by its voided document's comparison)
        lost = source[~source[key].isin(seen) & ~source[key].isin(ruled) & (source["status"] != "deleted")]
        for r in lost.itertuples():  # only what went missing: a handful, never the day's invoices
            total, tax = sign * r.total, sign * r.tax_total
            reason = "not in Xero, not excluded by a rule, not in quarantine"
            rows.append(_row(getattr(r, key), r.day, r.number, total, tax, reason))
        if frame == "invoices":
            compared = result[~result["held"].astype(bool)].merge(
                source[[key, "total", "tax_total", "status"]], left_on="invoice_key", right_on=key
            )
            compared = compared[compared["status"] != "deleted"]
            wrong = compared[
                (compared["expected_total"] != compared["total"]) | (compared["expected_tax"] != compared["tax_total"])
            ]
            for r in wrong.itertuples():
                problem = f"planned total {r.expected_total} / tax {r.expected_tax}, source {r.total} / {r.tax_total}"
                rows.append(_row(r.invoice_key, r.day, r.InvoiceNumber, r.total, r.tax_total, problem))
    return pd.DataFrame(rows, columns=COLUMNS)


def _live_under(xero_invoices: list[dict], prefix: str, days: list[str], numbers: set[str]) -> list[dict]:
    """Xero's live sales invoices under `prefix`, dated on `days`, whose numbers the run's documents do not hold."""
    wanted = set(days)
    return [
        x
        for x in xero_invoices
        if prefix
        and str(x.get("InvoiceNumber") or "").startswith(prefix)
        and str(x.get("InvoiceNumber")) not in numbers
        and x.get("Status") not in GONE
        and xero_day(x) in wanted
    ]


def strays(
    xero_invoices: list[dict], prefix: str, days: list[str], numbers: set[str], known: Callable[[list[str]], set[str]]
) -> pd.DataFrame:
    """Rows for Xero's live sales invoices under `prefix` dated on `days` that neither the run's documents (`numbers`)
    nor the state store (`known`: the numbers of a list it maps to a source record) account for."""
    candidates = _live_under(xero_invoices, prefix, days, numbers)
    mapped = known([str(x["InvoiceNumber"]) for x in candidates]) if candidates else set()
    rows = []
    for x in candidates:
        if str(x["InvoiceNumber"]) in mapped:
            continue
        total, tax = to_decimal(x.get("Total", 0)), to_decimal(x.get("TotalTax", 0))
        rows.append(
            _row(
                f"xero:invoice:{x.get('InvoiceID')}",
                str(xero_day(x)),
                x["InvoiceNumber"],
                Decimal(0),
                Decimal(0),
                "in Xero with no source invoice",
                {"total": total, "tax": tax, "paid": to_decimal(x.get("AmountPaid", 0)), "status": x.get("Status")},
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
