"""Practice ledger -> Xero documents (pure): contacts, ACCREC invoices with lines, payments.

Everything a mapping or the organisation cannot support (unknown account code, tax type or tracking
option) rejects the invoice with a reason that names the mapping key to fix; the rest goes on.

The ledger is worked on by columns (a million lines in a few seconds). A line item is worked out once per distinct
line (its text, its amounts as written, its account and tracking) by the same code as one line at a time; each
invoice's total and tax, in integer cents, are spread over its lines' rounded cents as `allocate` spreads them
(largest remainder first), and a line given a cent more or less gets its own item. An invoice that needs more (a
mapping problem, a total with a fraction of a cent, a value of another kind) goes through `_line_items`, one invoice
at a time, as before. Documents, their JSON and content hashes are put together a column at a time. Both paths give
the same documents and hashes (clinic_etl_tests/unit/test_bulk_transform.py holds them to it).
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from clinic_etl.ledger.models import complete
from clinic_etl.ledger.money import first_positions
from clinic_etl.ledger.quarantine import REJECT_COLUMNS, no_rejects
from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Mapping
from clinic_etl.xero.contact_frames import CONTACT_COLUMNS as CONTACT_COLUMNS
from clinic_etl.xero.contact_frames import contact_name as contact_name
from clinic_etl.xero.contact_frames import contacts_frame as contacts_frame
from clinic_etl.xero.contact_frames import disambiguated as disambiguated
from clinic_etl.xero.credit_frames import credit_note_frames
from clinic_etl.xero.document_hash import _hashes, _json_documents
from clinic_etl.xero.document_hash import content_hash as content_hash
from clinic_etl.xero.fitting import _fitted, _frame_of, _unfitted
from clinic_etl.xero.fitting import clean as clean
from clinic_etl.xero.line_items import _Items
from clinic_etl.xero.line_rules import MappingProblem as MappingProblem
from clinic_etl.xero.line_rules import _account as _account
from clinic_etl.xero.line_rules import _Rules as _Rules
from clinic_etl.xero.line_rules import _tax_type as _tax_type
from clinic_etl.xero.line_rules import _tracking as _tracking
from clinic_etl.xero.lock_dates import MOVED_COLUMNS, placed
from clinic_etl.xero.org import XeroOrg

INVOICE_COLUMNS = [
    "invoice_key",
    "day",
    "InvoiceNumber",
    "contact_key",
    "Date",
    "DueDate",
    "Reference",
    "Status",
    "source_status",
    "total",
    "tax_total",
    "LineItems",
    "content_hash",
]
HELD_COLUMNS = ["invoice_key", "day", "status", "total", "tax_total", "InvoiceNumber"]
PAYMENT_COLUMNS = ["payment_key", "invoice_key", "day", "InvoiceNumber", "Date", "Amount", "AccountCode", "Reference"]


def payment_reference(payment_key: str) -> str:
    """`clio:allocation:88` -> `Clio payment 88`: shown in Xero, and how a payment is found again on its invoice."""
    source, _, rest = payment_key.partition(":")
    return f"{source.title()} payment {rest.split(':', 1)[-1]}"


def _filed_as(prefix: str) -> tuple[str, str]:
    """`cliniko:appointment` -> (cliniko, appointment); a bare source (`clio`) -> (clio, invoice)."""
    source, _, entity = prefix.partition(":")
    return source, entity or "invoice"


def _common_source(keys: np.ndarray) -> str | None:
    """The source (`cliniko` of `cliniko:invoice:1`) when every key is a str of that one source, else None."""
    if not len(keys) or not isinstance(keys[0], str) or ":" not in keys[0]:
        return None
    lead = keys[0].split(":", 1)[0] + ":"
    try:
        return lead[:-1] if all(map(str.startswith, keys, repeat(lead))) else None
    except (AttributeError, TypeError):
        return None


_LAST = operator.itemgetter(-1)
_CHUNK = 1 << 16
_HEAD_FIELDS = ("InvoiceNumber", "contact_key", "Date", "DueDate", "Reference", "Status")


def _codes(values: np.ndarray) -> np.ndarray:
    """Codes of `values` numbered in order of appearance, a missing value (None, NaN) being one value too."""
    return pd.factorize(pd.factorize(values, use_na_sentinel=False)[0])[0]


def _days(issue_dates: np.ndarray, live: np.ndarray, mapping: Mapping, org: XeroOrg) -> dict[str, Any]:
    """Per invoice: its Date and DueDate, why it is held back (Xero's locked period) and where it was moved from,
    each distinct issue date worked out once as `to_xero` works out one invoice's. An error (an issue date that is
    no date) is raised where the first invoice meets it."""
    codes = _codes(issue_dates)
    due = timedelta(days=mapping.due_days)
    rule = mapping.rules.locked_period
    k = int(codes.max(initial=-1)) + 1
    dated = {name: np.empty(k, dtype=object) for name in ("date", "due", "live_date", "live_due", "locked", "from")}
    errors: dict[tuple[int, bool], Exception] = {}  # (code, live) -> the error an invoice of that date meets
    for u, value in enumerate(issue_dates[first_positions(codes)].tolist()):
        try:
            issued = date.fromisoformat(value)
        except Exception as error:  # noqa: BLE001 - raised below, where the first invoice of this date meets it
            errors[u, True] = errors[u, False] = error
            continue
        iso = issued.isoformat()
        try:
            dated["date"][u], dated["due"][u] = iso, (issued + due).isoformat()
        except Exception as error:  # noqa: BLE001
            errors[u, False] = error
        on, locked = placed(iso, org.lock_date, rule)
        dated["locked"][u] = locked
        if locked:
            continue
        if on != iso:
            dated["from"][u] = iso
            issued = date.fromisoformat(on)
        try:
            dated["live_date"][u], dated["live_due"][u] = issued.isoformat(), (issued + due).isoformat()
        except Exception as error:  # noqa: BLE001
            errors[u, True] = error
    out = {
        "Date": np.where(live, dated["live_date"][codes], dated["date"][codes]),
        "DueDate": np.where(live, dated["live_due"][codes], dated["due"][codes]),
        "locked": np.where(live, dated["locked"][codes], None),
        "from": np.where(live, dated["from"][codes], None),
        "errors": errors,
        "codes": codes,
    }
    return out


def _invoice_documents(
    invoices: pd.DataFrame, made: _Items, mapping: Mapping, org: XeroOrg
) -> tuple[pd.DataFrame, list[tuple], list[dict], list[dict]]:
    """The invoices' Xero documents (the frame of INVOICE_COLUMNS), the problems that hold invoices back (in the
    ledger's order), the invoices held back, and those dated past Xero's lock date (moved)."""
    n = len(invoices)
    if not n:  # (a frame of no invoice may lack columns)
        return pd.DataFrame([], columns=INVOICE_COLUMNS), [], [], []
    cols = made.invoices
    keys, status = cols["invoice_key"], cols["status"]
    live = status != "deleted"
    refused = np.zeros(n, dtype=bool)
    refused[list(made.refused)] = True
    days = _days(cols["issue_date"], live, mapping, org)
    if days["errors"]:  # the first invoice that meets an error raises it, as one invoice at a time would
        for i in np.flatnonzero(~refused).tolist():
            error = days["errors"].get((days["codes"][i], bool(live[i])))
            if error is not None and not (live[i] and days["locked"][i]):
                raise error
    locked = ~refused & (days["locked"] != None)  # noqa: E711 - elementwise
    numbers = cols["number"]
    prefix = mapping.invoice_number_prefix
    numbers_are_text = pd.api.types.infer_dtype(numbers, skipna=False) == "string"
    head = {
        "InvoiceNumber": list(map(prefix.__add__, numbers)) if numbers_are_text else [f"{prefix}{v}" for v in numbers],
        "contact_key": cols["contact_key"].tolist(),
        "Date": days["Date"].tolist(),
        "DueDate": days["DueDate"].tolist(),
    }
    source = _common_source(keys)
    if source is not None and numbers_are_text:
        head["Reference"] = list(map(f"{source.title()} invoice ".__add__, numbers))
    else:
        head["Reference"] = [f"{k.split(':')[0].title()} invoice {v}" for k, v in zip(keys, numbers, strict=True)]
    statuses = np.full(n, mapping.invoice_status, dtype=object)
    statuses[status == "draft"] = "DRAFT"  # never approved early
    head["Status"] = statuses.tolist()
    # Xero's limits: `_fitted("Invoice", ...)` for the documents whose bounded fields it would change or refuse
    too_long: dict[int, list[str]] = {}
    unfitted = _unfitted(head, "Invoice")
    for i in [] if unfitted is None else np.flatnonzero(unfitted & ~refused & ~locked).tolist():
        document, problems = _fitted("Invoice", {name: head[name][i] for name in _HEAD_FIELDS})
        for name in _HEAD_FIELDS:
            head[name][i] = document[name]
        if problems:
            too_long[i] = problems
    for i, problems in made.fitting.items():
        too_long[i] = too_long.get(i, []) + problems
    # what holds an invoice back, in the ledger's order, one reason each (the first that applies)
    problems: list[tuple] = []
    held: list[dict] = []
    moved: list[dict] = []
    for i in sorted(set(made.refused) | set(np.flatnonzero(locked).tolist()) | set(too_long)):
        source = keys[i].rsplit(":", 1)[0]  # source:entity (an invoice, or a Cliniko appointment's)
        if i in made.refused:
            reason = str(made.refused[i])
        elif locked[i]:
            reason = days["locked"][i]
        else:
            reason = "; ".join(too_long[i])
        problems.append((i, (source, cols["source_id"][i], cols["day"][i], reason)))
        held.append({c: cols[c][i] for c in HELD_COLUMNS[:-1]})
    for i in np.flatnonzero((days["from"] != None) & ~refused & ~locked).tolist():  # noqa: E711
        moved.append({"key": keys[i], "day": cols["day"][i], "from": days["from"][i], "to": head["Date"][i]})
    kept = np.ones(n, dtype=bool)
    kept[[i for i, _ in problems]] = False
    columns = {
        "invoice_key": keys.tolist(),
        "day": cols["day"].tolist(),
        **head,
        "source_status": status.tolist(),
        "total": cols["total"].tolist(),
        "tax_total": cols["tax_total"].tolist(),
        "LineItems": made.items,
    }
    del head
    which = np.flatnonzero(kept).tolist()
    if not kept.all():
        columns = {name: [values[i] for i in which] for name, values in columns.items()}
    hashes: list[str] = []
    for at in range(0, len(which), _CHUNK):  # a chunk at a time: the documents' JSON is never all held at once
        part = slice(at, at + _CHUNK)
        fields = {name: columns[name][part] for name in _HEAD_FIELDS}
        hashes += _hashes(_json_documents({**fields, "LineItems[]": made.texts(which[part])}))
    columns["content_hash"] = hashes
    frame = _frame_of(columns, INVOICE_COLUMNS) if columns["invoice_key"] else pd.DataFrame([], columns=INVOICE_COLUMNS)
    return frame, [p for _, p in problems], held, moved


def _first_days(documents: pd.DataFrame) -> pd.Series:
    """Each contact's first day among `documents` (contact_key, day): what a stable sort by day and the first row of
    each contact give, without sorting strings."""
    days, day_values = pd.factorize(documents["day"].to_numpy(dtype=object), sort=True)
    days = np.where(days < 0, len(day_values), days)  # a missing day sorts last
    contacts, contact_values = pd.factorize(documents["contact_key"].to_numpy(dtype=object), use_na_sentinel=False)
    first = np.full(len(contact_values), len(day_values), dtype=np.int64)
    np.minimum.at(first, contacts, days)
    values = np.append(np.asarray(day_values, dtype=object), np.nan)[first]
    return pd.Series(values, index=contact_values, dtype=object)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the transform makes its dicts and lists (a million line items, none in a
    cycle: reference counting frees what is dropped): each of its collections would walk every one made so far."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    with _collector_paused():
        return _to_xero(ledger, mapping, org)


def _to_xero(
    ledger: dict[str, pd.DataFrame], mapping: Mapping, org: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    # credit notes may be left out; the frames are only read here, so what no rule touches is not copied
    ledger = apply_rules(complete(ledger), mapping.rules, mapping.filters, copy=False)
    rules = _Rules(mapping, org)
    made = _Items(ledger["invoices"], ledger["lines"], rules)
    invoice_frame, problems, held, moved = _invoice_documents(ledger["invoices"], made, mapping, org)
    del made
    credit, credit_problems = credit_note_frames(ledger, mapping, org, content_hash, moved)
    used = pd.concat([invoice_frame["contact_key"], credit["credit_notes"]["contact_key"]]).unique()
    contacts, unsendable = contacts_frame(ledger["contacts"][ledger["contacts"]["contact_key"].isin(used)])
    if unsendable:  # an invoice goes only with its contact
        held_back = invoice_frame["contact_key"].isin(list(unsendable))
        problems += [
            (k.rsplit(":", 1)[0], k.rsplit(":", 1)[-1], d, f"contact {c}: {unsendable[c]}")
            for k, d, c in invoice_frame.loc[held_back, ["invoice_key", "day", "contact_key"]].itertuples(index=False)
        ]
        keys = set(invoice_frame.loc[held_back, "invoice_key"])
        invoices = ledger["invoices"]
        held += [i for i in invoices[invoices["invoice_key"].isin(keys)].to_dict("records") if i["invoice_key"] in keys]
        invoice_frame = invoice_frame[~held_back].reset_index(drop=True)
        contacts = contacts[~contacts["contact_key"].isin(list(unsendable))].reset_index(drop=True)
    payments, held_payments = _payments(ledger["payments"], invoice_frame, mapping, org, problems, moved)
    if unsendable:  # a credit note goes only with its contact, and its allocations and refunds with it
        notes = credit["credit_notes"]
        gone = notes["contact_key"].isin(list(unsendable))
        credit_problems += [
            (k.split(":", 1)[0], "credit_note", k.rsplit(":", 1)[-1], d, f"contact {c}: {unsendable[c]}")
            for k, d, c in notes.loc[gone, ["credit_note_key", "day", "contact_key"]].itertuples(index=False)
        ]
        credit = {
            name: frame[~frame["credit_note_key"].isin(notes.loc[gone, "credit_note_key"])]
            for name, frame in credit.items()
        }
    documents = pd.concat([invoice_frame[["contact_key", "day"]], credit["credit_notes"][["contact_key", "day"]]])
    contacts["day"] = contacts["contact_key"].map(_first_days(documents))  # each one's first day
    held_payments.attrs["all"] = not mapping.rules.sync_payments  # hands off every payment in Xero
    frames = {
        "contacts": contacts,
        "invoices": invoice_frame,
        "payments": payments,
        # payments held back (their reasons are in the rejects): left as they are in Xero, neither made nor reversed
        "held_payments": held_payments,
        "excluded": ledger["excluded"],  # kept out by a named rule: the source's own and the mapping's
        "moved": pd.DataFrame(moved, columns=MOVED_COLUMNS),  # dated on the first open day past Xero's lock date
        **credit,
        # invoices held back (their reasons are in the rejects): the reconciliation accounts for their money
        "held": pd.DataFrame(
            [{**{c: i[c] for c in HELD_COLUMNS[:-1]}, "InvoiceNumber": None} for i in held], columns=HELD_COLUMNS
        ),
    }
    # filed as the ledger files the document (`cliniko:appointment:7` under appointment), so its resolution finds it
    problems = [(*_filed_as(s), i, d, r) for s, i, d, r in problems] + credit_problems
    rejected = pd.DataFrame(
        [{"source": s, "entity": e, "source_id": i, "day": d, "reason": r} for s, e, i, d, r in problems],
        columns=REJECT_COLUMNS,
    )
    return frames, rejected if problems else no_rejects()


def _payments(
    ledger_payments: pd.DataFrame,
    invoice_frame: pd.DataFrame,
    mapping: Mapping,
    org: XeroOrg,
    problems: list[tuple],
    moved: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The payments of the invoices in `invoice_frame` (PAYMENT_COLUMNS) and those held back, a column at a time;
    their problems and moves are added to `problems` and `moved`, in the ledger's order."""
    invoice_keys = pd.Index(invoice_frame["invoice_key"].to_numpy(dtype=object))
    pay_keys = ledger_payments["invoice_key"].to_numpy(dtype=object)
    if invoice_keys.is_unique:
        at = invoice_keys.get_indexer(pay_keys)
    else:  # the last invoice of a key, as a dict of them gives
        last = {k: n for n, k in enumerate(invoice_keys)}
        at = np.array([last.get(k, -1) for k in pay_keys], dtype=np.int64)
    which = np.flatnonzero(at >= 0)
    if not len(which):  # (a frame of no payment may lack columns)
        return _frame(None), _frame(None)
    column = {c: ledger_payments[c].to_numpy(dtype=object)[which] for c in ("payment_key", "day", "date", "amount")}
    payment_keys = column["payment_key"].tolist()
    source = _common_source(column["payment_key"])
    if source is not None:  # `payment_reference` of keys of one source: the id after its kind, if it has one
        title = f"{source.title()} payment "
        references = list(map(title.__add__, map(_LAST, map(str.split, payment_keys, repeat(":"), repeat(2)))))
    else:
        references = list(map(payment_reference, payment_keys))
    payments = {
        "payment_key": payment_keys,
        "invoice_key": pay_keys[which].tolist(),
        "day": column["day"].tolist(),
        "InvoiceNumber": invoice_frame["InvoiceNumber"].to_numpy(dtype=object)[at[which]].tolist(),
        "Date": column["date"].tolist(),
        "Amount": column["amount"].tolist(),
        "AccountCode": [mapping.accounts.payments] * len(which),
        "Reference": references,
    }
    held: list[dict] = []
    if org.lock_date is not None:  # a payment dated in the locked period: moved, or held back with its reason
        dates = payments["Date"]
        placed_on: dict[Any, tuple[str, str | None]] = {}
        gone = []
        for n, on in enumerate(dates):
            if on not in placed_on:
                placed_on[on] = placed(on, org.lock_date, mapping.rules.locked_period)
            sent_on, locked = placed_on[on]
            if locked:
                p = {c: payments[c][n] for c in PAYMENT_COLUMNS}
                filed, _, source_id = p["invoice_key"].rpartition(":")
                problems.append((filed, source_id, p["day"], f"its payment {p['payment_key']} is {locked}"))
                held.append(p)
                gone.append(n)
            elif sent_on != on:
                moved.append({"key": payments["payment_key"][n], "day": payments["day"][n], "from": on, "to": sent_on})
                dates[n] = sent_on
        if gone:
            keep = np.ones(len(which), dtype=bool)
            keep[gone] = False
            payments = {c: [v for v, k in zip(values, keep, strict=True) if k] for c, values in payments.items()}
    frame = _frame(payments)
    if not mapping.rules.sync_payments:  # rules.sync_payments: false: neither written nor taken off
        return _frame(None), frame
    if len(frame) and not org.accepts_payments(mapping.accounts.payments):
        problems += [
            (
                k.rsplit(":", 1)[0],
                k.rsplit(":", 1)[-1],
                d,
                f"payments account {mapping.accounts.payments!r} "
                "(accounts.payments in the mapping) is not a Xero bank account or payments-enabled account",
            )
            for k, d in zip(payments["invoice_key"], payments["day"], strict=True)
        ]
        return _frame(None), frame
    return frame, pd.DataFrame(held, columns=PAYMENT_COLUMNS)


def _frame(payments: dict[str, list] | None) -> pd.DataFrame:
    """A frame of PAYMENT_COLUMNS from a list per column (as from a dict per payment)."""
    if not payments or not payments["payment_key"]:
        return pd.DataFrame([], columns=PAYMENT_COLUMNS)
    return _frame_of(dict(payments), PAYMENT_COLUMNS)
