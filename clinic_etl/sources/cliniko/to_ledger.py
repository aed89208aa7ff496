"""Cliniko raw frames -> the practice ledger (pure: frames in, frames out).

Cliniko has no payments endpoint: an invoice that is Paid (or Closed / Open credit, i.e. settled) becomes a
payment of its total dated on the local date of `closed_at`. A deleted or archived invoice is `deleted`.
An invoice is all or nothing: a bad item, a bad or missing patient, or items that do not add up to the invoice
total quarantine the invoice with a reason, and the rest of the day goes on. Nothing a record holds can fail the
day: every reject's reason names its record (`invoice 108: ...`, `invoice without id at position 3: ...`) and
what is wrong with it, and never quotes a patient's name or e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pandas as pd
import pandera.pandas as pa

from clinic_etl.ledger.models import LEDGER_MODELS, complete, ledger_frame
from clinic_etl.ledger.money import cents, places, to_decimal
from clinic_etl.ledger.quarantine import placed, record_name, rejects, source_id_of, validate_rows
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.extract import KEEP, scalar_text
from clinic_etl.sources.cliniko.schemas import PRIVATE, RawInvoice, RawInvoiceItem, RawPatient, instant, is_real_date

SOURCE = "cliniko"
# 20 Paid and 40 Open credit (paid more than the total, FACTS' inference: the excess is account credit the API does
# not show) are paid in full; 30 Closed (closed without being paid, as far as the API says) is `closed`: the mapping's
# rules.closed_invoices says whether Xero gets it paid in full or written off to a bad-debt account.
SETTLED = {"20", "30", "40"}
CLOSED = "30"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
BLANK_IS_NULL = ("closed_at", "archived_at", "deleted_at")  # Cliniko's own examples serve "" for "no date"


def key(entity: str, source_id: object) -> str:
    return f"{SOURCE}:{entity}:{source_id}"


CHANGES = ("updated_at", "deleted_at", "archived_at")


def day_of(invoice: dict, window: SyncWindow) -> str:
    """The window's day an invoice is synced for: its issue date if in the window, else the local day of its
    latest change, clamped to the window (the first day when the record is too malformed to tell)."""
    issued = invoice.get("issue_date")
    if is_real_date(issued) and window.clamp(issued) == issued:
        return issued
    changed = [window.local_date(invoice[c]) for c in CHANGES if instant(invoice.get(c)) is not None]
    return window.clamp(max(changed)) if changed else window.first.isoformat()


def _cell(value: object) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return scalar_text(value)


def _raw(raw: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """A raw frame with every cell text or None (a hand-built frame may hold numbers or NaN), indexed 0..n-1."""
    frame = raw.get(name)
    if frame is None or (frame.empty and not len(frame.columns)):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in KEEP[name]})
    out = frame.reset_index(drop=True).astype(object)
    out = out.map(_cell) if len(out) else out
    if name == "invoices":
        for column in BLANK_IS_NULL:
            if column in out.columns:
                out[column] = pd.Series([None if v == "" else v for v in out[column]], index=out.index, dtype=object)
    return out


def _with_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Optional columns absent from a frame read as None."""
    missing = [c for c in columns if c not in frame.columns]
    return frame.assign(**dict.fromkeys(missing)).astype({c: object for c in missing}) if missing else frame


def _column(frame: pd.DataFrame, name: str) -> list:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


def _line(item: dict, line_no: int) -> dict:
    total = to_decimal(item["total_including_tax"])
    return {
        "line_no": line_no,
        "source_id": item["id"],
        "description": (item["name"] or item["code"] or "Invoice item").strip() or "Invoice item",
        "item_code": item["code"] or None,
        "quantity": to_decimal(item["quantity"]),
        "unit_price": to_decimal(item["unit_price"]),
        "tax_rate": to_decimal(item["tax_rate"] or "0"),
        "tax_name": item.get("tax_name") or None,
        "discount": to_decimal(item["discounted_amount"] or "0"),
        "total": total,
        "tax": total - to_decimal(item["net_price"]),
    }


def _item_problems(item: dict, listed: set[str], taxes: set[str] | None) -> list[str]:
    """What is wrong with an item that passed `RawInvoiceItem` (so its numbers parse), given the rest of the extract."""
    problems = []
    if item["invoice_id"] not in listed:
        problems.append(f"its invoice {item['invoice_id']} is not in the extract")
    rate, name = to_decimal(item["tax_rate"] or "0"), item.get("tax_name")
    if not name and rate:
        problems.append(f"tax_rate {item['tax_rate']} has no tax_name")
    elif name and taxes is not None and name not in taxes:
        known = ", ".join(repr(t) for t in sorted(taxes)) or "none"
        problems.append(f"tax_name {name!r} is not one of the account's taxes ({known})")
    total, net = to_decimal(item["total_including_tax"]), to_decimal(item["net_price"])
    taxed = net * (HUNDRED + rate) / HUNDRED
    if places(total) > 2:
        problems.append(f"total_including_tax {total} has more than 2 decimal places")
    elif abs(total - taxed) > CENT:
        problems.append(f"total_including_tax {total} is not net_price {net} plus {rate}% tax ({cents(taxed)})")
    return problems


