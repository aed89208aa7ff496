"""The finance team's rules on what reaches Xero (the mapping file's `rules:`), applied to the practice ledger (pure).

Each rule moves the records it keeps out into the ledger's `excluded` frame under its name, with their amounts, so
they are accounted for (in the run's counts and the UI), never silent:
- `only_approved`: an invoice not yet approved at the source (status draft) stays out of Xero until it is
  (`only_approved`), rather than going to Xero as a DRAFT;
- `issued_from` / `issued_until`: only invoices issued in that range (`issue_date_range`);
- `only_paid`: only invoices paid (or closed) at the source (`only_paid`);
- `skip_zero_total`: invoices of 0.00 (`zero_total`);
- `skip_bill_to`: invoices billed to a match of the pattern, e.g. an insurer or another third party (`bill_to`);
- `skip_item_codes`: invoices with a line of one of these item codes (`item_code`);
- the mapping's `filters.businesses` and `filters.practitioners`: only those (`businesses`, `practitioners`);
- `sync_payments: false`: no payment is written or taken off in Xero (`payments_off`); the Xero frames leave the
  payments already there as they are.
The first rule that matches an invoice is the one it is listed under.
An invoice kept out takes its lines, payments and credit allocations with it.

`closed_invoices` decides what an invoice closed at the source without a payment the API shows (ledger status
`closed`, Cliniko 30) becomes: `paid` (the default) keeps its payment of the total; `written_off` turns that payment
into a write-off: a credit note of the invoice's total and tax (`<source>:write_off:<id>`, numbered `WO-<number>`,
booked to `accounts.bad_debts`) allocated to the invoice on the day it was closed.
"""

from __future__ import annotations

import re

import pandas as pd

from clinic_etl.ledger.models import ledger_frame
from clinic_etl.mapping import Filters, Rules


def _exclude(frame: pd.DataFrame, key: str, amount: str | None, rule: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_key": frame[key],
            "day": frame["day"],
            "rule": rule,
            "amount": frame[amount] if amount else None,
        },
        columns=["record_key", "day", "rule", "amount"],
    )


def written_off(ledger: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Closed invoices' payments become write-offs: a credit note and its allocation each."""
    invoices = ledger["invoices"]
    closed = invoices[invoices["status"] == "closed"]
    payments = ledger["payments"]
    gone = payments[payments["invoice_key"].isin(closed["invoice_key"])]
    if gone.empty:
        return ledger
    paid_on = gone.set_index("invoice_key")
    notes, applied = [], []
    for inv in closed[closed["invoice_key"].isin(gone["invoice_key"])].to_dict("records"):
        source, _, source_id = inv["invoice_key"].split(":", 2)
        key = f"{source}:write_off:{source_id}"
        on, day = paid_on.at[inv["invoice_key"], "date"], paid_on.at[inv["invoice_key"], "day"]
        notes.append(
            {
                "credit_note_key": key,
                "source_id": source_id,
                "number": f"WO-{inv['number']}",
                "issue_date": on,
                "contact_key": inv["contact_key"],
                "status": "open",
                "day": day,
                "description": f"Written off: invoice {inv['number']} closed unpaid at the source",
                "kind": "write_off",
                "total": inv["total"],
                "tax_total": inv["tax_total"],
            }
        )
        applied.append(
            {
                "allocation_key": f"{source}:write_off_allocation:{source_id}",
                "credit_note_key": key,
                "invoice_key": inv["invoice_key"],
                "date": on,
                "day": day,
                "amount": inv["total"],
            }
        )
    result = dict(ledger)
    result["payments"] = payments[~payments.index.isin(gone.index)].reset_index(drop=True)
    rows = [*ledger["credit_notes"].to_dict("records"), *notes]
    result["credit_notes"] = ledger_frame("credit_notes", rows)
    rows = [*ledger["credit_allocations"].to_dict("records"), *applied]
    result["credit_allocations"] = ledger_frame("credit_allocations", rows)
    return result


def _kept(frame: pd.DataFrame, out: pd.Series | None, copy: bool) -> pd.DataFrame:
    """`frame` without the rows `out` (None: none), numbered from 0; without `copy`, a frame nothing is taken out of
    and already numbered so is `frame` itself."""
    if out is None:
        if not copy and frame.index.equals(pd.RangeIndex(len(frame))):
            return frame
        out = pd.Series(False, index=frame.index)
    return frame[~out].reset_index(drop=True)


def apply_rules(
    ledger: dict[str, pd.DataFrame], rules: Rules, filters: Filters | None = None, *, copy: bool = True
) -> dict[str, pd.DataFrame]:
    """The ledger with the rules applied. `copy=False`: a frame the rules leave whole may be the ledger's own (for a
    caller that only reads it)."""
    if rules.closed_invoices == "written_off":
        ledger = written_off(ledger)
    invoices = ledger["invoices"]
    out = []
    checks = []
    if filters is not None and filters.businesses:
        checks.append(("businesses", ~invoices["business_id"].isin(filters.businesses)))
    if filters is not None and filters.practitioners:
        checks.append(("practitioners", ~invoices["practitioner_id"].isin(filters.practitioners)))
    if rules.only_approved:
        checks.append(("only_approved", invoices["status"] == "draft"))
    if rules.only_paid:
        checks.append(("only_paid", ~invoices["status"].isin(["paid", "closed", "deleted"])))
    if rules.skip_zero_total:
        checks.append(("zero_total", invoices["total"].map(lambda v: v == 0).astype(bool)))
    if rules.skip_bill_to:
        pattern = re.compile(rules.skip_bill_to, re.IGNORECASE)
        checks.append(("bill_to", invoices["bill_to"].map(lambda t: bool(isinstance(t, str) and pattern.search(t)))))
    if rules.skip_item_codes:
        lines = ledger["lines"]
        coded = set(lines.loc[lines["item_code"].isin(rules.skip_item_codes), "invoice_key"])
        checks.append(("item_code", invoices["invoice_key"].isin(coded)))
    if rules.issued_from is not None:
        checks.append(("issue_date_range", invoices["issue_date"] < rules.issued_from.isoformat()))
    if rules.issued_until is not None:
        checks.append(("issue_date_range", invoices["issue_date"] > rules.issued_until.isoformat()))
    kept_out = pd.Series(False, index=invoices.index)
    for rule, hit in checks:
        hit = hit & ~kept_out
        out.append(_exclude(invoices[hit], "invoice_key", "total", rule))
        kept_out |= hit
    gone = set(invoices.loc[kept_out, "invoice_key"])

    def of_gone(frame: pd.DataFrame) -> pd.Series | None:  # the rows of the invoices kept out (None: none)
        return frame["invoice_key"].isin(gone) if gone else None

    result = dict(ledger)
    result["invoices"] = _kept(invoices, kept_out if kept_out.any() else None, copy)
    result["lines"] = _kept(ledger["lines"], of_gone(ledger["lines"]), copy)
    payments = ledger["payments"]
    payments_out = of_gone(payments)
    if not rules.sync_payments:  # listed as excluded; the Xero frames hold them, so Xero's payments stay as they are
        left = payments if payments_out is None else payments[~payments_out]
        out.append(_exclude(left, "payment_key", "amount", "payments_off"))
    result["payments"] = _kept(payments, payments_out, copy)
    allocations = ledger["credit_allocations"]
    result["credit_allocations"] = _kept(allocations, of_gone(allocations), copy)
    if out:
        rows = pd.concat([ledger["excluded"], *out], ignore_index=True)
        result["excluded"] = ledger_frame("excluded", rows.to_dict("records"))
    return result
