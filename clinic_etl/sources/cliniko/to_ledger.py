"""Cliniko raw frames -> the practice ledger (pure: frames in, frames out).

Cliniko has no payments endpoint: an invoice that is Paid (or Closed / Open credit, i.e. settled) becomes a
payment of its total dated on the local date of `closed_at`. A deleted or archived invoice is `deleted`.
An invoice is all or nothing: a bad item, a bad or missing patient, or items that do not add up to the invoice
total quarantine the invoice with a reason, and the rest of the day goes on. Nothing a record holds can fail the
day: every reject's reason names its record (`invoice 108: ...`, `invoice without id at position 3: ...`) and
what is wrong with it, and never quotes a patient's name or e-mail.

Contacts are the patients the invoices use, and every patient archived (or deleted) in the window: a contact is
`archived` when Cliniko says the patient is archived or deleted (FACTS §6, §8), one row whether it is both.

With the appointment frames (`invoice_from: appointments`, see `extract`), every completed individual appointment that
ended in the window becomes an open invoice `cliniko:appointment:<id>` numbered `APT-<id>`, issued and synced on the
local day it ended, to its patient, priced from its type's billable items (`pricing`), unless Cliniko holds a live
invoice for it: then that invoice is the one synced, never both. Completed (APPOINTMENTS §6, no such field exists):
ended before the extraction (the extract asks for `ends_at` < now), not cancelled, not did-not-arrive, not archived or
deleted; with `require_arrival`, marked `patient_arrived`. An appointment that stops being completed after it ended
(cancelled, archived, deleted, did-not-arrive or not arrived, marked after its end) or whose Cliniko invoice came on a
later day than it ended is listed `deleted`, as a removed invoice is, so that an appointment invoice synced earlier is
voided (one never synced is skipped by the load). An appointment that cannot be priced (no type, a type that bills
nothing, a missing or bad billable item, tax or concession price) or whose patient is missing goes to quarantine as
`appointment <id>: <reason>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import pandera.pandas as pa

from clinic_etl.ledger.compact import compact
from clinic_etl.ledger.models import LEDGER_MODELS, complete, ledger_frame
from clinic_etl.ledger.money import cents, places, to_decimal
from clinic_etl.ledger.quarantine import no_rejects, placed, record_name, rejects, source_id_of, validate_rows
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko import pricing
from clinic_etl.sources.cliniko.extract import KEEP, scalar_text
from clinic_etl.sources.cliniko.schemas import (
    PRIVATE,
    RawAppointment,
    RawAppointmentType,
    RawBillableItem,
    RawConcessionPrice,
    RawInvoice,
    RawInvoiceItem,
    RawPatient,
    RawTypeItem,
    instant,
    is_id,
    is_real_date,
)

SOURCE = "cliniko"
# 20 Paid and 40 Open credit (paid more than the total, FACTS' inference: the excess is account credit the API does
# not show) are paid in full; 30 Closed (closed without being paid, as far as the API says) is `closed`: the mapping's
# rules.closed_invoices says whether Xero gets it paid in full or written off to a bad-debt account.
SETTLED = {"20", "30", "40"}
CLOSED = "30"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
BLANK_IS_NULL = ("closed_at", "archived_at", "deleted_at")  # Cliniko's own examples serve "" for "no date"
BLANK_IS_NULL_IN = {
    "invoices": BLANK_IS_NULL,
    "patients": ("archived_at", "deleted_at"),
    "appointments": ("cancelled_at", "archived_at", "deleted_at"),
    "appointment_invoices": ("archived_at", "deleted_at"),
}


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
    if name in BLANK_IS_NULL_IN:
        for column in BLANK_IS_NULL_IN[name]:
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


@dataclass
class _Billed:
    """The appointment invoices of a window: ledger rows, and why the others were held back."""

    invoices: pd.DataFrame
    lines: pd.DataFrame
    bad: pd.DataFrame  # rejected by the raw model
    problems: dict[str, list[str]]  # appointment id -> reasons
    days: dict[str, str]  # appointment id -> the window's day it belongs to
    patient_days: dict[str, str]

    @classmethod
    def empty(cls) -> _Billed:
        return cls(ledger_frame("invoices"), ledger_frame("lines"), no_rejects(), {}, {}, {})

    def rejects(self) -> list[pd.DataFrame]:
        pairs = [(i, f"appointment {i}: {'; '.join(self.problems[i])}") for i in sorted(self.problems)]
        return [self.bad, rejects(SOURCE, "appointment", pairs)]


def _as_ledger(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as the ledger frame `name` (its model's columns, in order), without going through row dicts."""
    out = compact(frame.reindex(columns=ledger_frame(name).columns).reset_index(drop=True))
    return out.astype({"line_no": "int64"}) if name == "lines" else out