def _invoice_problems(inv: dict, lines: list[dict]) -> list[str]:
    """What is wrong with a live invoice that passed `RawInvoice`, given its lines."""
    total, tax = to_decimal(inv["total_amount"]), to_decimal(inv["tax_amount"])
    amounts = (("total_amount", total), ("tax_amount", tax))
    problems = [f"{c} {v} has more than 2 decimal places" for c, v in amounts if places(v) > 2]
    if inv.get("net_amount") is not None and (net := to_decimal(inv["net_amount"])) + tax != total:
        problems.append(f"total_amount {total} is not net_amount {net} plus tax_amount {tax}")
    if not lines:
        return [*problems, "the invoice has no items"]
    if (lines_total := sum((ln["total"] for ln in lines), Decimal(0))) != total:
        problems.append(f"items add up to {lines_total} but total_amount is {total}")
    lines_tax = sum((ln["tax"] for ln in lines), Decimal(0))
    if abs(lines_tax - tax) > CENT * len(lines):  # each line's tax may carry a 3rd decimal place
        problems.append(f"items carry {lines_tax} of tax but tax_amount is {tax}")
    return problems


def _taxes(raw: dict[str, pd.DataFrame]) -> set[str] | None:
    """The account's tax names, or None when the extract has no tax list to check against."""
    taxes = raw.get("taxes")
    if taxes is None or taxes.empty or "name" not in taxes.columns:
        return None
    return {n for n in taxes["name"] if isinstance(n, str) and n}


def to_ledger(raw: dict[str, pd.DataFrame], window: SyncWindow) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    raw_invoices, raw_items, raw_patients = (_raw(raw, n) for n in ("invoices", "invoice_items", "patients"))
    records = raw_invoices.to_dict("records")
    days: dict[str, str] = {}
    for n, r in enumerate(records, start=1):
        days.setdefault(source_id_of(r.get("id"), n), day_of(r, window))
    invoices, bad_invoices = validate_rows(raw_invoices, RawInvoice, SOURCE, "invoice", private=PRIVATE)
    items, bad_items = validate_rows(raw_items, RawInvoiceItem, SOURCE, "invoice_item", private=PRIVATE)
    patients, bad_patients = validate_rows(raw_patients, RawPatient, SOURCE, "patient", private=PRIVATE)
    invoices = _with_columns(invoices, KEEP["invoices"])
    items = _with_columns(items, KEEP["invoice_items"])
    patients = _with_columns(patients, KEEP["patients"])

    # items: rules that need more than one field, or the rest of the extract
    listed = {i for i in _column(raw_invoices, "id") if isinstance(i, str)}
    taxes = _taxes(raw)
    item_rejects = []
    for idx, item in zip(items.index, items.to_dict("records"), strict=True):
        if found := _item_problems(item, listed, taxes):
            item_rejects.append((item["id"], f"{record_name('invoice_item', item['id'], idx + 1)}: {'; '.join(found)}"))
    items = items[~items["id"].isin([i for i, _ in item_rejects])]
    bad_items = pd.concat([bad_items, rejects(SOURCE, "invoice_item", item_rejects)], ignore_index=True)

    # an invoice is all or nothing: a rejected item or patient rejects it
    valid_ids = set(invoices["id"])
    problems: dict[str, list[str]] = {}
    item_invoices: dict[str, set[str]] = {}
    for n, (item_id, invoice_id) in enumerate(
        zip(_column(raw_items, "id"), _column(raw_items, "invoice_id"), strict=True), start=1
    ):
        if isinstance(invoice_id, str):
            item_invoices.setdefault(source_id_of(item_id, n), set()).add(invoice_id)
    for row in bad_items.itertuples():
        for invoice_id in sorted(item_invoices.get(row.source_id, set()) & valid_ids):
            problems.setdefault(invoice_id, []).append(f"its item was rejected ({row.reason})")
    for row in bad_patients.itertuples():
        for invoice_id in invoices.loc[invoices["patient_id"] == row.source_id, "id"]:
            problems.setdefault(invoice_id, []).append(f"its patient was rejected ({row.reason})")
    rejected_patients = set(bad_patients["source_id"])

    patient_ids = set(patients["id"])
    items_by_invoice = {
        k: g.sort_values("id", key=lambda s: s.astype(int)).to_dict("records") for k, g in items.groupby("invoice_id")
    }
    ledger_invoices, lines, payments = [], [], []
    for inv in invoices.to_dict("records"):
        if inv["id"] in problems:
            continue
        removed = bool(inv["deleted_at"] or inv["archived_at"])
        invoice_lines = (
            []
            if removed
            else [
                {"invoice_key": key("invoice", inv["id"]), **_line(item, n)}
                for n, item in enumerate(items_by_invoice.get(inv["id"], []), start=1)
            ]
        )
        found = [] if removed else _invoice_problems(inv, invoice_lines)
        if inv["patient_id"] not in patient_ids and inv["patient_id"] not in rejected_patients:
            found.insert(0, f"patient {inv['patient_id']} was not returned by Cliniko (merged or deleted?)")
        if found:
            problems[inv["id"]] = found
            continue
        status = (
            "deleted"
            if removed
            else "closed"
            if inv["status"] == CLOSED
            else "paid"
            if inv["status"] in SETTLED
            else "open"
        )
        total = to_decimal(inv["total_amount"])
        ledger_invoices.append(
            {
                "invoice_key": key("invoice", inv["id"]),
                "source_id": inv["id"],
                "number": inv["number"],
                "issue_date": inv["issue_date"],
                "contact_key": key("patient", inv["patient_id"]),
                "business_id": inv["business_id"],
                "practitioner_id": inv["practitioner_id"],
                "status": status,
                "day": days[inv["id"]],
                "total": total,
                "tax_total": to_decimal(inv["tax_amount"]),
                "url": None,
                "bill_to": inv.get("invoice_to") or None,
            }
        )
        lines += invoice_lines
        if status in ("paid", "closed") and total > 0:  # a closed one's payment becomes a write-off by rule
            payments.append(
                {
                    "payment_key": key("payment", inv["id"]),
                    "invoice_key": key("invoice", inv["id"]),
                    "date": window.local_date(inv["closed_at"] or inv["updated_at"]),
                    "day": days[inv["id"]],
                    "amount": total,
                }
            )
    contacts = [
        {
            "contact_key": key("patient", p["id"]),
            "source_id": p["id"],
            "first_name": p["first_name"],
            "last_name": p["last_name"],
            "email": p["email"],
        }
        for p in patients.to_dict("records")
    ]
    ledger = _frames(contacts, ledger_invoices, lines, payments)
    ledger, broken = _meets_contract(ledger)
    for invoice_id, reason in broken.items():
        problems.setdefault(invoice_id, []).append(reason)
    rejected = pd.concat(
        [
            bad_invoices,
            bad_items,
            bad_patients,
            rejects(SOURCE, "invoice", [(i, f"invoice {i}: {'; '.join(problems[i])}") for i in sorted(problems)]),
        ],
        ignore_index=True,
    )
    by_entity = {
        "invoice": days,
        "invoice_item": {
            item: days[min(invoices_of)] for item, invoices_of in item_invoices.items() if min(invoices_of) in days
        },
        "patient": {str(r["patient_id"]): days.get(str(r["id"]), "") for r in records},
    }
    return ledger, placed(rejected, by_entity, window.first.isoformat())


