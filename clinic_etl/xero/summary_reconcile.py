"""Reconciliation of summary mode: each summary invoice read back from Xero against the source invoices it covers.

Per summary invoice (`to_summary`'s `covers` says which source invoices it stands for): the sum of those source
invoices' totals and taxes, straight from the practice ledger, against Xero's Total and TotalTax; what was paid on
them (the ledger's payments, less the summary payments held back: a locked period, `rules.sync_payments: false`, a
payments account Xero refuses) against Xero's AmountPaid; no credit (summary mode books none: credit notes are in
quarantine) against AmountCredited; and the status. A summary whose planned document no longer says what its covered
sources add up to is flagged too. Source invoices held back (`held`) are listed as reconcile lists them, so the
day's totals account for their money. The rows have `reconcile.COLUMNS`, so the reconciliation asset can
concatenate them with the detailed mode's (`reconcile.by_day` and `reconcile.summary` work on them unchanged).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.models import complete
from clinic_etl.ledger.money import to_decimal
from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Mapping
from clinic_etl.xero.reconcile import COLUMNS, expected_status, held_rows


def _sums(keys: pd.Series, amounts: pd.Series) -> dict[str, Decimal]:
    frame = pd.DataFrame({"key": keys.to_numpy(), "amount": amounts.to_numpy()})
    return frame.groupby("key", sort=False)["amount"].agg(lambda values: sum(values, Decimal(0))).to_dict()


def prove_summaries(
    documents: dict[str, pd.DataFrame],
    ledger: dict[str, pd.DataFrame],
    mapping: Mapping,
    xero_invoices: list[dict],
    held: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """One row per summary invoice of `documents` (what `to_summary` made of `ledger` with `mapping`), compared with
    `xero_invoices` (GET /Invoices answers, found by InvoiceNumber), then one per source invoice held back. `held`:
    summary keys quarantine accounts for (a load failure): listed, not compared, as `reconcile` does."""
    ledger = apply_rules(complete(ledger), mapping.rules, mapping.filters)  # write-offs take payments away
    covers = documents["covers"]
    sources = ledger["invoices"].set_index("invoice_key")
    known = covers["source_key"].isin(sources.index)
    covered = covers[known]
    totals = _sums(covered["invoice_key"], covered["source_key"].map(sources["total"]))
    taxes = _sums(covered["invoice_key"], covered["source_key"].map(sources["tax_total"]))
    summary_of = pd.Series(covered["invoice_key"].to_numpy(), index=covered["source_key"].to_numpy())
    payments = ledger["payments"][ledger["payments"]["invoice_key"].isin(summary_of.index)]
    paid = _sums(payments["invoice_key"].map(summary_of), payments["amount"])
    held_payments = documents.get("held_payments")
    kept_back = (
        _sums(held_payments["invoice_key"], held_payments["Amount"])
        if held_payments is not None and len(held_payments)
        else {}
    )
    missing = covers.loc[~known].groupby("invoice_key")["source_key"].agg(list).to_dict()
    found = {i.get("InvoiceNumber"): i for i in xero_invoices}
    zero = Decimal("0.00")
    rows = []
    for inv in documents["invoices"].to_dict("records"):
        key, removed = inv["invoice_key"], inv["source_status"] == "deleted"
        x = None if key in held else found.get(inv["InvoiceNumber"])
        want_total, want_tax = totals.get(key, zero), taxes.get(key, zero)
        want_paid = zero if removed else paid.get(key, zero) - kept_back.get(key, zero)
        statuses = expected_status(inv["source_status"], want_total, want_paid, inv["Status"] == "DRAFT")
        row = {
            "invoice_key": key,
            "day": inv["day"],
            "InvoiceNumber": inv["InvoiceNumber"],
            "source_status": inv["source_status"],
            "expected_total": want_total,
            "xero_total": to_decimal(x.get("Total", 0)) if x else None,
            "expected_tax": want_tax,
            "xero_tax": to_decimal(x.get("TotalTax", 0)) if x else None,
            "expected_paid": want_paid,
            "xero_paid": to_decimal(x.get("AmountPaid", 0)) if x else None,
            "expected_credited": zero,
            "xero_credited": to_decimal(x.get("AmountCredited", 0)) if x else None,
            "expected_status": "/".join(sorted(statuses - {"ABSENT"})),
            "xero_status": x.get("Status") if x else "ABSENT",
        }
        if key in held:
            rows.append({**row, "xero_status": "HELD", "held": True, "ok": True, "problem": "held in quarantine"})
            continue
        problems = []
        if key in missing:
            problems.append(f"covers {', '.join(sorted(missing[key]))}, not in the ledger")
        if not removed and (inv["total"] != want_total or inv["tax_total"] != want_tax):
            problems.append(
                f"planned total {inv['total']} (tax {inv['tax_total']}) vs {want_total} (tax {want_tax}) summed from"
                " the source invoices it covers"
            )
        if row["xero_status"] not in statuses:
            problems.append(f"status {row['xero_status']} (expected {row['expected_status']})")
        if x is not None and not removed:
            for name in ("total", "tax", "paid", "credited"):
                if row[f"xero_{name}"] != row[f"expected_{name}"]:
                    problems.append(f"{name} {row[f'xero_{name}']} in Xero vs {row[f'expected_{name}']} at the source")
        rows.append({**row, "held": False, "ok": not problems, "problem": "; ".join(problems)})
    rows += held_rows(documents)  # source invoices held back: not summed
    return pd.DataFrame(rows, columns=COLUMNS)