def _instants(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")


def _local_days(moments: pd.Series, window: SyncWindow) -> pd.Series:
    """UTC instants -> the practice's local dates (ISO text; None where there is no instant)."""
    days = moments.dt.tz_convert(window.zone).dt.strftime("%Y-%m-%d")
    return days.where(moments.notna(), None).astype(object)


def _clamped(days: pd.Series, window: SyncWindow) -> pd.Series:
    first, last = window.first.isoformat(), window.last.isoformat()
    return days.map(lambda d: first if d is None or d != d else min(max(d, first), last))


def _refused(raw: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """The price lists that passed their raw models, and the reasons of the rows that did not, by kind and key."""
    models = {
        "appointment_types": (RawAppointmentType, "appointment_type"),
        "appointment_type_billable_items": (RawTypeItem, "type_item"),
        "billable_items": (RawBillableItem, "billable_item"),
        "concession_prices": (RawConcessionPrice, "concession_price"),
    }
    valid: dict[str, pd.DataFrame] = {}
    refused: dict[str, dict[str, str]] = {}
    for name, (model, kind) in models.items():
        frame = _raw(raw, name)
        good, bad = validate_rows(frame, model, SOURCE, kind, private=PRIVATE)
        valid[name] = _with_columns(good, KEEP[name])
        if bad.empty:
            continue
        # a reason is filed under what an appointment reaches it by: a type item by its type, a concession price by
        # its item and concession type, the others by id
        positions = {source_id_of(v, n): n - 1 for n, v in enumerate(_column(frame, "id"), start=1)}
        for source_id, reason in zip(bad["source_id"], bad["reason"], strict=True):
            row = frame.iloc[positions[source_id]] if source_id in positions else {}
            if kind == "type_item":
                found = row.get("appointment_type_id") if len(row) else None
            elif kind == "concession_price":
                found = f"{row.get('billable_item_id')}:{row.get('concession_type_id')}" if len(row) else None
            else:
                found = source_id
            if isinstance(found, str):
                refused.setdefault(kind, {}).setdefault(found, reason.split(": ", 1)[-1])
    return valid, refused


def _bill_appointments(
    raw: dict[str, pd.DataFrame],
    window: SyncWindow,
    require_arrival: bool,
    patients: pd.DataFrame,
    bad_patients: pd.DataFrame,
) -> _Billed:
    """The window's appointment invoices (see the module's docstring), vectorised over the appointments."""
    raw_appointments = _raw(raw, "appointments")
    appointments, bad = validate_rows(raw_appointments, RawAppointment, SOURCE, "appointment", private=PRIVATE)
    appointments = _with_columns(appointments, KEEP["appointments"]).reset_index(drop=True)
    ends = _instants(appointments, "ends_at")
    end_days = _local_days(ends, window)
    removals = {c: _instants(appointments, c) for c in ("cancelled_at", "archived_at", "deleted_at")}
    updated = _instants(appointments, "updated_at")
    removed = pd.concat([m.notna() for m in removals.values()], axis=1).any(axis=1)
    completed = ~removed & appointments["did_not_arrive"].ne("True")
    if require_arrival:
        completed &= appointments["patient_arrived"].eq("True")
    in_window = end_days.between(window.first.isoformat(), window.last.isoformat())

    # a live invoice Cliniko holds for an appointment (the earliest one made)
    held = _raw(raw, "appointment_invoices")
    held = held[held["deleted_at"].isna() & held["archived_at"].isna() & held["appointment_id"].map(is_id)]
    made = _instants(held, "created_at").groupby(held["appointment_id"]).min()
    backed = appointments["id"].isin(made.index)
    backed_on = _local_days(pd.to_datetime(appointments["id"].map(made), utc=True), window)
    invoiced_later = backed & (backed_on > end_days)

    # stopped being completed after it ended: removed no earlier than its end (DNA or arrival by its last change)
    changes = pd.concat([*removals.values(), updated], axis=1)
    before_end = pd.concat([m.lt(ends) for m in removals.values()], axis=1).any(axis=1)
    after_end = changes.ge(ends, axis=0).any(axis=1)
    uncompleted = ~completed & ~backed & ~before_end & after_end
    billable = completed & in_window & ~backed
    voided = uncompleted | invoiced_later

    changed_on = _local_days(changes.max(axis=1), window)
    days = end_days.where(in_window, _clamped(changed_on.where(~invoiced_later, backed_on), window))
    listed = billable | voided
    chosen = appointments[listed]
    day_of_appointment = dict(zip(appointments["id"], days, strict=True))
    raw_days = _clamped(_local_days(_instants(raw_appointments, "ends_at"), window), window)
    raw_ids = _column(raw_appointments, "id")
    day_by_record = {
        source_id_of(i, n): d for n, (i, d) in enumerate(zip(raw_ids, raw_days, strict=True), start=1)
    } | day_of_appointment

    # the patient: as an invoice's
    problems: dict[str, list[str]] = {}
    patient_ids = set(patients["id"])
    rejected_patients = dict(zip(bad_patients["source_id"], bad_patients["reason"], strict=True))
    for appointment_id, patient_id in zip(chosen["id"], chosen["patient_id"], strict=True):
        if patient_id in rejected_patients:
            problems.setdefault(appointment_id, []).append(
                f"its patient was rejected ({rejected_patients[patient_id]})"
            )
        elif patient_id not in patient_ids:
            problems.setdefault(appointment_id, []).append(
                f"patient {patient_id} was not returned by Cliniko (merged or deleted?)"
            )

    valid, refused = _refused(raw)
    taxes = _with_columns(_raw(raw, "taxes"), KEEP["taxes"])
    due = appointments[billable & ~appointments["id"].isin(list(problems))]
    priced, unpriced = pricing.price(
        due,
        valid["appointment_types"],
        valid["appointment_type_billable_items"],
        valid["billable_items"],
        valid["concession_prices"],
        patients,
        taxes,
        refused,
    )
    for appointment_id, reasons in unpriced.items():
        problems.setdefault(appointment_id, []).extend(reasons)

    kept = chosen[~chosen["id"].isin(list(problems))]
    is_open = billable.loc[kept.index]
    totals = priced.groupby("appointment_id")["total"].sum()
    nets = priced.groupby("appointment_id")["net"].sum().map(cents)
    total = kept["id"].map(totals).where(is_open, None).map(lambda v: v if isinstance(v, Decimal) else Decimal("0.00"))
    net = kept["id"].map(nets).where(is_open, None).map(lambda v: v if isinstance(v, Decimal) else Decimal("0.00"))
    invoice_keys = "cliniko:appointment:" + kept["id"]
    invoices = pd.DataFrame(
        {
            "invoice_key": invoice_keys,
            "source_id": kept["id"],
            "number": "APT-" + kept["id"],
            "issue_date": end_days.loc[kept.index],
            "contact_key": "cliniko:patient:" + kept["patient_id"],
            "business_id": kept["business_id"],
            "practitioner_id": kept["practitioner_id"],
            "status": is_open.map({True: "open", False: "deleted"}),
            "day": days.loc[kept.index],
            "total": total,
            "tax_total": total - net,
            "url": None,
            "bill_to": None,
        }
    )
    lines = priced[priced["appointment_id"].isin(kept.loc[is_open, "id"])]
    ledger_lines = lines.assign(invoice_key="cliniko:appointment:" + lines["appointment_id"])
    patient_days = dict(zip(chosen["patient_id"], days.loc[chosen.index], strict=True))
    return _Billed(
        invoices=_as_ledger("invoices", invoices),
        lines=_as_ledger("lines", ledger_lines),
        bad=bad,
        problems=problems,
        days={k: v for k, v in day_by_record.items() if isinstance(v, str)},
        patient_days=patient_days,
    )


def to_ledger(
    raw: dict[str, pd.DataFrame], window: SyncWindow, *, require_arrival: bool = False
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The ledger and the rejects of a window's raw frames; appointment invoices when the extract holds appointments
    (`require_arrival`: only appointments marked arrived)."""
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
    billed = _Billed.empty()
    if "appointments" in raw:
        billed = _bill_appointments(raw, window, require_arrival, patients, bad_patients)
    start, end = window.bounds_utc()
    removed_at = pd.concat([_instants(patients, c) for c in ("archived_at", "deleted_at")], axis=1).max(axis=1)
    contacts = pd.DataFrame(
        {
            "contact_key": "cliniko:patient:" + patients["id"].astype(str),
            "source_id": patients["id"],
            "first_name": patients["first_name"],
            "last_name": patients["last_name"],
            "email": patients["email"],
            "archived": patients["archived_at"].notna() | patients["deleted_at"].notna(),
            "removed_in_window": (removed_at >= start) & (removed_at < end),
        },
        dtype=object,
    )
    ledger = _frames(contacts, ledger_invoices, lines, payments, billed)
    ledger, broken = _meets_contract(ledger)
    for invoice_key, reason in broken.items():
        _, entity, source_id = invoice_key.split(":", 2)
        (problems if entity == "invoice" else billed.problems).setdefault(source_id, []).append(reason)
    rejected = pd.concat(
        [
            bad_invoices,
            bad_items,
            bad_patients,
            rejects(SOURCE, "invoice", [(i, f"invoice {i}: {'; '.join(problems[i])}") for i in sorted(problems)]),
            *billed.rejects(),
        ],
        ignore_index=True,
    )
    by_entity = {
        "invoice": days,
        "invoice_item": {
            item: days[min(invoices_of)] for item, invoices_of in item_invoices.items() if min(invoices_of) in days
        },
        "patient": {**billed.patient_days, **{str(r["patient_id"]): days.get(str(r["id"]), "") for r in records}},
        "appointment": billed.days,
    }
    return ledger, placed(rejected, by_entity, window.first.isoformat())


def _frames(
    contacts: pd.DataFrame, invoices: list, lines: list, payments: list, billed: _Billed
) -> dict[str, pd.DataFrame]:
    """The ledger's frames (Cliniko has no credit notes): the invoices, then the appointment invoices after them; the
    contacts the invoices use, and those archived or deleted in the window (their Xero contacts are archived)."""
    frames = {"invoices": ledger_frame("invoices", invoices), "lines": ledger_frame("lines", lines)}
    if len(billed.invoices):
        frames = {name: pd.concat([frames[name], getattr(billed, name)], ignore_index=True) for name in frames}
    used = set(frames["invoices"]["contact_key"])
    kept = contacts[contacts["contact_key"].isin(used) | contacts["removed_in_window"].eq(True)]
    rows = kept.drop(columns="removed_in_window").to_dict("records")
    frames |= {"contacts": ledger_frame("contacts", rows), "payments": ledger_frame("payments", payments)}
    return complete({name: frames[name] for name in ("contacts", "invoices", "lines", "payments")})


def _meets_contract(ledger: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Validate the ledger frames; an invoice whose rows break the contract (a gap in the checks above) is dropped
    with a reason (by invoice key) rather than failing the day, and so is a contact without an invoice (an archived
    patient) whose row breaks it. A failure of a whole frame is a bug and raises."""
    broken: dict[str, str] = {}
    standalone = set(ledger["contacts"]["contact_key"]) - set(ledger["invoices"]["contact_key"])
    dropped: set[str] = set()
    for _ in range(len(ledger["invoices"]) + len(ledger["contacts"]) + 1):
        failures: dict[str, str] = {}
        orphans: set[str] = set()
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
                        contact = frame.at[case.index, "contact_key"]
                        keys = list(invoices.loc[invoices["contact_key"] == contact, "invoice_key"])
                        orphans |= {contact} if contact in standalone else set()
                    else:
                        keys = [frame.at[case.index, "invoice_key"]]
                    for k in keys:
                        failures.setdefault(str(k), f"{name}.{case.column} fails {case.check}")
        if not failures and not orphans:
            return validated, broken
        broken |= failures
        dropped |= orphans
        kept = ledger["invoices"][~ledger["invoices"]["invoice_key"].isin(list(failures))]
        contacts = ledger["contacts"]["contact_key"]
        alone = contacts.isin(list(standalone)) & ~contacts.isin(list(dropped))
        ledger = {
            **ledger,
            "contacts": ledger["contacts"][contacts.isin(kept["contact_key"]) | alone],
            "invoices": kept,
            "lines": ledger["lines"][ledger["lines"]["invoice_key"].isin(kept["invoice_key"])],
            "payments": ledger["payments"][ledger["payments"]["invoice_key"].isin(kept["invoice_key"])],
        }
        ledger = {name: frame.reset_index(drop=True) for name, frame in ledger.items()}
    raise RuntimeError("the ledger contract check did not converge")  # unreachable: each pass drops an invoice