def _frames(contacts: list, invoices: list, lines: list, payments: list) -> dict[str, pd.DataFrame]:
    """The ledger's frames, contacts limited to the patients the invoices use (Cliniko has no credit notes)."""
    used = {i["contact_key"] for i in invoices}
    rows = {"contacts": [c for c in contacts if c["contact_key"] in used], "invoices": invoices}
    rows |= {"lines": lines, "payments": payments}
    return complete({n: ledger_frame(n, r) for n, r in rows.items()})


def _meets_contract(ledger: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Validate the ledger frames; an invoice whose rows break the contract (a gap in the checks above) is dropped
    with a reason rather than failing the day. A failure of a whole frame is a bug and raises."""
    broken: dict[str, str] = {}
    for _ in range(len(ledger["invoices"]) + 1):
        failures: dict[str, str] = {}
        validated = {}
        for name, frame in ledger.items():
            try:
                validated[name] = LEDGER_MODELS[name].validate(frame, lazy=True)
            except pa.errors.SchemaErrors as err:
                for case in err.failure_cases.itertuples(index=False):
                    if pd.isna(case.index):
                        raise
                    invoices = ledger["invoices"]
                    if name == "contacts":
                        affected = invoices.loc[invoices["contact_key"] == frame.at[case.index, "contact_key"]]
                        keys = list(affected["invoice_key"])
                    else:
                        keys = [frame.at[case.index, "invoice_key"]]
                    for k in keys:
                        failures.setdefault(str(k).rsplit(":", 1)[-1], f"{name}.{case.column} fails {case.check}")
        if not failures:
            return validated, broken
        broken |= failures
        kept = ledger["invoices"][~ledger["invoices"]["source_id"].isin(list(failures))]
        ledger = {
            **ledger,
            "contacts": ledger["contacts"][ledger["contacts"]["contact_key"].isin(kept["contact_key"])],
            "invoices": kept,
            "lines": ledger["lines"][ledger["lines"]["invoice_key"].isin(kept["invoice_key"])],
            "payments": ledger["payments"][ledger["payments"]["invoice_key"].isin(kept["invoice_key"])],
        }
        ledger = {name: frame.reset_index(drop=True) for name, frame in ledger.items()}
    raise RuntimeError("the ledger contract check did not converge")  # unreachable: each pass drops an invoice
