"""Credit allocations: in Xero, every live application of a credit note to an invoice that the ledger lists, and no
other.

An allocation is recorded under its ledger key with its invoice as parent and its credit note's key as number, so
it is found from either side: before an invoice or a credit note is edited or voided its allocations are deleted
(`release.py`), and this step re-applies those the ledger still lists. Xero cannot edit an allocation: one whose
amount or date changed at the source is deleted and made again; one the ledger no longer lists for a credit note or
invoice of the run is deleted. A credit note's allocations go in one request to it (Xero's
`PUT /CreditNotes/{id}/Allocations`); its answer is matched back by invoice and amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

import pandas as pd

from clinic_etl.http.errors import NotFoundError
from clinic_etl.ledger.money import cents, to_decimal
from clinic_etl.store import SyncRecord
from clinic_etl.xero.outcome import LoadContext, errors_of

ENTITY = "allocation"
DELETED = "DELETED"


def _live(records: Iterable[tuple[str, SyncRecord]]) -> dict[str, SyncRecord]:
    return {k: r for k, r in records if r.xero_id and r.xero_status != DELETED}


def allocations_on_invoices(ctx: LoadContext, invoice_keys: Iterable[str]) -> dict[str, SyncRecord]:
    return _live(ctx.store.get_records_by_parent(ctx.tenant_id, ENTITY, list(invoice_keys)).items())


def allocations_of_credit_notes(ctx: LoadContext, credit_note_keys: Iterable[str]) -> dict[str, SyncRecord]:
    found = ctx.store.get_records_by_number(ctx.tenant_id, ENTITY, list(credit_note_keys))
    return _live((r.source_key, r) for records in found.values() for r in records)


def content(amount: object, on: str) -> str:
    return f"{amount}|{on}"


def remove(ctx: LoadContext, key: str, record: SyncRecord, day: str | None) -> str | None:
    """Delete the allocation in Xero; None once it is gone (now, or earlier: Xero answers 404), else why not."""
    note = ctx.records("credit_note", [record.xero_number or ""]).get(record.xero_number or "")
    if note is None or not note.xero_id:
        reason = f"allocation {record.xero_id}: its credit note {record.xero_number} is not on record"
        ctx.note(ENTITY, key, "failed", record.xero_id, reason, day=day)
        return reason
    with suppress(NotFoundError):  # deleted already (a retry after a lost reply)
        ctx.client.delete(f"CreditNotes/{note.xero_id}/Allocations/{record.xero_id}")
    ctx.save(
        ENTITY,
        key,
        str(record.xero_id),
        action="deleted",
        content_hash=record.content_hash,
        status=DELETED,
        number=record.xero_number,
        day=day,
        parent=record.parent_key,
    )
    return None


def load_allocations(
    ctx: LoadContext,
    allocations: pd.DataFrame,
    invoices: pd.DataFrame,
    credit_notes: pd.DataFrame,
    credit_note_ids: dict[str, str],
) -> None:
    """`allocations`: ALLOCATION_COLUMNS; every live allocation of the run's invoices and credit notes."""
    rows = {r["allocation_key"]: r for r in allocations.to_dict("records")}
    days = dict(zip(invoices["invoice_key"], invoices["day"], strict=True))
    days |= dict(zip(credit_notes["credit_note_key"], credit_notes["day"], strict=True))
    known = allocations_on_invoices(ctx, invoices["invoice_key"])
    known |= allocations_of_credit_notes(ctx, credit_notes["credit_note_key"])
    known |= _live(ctx.records(ENTITY, list(rows)).items())
    for key, record in sorted(known.items()):
        row = rows.get(key)
        if row is not None and record.content_hash == content(row["Amount"], row["Date"]):
            continue
        day = row["day"] if row else days.get(record.parent_key or "") or days.get(record.xero_number or "")
        if remove(ctx, key, record, day) is None:
            known.pop(key)
    invoice_ids = {
        k: r.xero_id for k, r in ctx.records("invoice", [r["invoice_key"] for r in rows.values()]).items() if r.xero_id
    }
    by_note: dict[str, list[dict]] = {}
    for key, row in rows.items():
        if key in known:
            ctx.note(ENTITY, key, "unchanged", known[key].xero_id, day=row["day"])
        elif row["invoice_key"] not in invoice_ids and row["Date"] > row["day"]:
            # applied after the run's days to an invoice not synced yet: it comes with that invoice's own day
            reason = f"applied on {row['Date']}, after the run's days, to {row['invoice_key']} (not in Xero yet)"
            ctx.note(ENTITY, key, "skipped", reason=reason, day=row["day"])
        elif row["credit_note_key"] not in credit_note_ids or row["invoice_key"] not in invoice_ids:
            missing = row["credit_note_key"] if row["credit_note_key"] not in credit_note_ids else row["invoice_key"]
            ctx.note(ENTITY, key, "failed", reason=f"{missing} is not in Xero", day=row["day"])
        else:
            by_note.setdefault(row["credit_note_key"], []).append(row)
    for note_key, todo in sorted(by_note.items()):
        _apply(ctx, credit_note_ids[note_key], todo, invoice_ids)


def _apply(ctx: LoadContext, note_id: str, todo: list[dict], invoice_ids: dict[str, str]) -> None:
    elements = [
        {"Invoice": {"InvoiceID": invoice_ids[r["invoice_key"]]}, "Amount": r["Amount"], "Date": r["Date"]}
        for r in todo
    ]
    ctx.intend(ENTITY, [(r["allocation_key"], r["credit_note_key"], r["invoice_key"], r["day"]) for r in todo])
    waiting: dict[tuple[str, str], list[dict]] = {}
    for r in todo:
        waiting.setdefault((invoice_ids[r["invoice_key"]], _amount(r["Amount"])), []).append(r)
    path = f"CreditNotes/{note_id}/Allocations"
    body = ctx.client.write("PUT", path, {"Allocations": elements}, summarizeErrors="false")
    for result in body.get("Allocations") or []:
        match = ((result.get("Invoice") or {}).get("InvoiceID", ""), _amount(result.get("Amount")))
        if not waiting.get(match):
            continue
        row = waiting[match].pop(0)
        if errors_of(result) or not result.get("AllocationID"):
            ctx.settle(ENTITY, [row["allocation_key"]])
            reason = "; ".join(errors_of(result)) or "no AllocationID returned"
            ctx.note(ENTITY, row["allocation_key"], "failed", reason=reason, day=row["day"])
            continue
        ctx.save(
            ENTITY,
            row["allocation_key"],
            result["AllocationID"],
            action="created",
            content_hash=content(row["Amount"], row["Date"]),
            status="AUTHORISED",
            number=row["credit_note_key"],
            day=row["day"],
            parent=row["invoice_key"],
        )
    for row in (r for rows in waiting.values() for r in rows):
        ctx.note(ENTITY, row["allocation_key"], "failed", reason="Xero's answer did not include it", day=row["day"])


def _amount(value: object) -> str:
    try:
        return str(cents(to_decimal(value)))
    except (ArithmeticError, ValueError):
        return ""
