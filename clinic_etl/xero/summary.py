"""Summary mode (mapping `mode: summary`), the pure part: the practice ledger as one Xero invoice per day and business.

Instead of an invoice per source invoice and a contact per patient, Xero gets, per issue day and business (location):
- one ACCREC invoice `summary:<business>:<YYYY-MM-DD>`, numbered `<summary.number_prefix><YYYYMMDD>-<business>`,
  billed to the business's one customer contact `summary:contact:<business>` (named by `summary.contact_name`);
  an invoice without a business is summed under the business `all`;
- one line per (account code, tax type, tracking options) holding the day's summed amounts. Account, tax type and
  tracking come from the detailed mode's own rules (`frames._account`, `_tax_type`, `_tracking`), and a source
  invoice they cannot map is held back with the same reason the detailed mode gives;
- one payment per (summary invoice, date received, payments account): see *Payments* below.
No patient name, e-mail or id goes to Xero: descriptions and references carry only counts, the day and the business
id. The `covers` frame lists which source invoices each summary stands for (keys only).

Money, to the cent. Each source invoice's lines are first rounded exactly as the detailed mode rounds them
(`allocate` of the invoice's total over its line totals, and of its tax over its line taxes, per invoice), then
summed per line group, in integer cents. So a summary's lines add up to the sum of its source invoices' totals and its
line taxes to the sum of their taxes, and each group holds what the detailed mode would have booked to that account
and tax type. Xero computes a tax-inclusive line's tax itself (`inclusive_tax`, per line, rounded) and takes a line's
TaxAmount instead when it is sent, as the detailed mode does for its 3-dp lines. Summed over many invoices, the
source's tax and Xero's rounding of the summed amount drift apart by more than a cent, and Xero documents no bound
on a TaxAmount override (the sandbox refuses more than 0.05). So a group's line carries the source's tax as its
TaxAmount only while that differs from Xero's own figure for the line by at most one cent (`MAX_TAX_OVERRIDE`, the
size of the detailed mode's overrides); a group that drifts further is split into n equal lines (parts of the
amount, in cents), n the smallest from the drift up whose overrides of at most a cent each land the lines' taxes
on the source's tax exactly. The invoice's Total and TotalTax in Xero are then exactly the source's sums.

Statuses. Deleted source invoices are not summed; a day and business left with only deleted (or draft) invoices is a
summary with source_status `deleted`, so the loader voids or deletes one Xero already holds. Invoices kept out by
the mapping's rules (`apply_rules`, as the detailed mode) are not summed and stay in `excluded`. A source draft is
never summed into an approved summary: it is listed in `excluded` under the rule `summary_drafts` until approved at
the source. A source invoice held back (mapping problem, Xero's locked period) is not summed: the rest of its day
goes on, it is listed in `held` and `rejected` with its reason, and it joins its day's summary once fixed.

Payments. Xero applies a payment to an invoice, so a source payment goes to the summary of its invoice's issue day and
business, dated on the local day it was received (which may be later than the issue day). Per summary invoice, one
Xero payment per (date received, payments account) holds the sum of those source payments, keyed
`summary:<business>:<issue day>:<account>:<date>`. Each summary's payments therefore add up exactly to what was paid
on the source invoices it covers. The payments account is `accounts.payments`, as in the detailed mode; locked
periods, `rules.sync_payments` and a payments account Xero refuses are handled as the detailed mode handles them.

Credit notes (including `rules.closed_invoices: written_off` write-offs) are not summarised: each live one is put in
`rejected` (entity `credit_note`) with the reason, never silently dropped; its allocations and refunds go with it.

The ledger must hold every invoice issued on each day and business it summarises (with all their payments): a
summary is rebuilt whole from what the ledger holds. `days_to_complete` names the issue days a ledger touches outside
the run's days, which the extract must then fetch whole (a late edit re-issues its issue day's summary only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.ledger.money import cents
from clinic_etl.ledger.quarantine import REJECT_COLUMNS, no_rejects
from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Mapping
from clinic_etl.xero.credit_frames import ALLOCATION_COLUMNS, CREDIT_NOTE_COLUMNS, REFUND_COLUMNS
from clinic_etl.xero.fields import fitted
from clinic_etl.xero.frames import (
    CONTACT_COLUMNS,
    HELD_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    MappingProblem,
    content_hash,
    disambiguated,
)

# the detailed mode's own mapping rules, one account / tax type / tracking answer per distinct question
from clinic_etl.xero.frames import _account as detailed_account
from clinic_etl.xero.frames import _tax_type as detailed_tax_type
from clinic_etl.xero.frames import _tracking as detailed_tracking
from clinic_etl.xero.lines import inclusive_tax
from clinic_etl.xero.lock_dates import MOVED_COLUMNS, placed
from clinic_etl.xero.org import XeroOrg

COVER_COLUMNS = ["invoice_key", "source_key", "day"]
NO_BUSINESS = "all"  # the business of invoices that carry none (Clio)
DRAFT_RULE = "summary_drafts"
MAX_TAX_OVERRIDE = 1  # cents: the most a line's TaxAmount may differ from Xero's own rounding of its tax
CREDIT_NOTES_UNSUPPORTED = (
    "credit note not synced: summary mode (mapping `mode: summary`) books no credit notes, allocations or refunds;"
    " enter it in Xero by hand (or sync this organisation in `mode: detailed`)"
)

Problem = tuple[str, str, str, str, str]  # source, entity, source id, day, reason


def summary_key(business: str, day: str) -> str:
    return f"summary:{business}:{day}"


def summary_contact_key(business: str) -> str:
    return f"summary:contact:{business}"


def summary_number(mapping: Mapping, business: str, day: str) -> str:
    return f"{mapping.summary.number_prefix}{day.replace('-', '')}-{business}"


def summary_payment_key(business: str, day: str, account: str, on: str) -> str:
    return f"summary:{business}:{day}:{account}:{on}"


def summary_contact_name(mapping: Mapping, source_name: str, business: str) -> str:
    """`summary.contact_name` with `{source}` and `{business}` (the business's name, else its id) filled in."""
    name = mapping.summary.businesses.get(business, business)
    return mapping.summary.contact_name.replace("{source}", source_name).replace("{business}", name)


def business_of(business_ids: pd.Series) -> pd.Series:
    """Each invoice's summary business: its business id, or `all` when it has none."""
    return business_ids.where(business_ids.notna(), NO_BUSINESS).astype(str)


def days_to_complete(ledger: dict[str, pd.DataFrame], days: Iterable[str]) -> list[str]:
    """Issue days of the ledger's invoices outside the run's `days` (a late edit, a late payment): their summaries
    are rebuilt from the ledger, so the ledger must hold every invoice issued on those days, with its payments."""
    window = set(days)
    issued = set(ledger["invoices"]["issue_date"]) if "invoices" in ledger else set()
    return sorted(issued - window)


def _answers(frame: pd.DataFrame, columns: list[str], resolve: Callable[[dict], Any]) -> pd.Series:
    """`resolve` asked once per distinct combination of `columns` (missing values included), its answer (or the
    MappingProblem it raised) given to every row of the frame."""
    out = np.empty(len(frame), dtype=object)
    if len(frame):
        groups = frame.groupby(columns, dropna=False, sort=False)
        firsts = frame.loc[groups.head(1).index, columns]  # in order of first appearance, as ngroup numbers them
        answers = np.empty(len(firsts), dtype=object)
        for n, row in enumerate(firsts.to_dict("records")):
            try:
                answers[n] = resolve(row)
            except MappingProblem as problem:
                answers[n] = problem
        out[:] = answers[groups.ngroup().to_numpy()]
    return pd.Series(out, index=frame.index, dtype=object)


def _problems(answers: pd.Series) -> pd.Series:
    """The reason of each answer that is a MappingProblem, else None."""
    return answers.map(lambda a: str(a) if isinstance(a, MappingProblem) else None)


def _in_cents(values: Iterable[Decimal]) -> np.ndarray:
    return np.array([int(cents(v).scaleb(2)) for v in values], dtype=np.int64)


def allocated_cents(keys: pd.Series, parts: pd.Series, targets: pd.Series) -> np.ndarray:
    """`money.allocate(targets[key], parts of that key)` for every key at once, in integer cents: each part rounded
    half-up, then each key's residual spread by the largest remainder (ties: the earlier part), as the detailed mode
    spreads an invoice's total and tax over its lines. `keys` and `parts` are aligned, in line order; `targets` is
    indexed by key."""
    rounded = _in_cents(parts)
    if not len(rounded):
        return rounded
    frame = pd.DataFrame({"key": keys.to_numpy(), "pos": np.arange(len(rounded)), "rounded": rounded})
    added = frame.groupby("key", sort=False)["rounded"].sum()
    residual = pd.Series(
        [int(targets[k].scaleb(2) - a) for k, a in zip(added.index, added.to_numpy(), strict=True)],
        index=added.index,
        dtype=np.int64,
    )
    frame["residual"] = frame["key"].map(residual).to_numpy()
    off = frame[frame["residual"] != 0]
    if len(off):
        sign = np.sign(off["residual"].to_numpy())
        wanted = parts.to_numpy()[off["pos"].to_numpy()]
        remainder = [(p - cents(p)) * int(s) for p, s in zip(wanted, sign, strict=True)]
        ordered = off.assign(remainder=remainder).sort_values(
            ["key", "remainder", "pos"], ascending=[True, False, True], kind="stable"
        )
        rank = ordered.groupby("key", sort=False).cumcount().to_numpy()
        size = ordered.groupby("key", sort=False)["pos"].transform("size").to_numpy()
        magnitude = np.abs(ordered["residual"].to_numpy())
        extra = magnitude // size + (rank < magnitude % size)
        rounded[ordered["pos"].to_numpy()] += np.sign(ordered["residual"].to_numpy()) * extra
    return rounded


def _money(amount_cents: int) -> Decimal:
    return Decimal(int(amount_cents)).scaleb(-2)


def xero_tax_cents(amount_cents: int, rate: Decimal) -> int:
    """Xero's own tax inside a tax-inclusive line amount, in cents (`inclusive_tax`)."""
    return int(inclusive_tax(_money(amount_cents), rate).scaleb(2))


def split_line(amount: int, tax: int, rate: Decimal) -> list[tuple[int, int, int]]:
    """A line group's (amount, tax) in cents as [(line amount, line tax, Xero's own tax of the line)]: one line when
    the source's tax is within MAX_TAX_OVERRIDE of Xero's rounding, else the fewest equal parts whose taxes, each
    overridden by at most that, add up to `tax` exactly. The lines' amounts add up to `amount`."""
    own = xero_tax_cents(amount, rate)
    drift = abs(tax - own)
    if drift <= MAX_TAX_OVERRIDE:
        return [(amount, tax, own)]
    # n parts' own taxes differ from xero_tax(amount) by at most (n + 1) / 2 cents, so n = 2 * drift + 1 always works
    for n in range(max(2, -(-drift // MAX_TAX_OVERRIDE)), 2 * drift + 2):
        base, longer = divmod(amount, n)
        amounts = [base + (1 if j < longer else 0) for j in range(n)]
        owns = [xero_tax_cents(a, rate) for a in amounts]
        residual = tax - sum(owns)
        if abs(residual) <= n * MAX_TAX_OVERRIDE:
            step, whole = (1 if residual > 0 else -1), abs(residual)
            overrides = [whole // n + (1 if j < whole % n else 0) for j in range(n)]
            return [(a, o + step * d, o) for a, o, d in zip(amounts, owns, overrides, strict=True)]
    raise AssertionError("unreachable: 2 * drift + 1 parts always land on the tax")  # pragma: no cover


def _line_items(groups: pd.DataFrame, org: XeroOrg, day: str, business: str) -> list[dict]:
    """One summary's Xero lines from its line groups (sorted by account, tax type and tracking)."""
    items = []
    for g in groups.itertuples(index=False):
        tracking = json.loads(g.tracking)
        label = f"{day} business {business}, invoices: {g.invoices}, lines: {g.lines}"
        parts = split_line(int(g.amount), int(g.tax), org.tax_rates[g.TaxType])
        for n, (amount, tax, own) in enumerate(parts, 1):
            item: dict[str, Any] = {
                "Description": label if len(parts) == 1 else f"{label} (part {n} of {len(parts)})",
                "Quantity": Decimal(1),
                "UnitAmount": _money(amount),
                "LineAmount": _money(amount),
                "AccountCode": g.AccountCode,
                "TaxType": g.TaxType,
            }
            if tax != own:
                item["TaxAmount"] = _money(tax)
            if tracking:
                item["Tracking"] = tracking
            items.append(item)
    return items


def _decimal_sums(frame: pd.DataFrame, by: str, column: str) -> pd.Series:
    return frame.groupby(by, sort=False)[column].agg(lambda values: sum(values, Decimal(0)))


def _reject(frame: pd.DataFrame, reasons: pd.Series, entity: str = "invoice") -> list[Problem]:
    """(source, entity, source id, day, reason) for each row of `frame` (invoices) with its reason."""
    return [
        (k.split(":", 1)[0], entity, str(i), d, r)
        for k, i, d, r in zip(frame["invoice_key"], frame["source_id"], frame["day"], reasons, strict=True)
    ]


def to_summary(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg, source_name: str
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The ledger as summary documents: the frames and columns `to_xero` returns, plus `covers`
    (summary invoice_key, source_key, day), and the rejects. `source_name` (Cliniko, Clio) fills `{source}`."""
    ledger = apply_rules(complete(ledger), mapping.rules, mapping.filters)
    invoices = ledger["invoices"].copy()
    invoices["business"] = business_of(invoices["business_id"])
    invoices["summary_key"] = "summary:" + invoices["business"] + ":" + invoices["issue_date"].astype(str)
    status = invoices["status"]
    live = invoices[~status.isin(["draft", "deleted"])].copy()
    problems: list[Problem] = []
    moved: list[dict] = []

    # 1. what the mapping and the organisation make of each live invoice: the detailed mode's rules and reasons
    tracking = _answers(live, ["business_id", "practitioner_id"], lambda r: detailed_tracking(r, mapping, org))
    reason = _problems(tracking)  # the detailed mode asks an invoice's tracking before its lines
    live["tracking"] = tracking.map(lambda t: None if isinstance(t, MappingProblem) else json.dumps(t)).to_numpy()
    lines = ledger["lines"][ledger["lines"]["invoice_key"].isin(live["invoice_key"])]
    lines = lines.sort_values("line_no", kind="stable").reset_index(drop=True)  # the detailed mode's line order
    lines = lines.merge(
        live[["invoice_key", "practitioner_id", "business_id", "summary_key", "tracking"]],
        on="invoice_key",
        how="left",
        sort=False,
    )
    accounts = _answers(
        lines, ["item_code", "practitioner_id", "business_id"], lambda r: detailed_account(r, r, mapping, org)
    )
    tax_types = _answers(lines, ["tax_name", "tax_rate"], lambda r: detailed_tax_type(r, mapping, org))
    account_problem, tax_problem = _problems(accounts), _problems(tax_types)
    line_problem = account_problem.where(account_problem.notna(), tax_problem)  # a line's account first, then tax
    first = lines.loc[line_problem.notna(), ["invoice_key"]].assign(reason=line_problem[line_problem.notna()])
    first = first.drop_duplicates("invoice_key").set_index("invoice_key")["reason"]
    reason = reason.where(reason.notna(), live["invoice_key"].map(first))

    # 2. per summary: identities Xero can hold, and Xero's locked period (by `rules.locked_period`)
    dates: dict[str, str] = {}
    for key, business, day in (
        live[["summary_key", "business", "issue_date"]].drop_duplicates("summary_key").itertuples(index=False)
    ):
        _, too_long = fitted("Invoice", {"InvoiceNumber": summary_number(mapping, business, day)})
        too_long += fitted("Contact", {"ContactNumber": summary_contact_key(business)})[1]
        on, locked = placed(day, org.lock_date, mapping.rules.locked_period)
        dates[key] = on
        summary_problem = "; ".join(too_long) or locked
        if summary_problem:
            covered = (live["summary_key"] == key) & reason.isna()
            reason[covered] = f"its summary {key}: {summary_problem}"

    held = live[reason.notna()]
    problems += _reject(held, reason[reason.notna()])
    summed = live[reason.isna()]

    # 3. the summed invoices' lines, rounded per invoice as the detailed mode does, summed per line group
    lines = lines.assign(AccountCode=accounts.to_numpy(), TaxType=tax_types.to_numpy())
    lines = lines[lines["invoice_key"].isin(summed["invoice_key"])].reset_index(drop=True)
    by_invoice = summed.set_index("invoice_key")
    lines["amount"] = allocated_cents(lines["invoice_key"], lines["total"], by_invoice["total"])
    lines["tax_cents"] = allocated_cents(lines["invoice_key"], lines["tax"], by_invoice["tax_total"])
    groups = (
        lines.groupby(["summary_key", "AccountCode", "TaxType", "tracking"], sort=True)
        .agg(
            amount=("amount", "sum"),
            tax=("tax_cents", "sum"),
            lines=("invoice_key", "size"),
            invoices=("invoice_key", "nunique"),
        )
        .reset_index()
    )
    group_of = dict(tuple(groups.groupby("summary_key", sort=False)))

    # 4. the summary invoices: live ones, and those left with deleted (or draft) invoices only (voided in Xero)
    totals = _decimal_sums(summed, "summary_key", "total")
    taxes = _decimal_sums(summed, "summary_key", "tax_total")
    counts = summed.groupby("summary_key", sort=False)["invoice_key"].size()
    live_days = summed.groupby("summary_key", sort=False)["day"].max()
    removed = invoices[~invoices["summary_key"].isin(live["summary_key"])]
    removed_days = removed.groupby("summary_key", sort=False)["day"].max()
    first_of = invoices.drop_duplicates("summary_key").set_index("summary_key")[["business", "issue_date"]]
    rows = []
    for key in sorted(set(live_days.index) | set(removed_days.index)):
        business, day = first_of.at[key, "business"], first_of.at[key, "issue_date"]
        alive = key in live_days.index
        on = dates.get(key, day)
        if alive and on != day:
            moved.append({"key": key, "day": live_days[key], "from": day, "to": on})
        empty = pd.DataFrame(columns=groups.columns)
        document, _ = fitted(
            "Invoice",
            {
                "InvoiceNumber": summary_number(mapping, business, day),
                "contact_key": summary_contact_key(business),
                "Date": on,
                "DueDate": (date.fromisoformat(on) + timedelta(days=mapping.due_days)).isoformat(),
                "Reference": f"{source_name} summary {day} business {business}, invoices: {counts.get(key, 0)}",
                "Status": mapping.invoice_status,
                "LineItems": _line_items(group_of.get(key, empty), org, day, business) if alive else [],
            },
        )
        rows.append(
            {
                "invoice_key": key,
                "day": live_days[key] if alive else removed_days[key],
                **document,
                "source_status": "open" if alive else "deleted",
                "total": totals[key] if alive else Decimal("0.00"),
                "tax_total": taxes[key] if alive else Decimal("0.00"),
                "content_hash": content_hash(document),
            }
        )
    invoice_frame = pd.DataFrame(rows, columns=INVOICE_COLUMNS)
    numbers = dict(zip(invoice_frame["invoice_key"], invoice_frame["InvoiceNumber"], strict=True))
    summary_days = dict(zip(invoice_frame["invoice_key"], invoice_frame["day"], strict=True))
    covers = pd.DataFrame(
        {
            "invoice_key": summed["summary_key"].to_numpy(),
            "source_key": summed["invoice_key"].to_numpy(),
            "day": summed["summary_key"].map(summary_days).to_numpy(),
        },
        columns=COVER_COLUMNS,
    ).sort_values(["invoice_key", "source_key"], ignore_index=True)

    # 5. payments: per summary, date received and account
    payments, held_payments, payment_problems = _payments(ledger["payments"], summed, numbers, mapping, org, moved)
    problems += payment_problems

    # 6. credit notes are not summarised: rejected with the reason, with their allocations and refunds
    notes = ledger["credit_notes"]
    notes = notes[notes["status"] != "deleted"]
    problems += [
        (k.split(":", 1)[0], "credit_note", str(i), d, CREDIT_NOTES_UNSUPPORTED)
        for k, i, d in zip(notes["credit_note_key"], notes["source_id"], notes["day"], strict=True)
    ]

    drafts = invoices[status == "draft"]
    excluded = pd.DataFrame(
        {"record_key": drafts["invoice_key"], "day": drafts["day"], "rule": DRAFT_RULE, "amount": drafts["total"]},
        columns=["record_key", "day", "rule", "amount"],
    )
    if len(excluded):
        excluded = ledger_frame("excluded", [*ledger["excluded"].to_dict("records"), *excluded.to_dict("records")])
    else:
        excluded = ledger["excluded"]
    frames = {
        "contacts": _contacts(invoice_frame, mapping, source_name),
        "invoices": invoice_frame,
        "payments": payments,
        "held_payments": held_payments,
        "excluded": excluded,
        "moved": pd.DataFrame(moved, columns=MOVED_COLUMNS),
        "credit_notes": pd.DataFrame(columns=CREDIT_NOTE_COLUMNS),
        "credit_allocations": pd.DataFrame(columns=ALLOCATION_COLUMNS),
        "refunds": pd.DataFrame(columns=REFUND_COLUMNS),
        "held": pd.DataFrame(
            {
                **{c: held[c].to_numpy() for c in ("invoice_key", "day", "status", "total", "tax_total")},
                "InvoiceNumber": [None] * len(held),
            },
            columns=HELD_COLUMNS,
        ),
        "covers": covers,
    }
    rejected = pd.DataFrame(
        [{"source": s, "entity": e, "source_id": i, "day": d, "reason": r} for s, e, i, d, r in problems],
        columns=REJECT_COLUMNS,
    )
    return frames, rejected if problems else no_rejects()


def _payments(
    source: pd.DataFrame,
    summed: pd.DataFrame,
    numbers: dict[str, str],
    mapping: Mapping,
    org: XeroOrg,
    moved: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """(payments, held payments, problems): the summed invoices' payments, one Xero payment per (summary, date
    received, account), each dated as `rules.locked_period` places it."""
    account = mapping.accounts.payments
    invoice = summed.set_index("invoice_key")
    paid = source[source["invoice_key"].isin(summed["invoice_key"])].copy()
    if paid.empty:
        held = pd.DataFrame(columns=PAYMENT_COLUMNS)
        held.attrs["all"] = not mapping.rules.sync_payments
        return pd.DataFrame(columns=PAYMENT_COLUMNS), held, []
    paid["summary_key"] = paid["invoice_key"].map(invoice["summary_key"])
    paid["business"] = paid["invoice_key"].map(invoice["business"])
    paid["issue_date"] = paid["invoice_key"].map(invoice["issue_date"])
    where = {on: placed(on, org.lock_date, mapping.rules.locked_period) for on in paid["date"].unique()}
    paid["sent"] = paid["date"].map({on: sent for on, (sent, _) in where.items()})
    paid["locked"] = paid["date"].map({on: locked for on, (_, locked) in where.items()})
    paid["summary_payment"] = [
        summary_payment_key(b, d, account, on)
        for b, d, on in zip(paid["business"], paid["issue_date"], paid["sent"], strict=True)
    ]
    grouped = paid.groupby("summary_payment", sort=True)
    rows = pd.DataFrame(
        {
            "invoice_key": grouped["summary_key"].first(),
            "day": grouped["day"].max(),
            "Date": grouped["sent"].first(),
            "Amount": grouped["amount"].agg(lambda values: sum(values, Decimal(0))),
            "count": grouped["amount"].size(),
        }
    )
    rows = rows.rename_axis("payment_key").reset_index()
    rows["InvoiceNumber"] = rows["invoice_key"].map(numbers)
    rows["AccountCode"] = account
    rows["Reference"] = (
        rows["InvoiceNumber"] + " payments received " + rows["Date"] + ", payments: " + rows["count"].astype(str)
    )
    rows = rows[PAYMENT_COLUMNS]
    shifted = paid[paid["sent"] != paid["date"]].drop_duplicates(["summary_payment", "date"])
    moved += [
        {"key": k, "day": d, "from": f, "to": t}
        for k, d, f, t in zip(shifted["summary_payment"], shifted["day"], shifted["date"], shifted["sent"], strict=True)
    ]

    def reject(frame: pd.DataFrame, reasons: Iterable[str]) -> list[Problem]:
        return [
            (k.split(":", 1)[0], "invoice", k.split(":", 2)[2], d, r)
            for k, d, r in zip(frame["invoice_key"], frame["day"], reasons, strict=True)
        ]

    locked = paid[paid["locked"].notna()]
    problems = reject(
        locked, [f"its payment {k} is {r}" for k, r in zip(locked["payment_key"], locked["locked"], strict=True)]
    )
    is_locked = rows["payment_key"].isin(locked["summary_payment"])
    held, rows = rows[is_locked], rows[~is_locked]
    if not mapping.rules.sync_payments:  # rules.sync_payments: false: neither written nor taken off
        held, rows = _stacked(held, rows), rows.iloc[:0]
    if len(rows) and not org.accepts_payments(account):
        reason = (
            f"payments account {account!r} (accounts.payments in the mapping) is not a Xero bank account or"
            " payments-enabled account"
        )
        refused = paid[paid["summary_payment"].isin(rows["payment_key"])]
        problems += reject(refused, [reason] * len(refused))
        held, rows = _stacked(held, rows), rows.iloc[:0]
    held = held.reset_index(drop=True)
    held.attrs["all"] = not mapping.rules.sync_payments  # hands off every payment in Xero
    return rows.reset_index(drop=True), held, problems


def _stacked(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    parts = [f for f in (first, second) if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else first


def _contacts(invoices: pd.DataFrame, mapping: Mapping, source_name: str) -> pd.DataFrame:
    """One customer contact per business of the summaries, named by `summary.contact_name`. Two businesses whose
    names coincide keep two contacts: the one with the higher id (among the mapping's businesses and these) gets
    its id appended, so a name never depends on which businesses a run happens to hold."""
    keys = invoices["contact_key"]
    businesses = keys.str.rsplit(":", n=1).str[-1]
    candidates = sorted(set(businesses) | set(mapping.summary.businesses), key=lambda b: (len(b), b))
    seen: set[str] = set()
    names: dict[str, str] = {}
    for business in candidates:
        element, _ = fitted("Contact", {"Name": summary_contact_name(mapping, source_name, business)})
        name = element["Name"]
        key = summary_contact_key(business)
        names[business] = disambiguated(name, key) if name.casefold() in seen else name
        seen.add(name.casefold())
    firsts = invoices.sort_values("day", kind="stable").drop_duplicates("contact_key")
    firsts = firsts.assign(business=businesses[firsts.index]).sort_values("contact_key", ignore_index=True)
    rows = []
    for key, business, day in firsts[["contact_key", "business", "day"]].itertuples(index=False):
        fields = {"Name": names[business], "FirstName": None, "LastName": None, "EmailAddress": None}
        rows.append({"contact_key": key, **fields, "content_hash": content_hash(fields), "day": day})
    return pd.DataFrame(rows, columns=CONTACT_COLUMNS)
