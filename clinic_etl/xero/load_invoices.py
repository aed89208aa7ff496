"""Invoices and credit notes (`kinds.py`): create the missing ones, update the changed ones, void or delete the
removed ones.

Numbers are unique per Xero organisation and kind, so after a crash between Xero's write and the state store's
record, the document is found by its number (the pending writes journal says which to look for, and Xero's "must
be unique" answer does too) and adopted, never doubled; an adopted document that does not say what the source says
now (edited in between) is updated. Xero refuses to edit or void a document with money on it: its payments, refunds
and credit allocations are taken off first (`release.py`), and their own steps re-apply those the ledger still lists.
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.xero.kinds import INVOICE, Kind
from clinic_etl.xero.outcome import LoadContext, errors_of
from clinic_etl.xero.release import release
from clinic_etl.xero.same_document import same_invoice

REMOVED = {"VOIDED", "DELETED"}
CLASH_FIX = "Xero numbers are unique, so give one of them another number in the source (never merged)"


def number_clashes(ctx: LoadContext, rows: list[dict], kind: Kind = INVOICE) -> dict[str, str]:
    """Source documents that cannot have their number, with the reason: the number already belongs to another
    source document in Xero (the state store says which), or two documents of this run share it (the one that
    holds it already keeps it, else the lowest source id). Source keys identify documents, never numbers."""
    holders = ctx.store.get_records_by_number(ctx.tenant_id, kind.entity, [r[kind.number_field] for r in rows])
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[kind.number_field], []).append(row)
    clashes = {}
    for number, group in groups.items():
        held = [r.source_key for r in holders.get(number, [])]
        keys = sorted((r[kind.key_column] for r in group), key=lambda k: (len(k), k))
        owner = next((k for k in keys if k in held), None) or (held[0] if held else keys[0])
        for key in keys:
            if key != owner:
                clashes[key] = f"{number} is also {owner}'s {kind.label} number: {CLASH_FIX}"
    return clashes


def owner_of(ctx: LoadContext, found: dict, key: str, kind: Kind = INVOICE) -> str | None:
    """The other source document the state store maps this Xero document to, if any (then it is not adopted)."""
    number = found.get(kind.number_field) or ""
    holders = ctx.store.get_records_by_number(ctx.tenant_id, kind.entity, [number]).get(number, [])
    return next((r.source_key for r in holders if r.source_key != key and r.xero_id == found[kind.id_field]), None)


def element(row: dict, contact_id: str, currency: str, kind: Kind = INVOICE) -> dict:
    out = {
        "Type": kind.type,
        "Contact": {"ContactID": contact_id},
        kind.number_field: row[kind.number_field],
        "Date": row["Date"],
        **({"DueDate": row["DueDate"]} if row.get("DueDate") else {}),
        "Reference": row["Reference"],
        "Status": row["Status"],
        "LineAmountTypes": "Inclusive",
        "CurrencyCode": currency,
        "LineItems": row["LineItems"],
    }
    return out


def _save(ctx: LoadContext, kind: Kind, row: dict, result: dict, content_hash: str | None, action: str) -> None:
    ctx.save(
        kind.entity,
        row[kind.key_column],
        result[kind.id_field],
        action=action,
        content_hash=content_hash,
        status=result.get("Status"),
        number=row[kind.number_field],
        day=row["day"],
    )


def adopt(ctx: LoadContext, row: dict, found: dict, contact_id: str, currency: str, kind: Kind = INVOICE) -> bool:
    """Record a document found in Xero as the source document's (written by a run that never recorded it). True if
    it says what the source says now; else it is recorded as unknown content, to be updated."""
    same = same_invoice(found, element(row, contact_id, currency, kind), contact_id)
    _save(ctx, kind, row, found, row["content_hash"] if same else None, "adopted")
    return same


def load_invoices(
    ctx: LoadContext, documents: pd.DataFrame, contact_ids: dict[str, str], currency: str, kind: Kind = INVOICE
) -> dict[str, str]:
    """Create/update live documents. Returns source key -> Xero id of those in Xero."""
    key_of, number_of = kind.key_column, kind.number_field
    rows = {r[key_of]: r for r in documents.to_dict("records") if r["source_status"] != "deleted"}
    for key, reason in number_clashes(ctx, list(rows.values()), kind).items():
        ctx.note(kind.entity, key, "failed", reason=reason, day=rows.pop(key)["day"])
    known = ctx.records(kind.entity, list(rows))
    ids = {k: r.xero_id for k, r in known.items() if r.xero_id and r.xero_status not in REMOVED}
    create, update = [], []
    for key, row in rows.items():
        if row["contact_key"] not in contact_ids:
            reason = f"contact {row['contact_key']} is not in Xero"
            ctx.note(kind.entity, key, "failed", reason=reason, day=row["day"])
        elif key not in ids:
            create.append(row)
        elif known[key].content_hash != row["content_hash"]:
            update.append(row)
        else:
            ctx.note(kind.entity, key, "unchanged", ids[key], day=row["day"])
    by_number = {r[number_of]: r for r in create}  # unique: number_clashes held back the others
    elements = [element(r, contact_ids[r["contact_key"]], currency, kind) for r in create]
    ctx.intend(kind.entity, [(r[key_of], r[number_of], None, r["day"]) for r in create])
    refused = []
    for result in ctx.client.write_batches("PUT", kind.resource, elements, unitdp=4):
        row = by_number.get(result.get(number_of, ""))
        if row is None:
            continue
        problems = errors_of(result)
        if not problems and result.get(kind.id_field):
            ids[row[key_of]] = result[kind.id_field]
            _save(ctx, kind, row, result, row["content_hash"], "created")
        elif any("unique" in p.lower() for p in problems):
            refused.append(row)  # a crash after an earlier write: found below by its number
        else:
            ctx.settle(kind.entity, [row[key_of]])
            reason = "; ".join(problems) or f"no {kind.id_field} returned"
            ctx.note(kind.entity, row[key_of], "failed", reason=reason, day=row["day"])
    numbers = [r[number_of] for r in refused]
    found = {d.get(number_of): d for d in ctx.client.documents_by_number(kind.resource, numbers)} if numbers else {}
    for row in refused:
        document = found.get(row[number_of])
        owner = owner_of(ctx, document, row[key_of], kind) if document else None
        if document and not owner and document.get("Status") not in REMOVED:
            ids[row[key_of]] = document[kind.id_field]
            if not adopt(ctx, row, document, contact_ids[row["contact_key"]], currency, kind):
                update.append(row)
        else:
            ctx.settle(kind.entity, [row[key_of]])
            reason = f"{row[number_of]} is taken in Xero" + (f" by {owner}'s {kind.label}" if owner else "")
            ctx.note(kind.entity, row[key_of], "failed", reason=f"{reason}: {CLASH_FIX}", day=row["day"])
    editable = []
    for row in update:  # Xero refuses to edit a document with money on it: take it off, later steps re-apply it
        if reason := release(ctx, kind, row[key_of], row["day"]):
            ctx.note(kind.entity, row[key_of], "failed", ids[row[key_of]], reason, day=row["day"])
        else:
            editable.append(row)
    by_id = {ids[r[key_of]]: r for r in editable}
    elements = [
        {kind.id_field: ids[r[key_of]], **element(r, contact_ids[r["contact_key"]], currency, kind)} for r in editable
    ]
    for result in ctx.client.write_batches("POST", kind.resource, elements, unitdp=4):
        row = by_id.get(result.get(kind.id_field, ""))
        if row is None:
            continue
        if errors_of(result):
            reason = "; ".join(errors_of(result))
            ctx.note(kind.entity, row[key_of], "failed", ids[row[key_of]], reason, day=row["day"])
        else:
            _save(ctx, kind, row, result, row["content_hash"], "updated")
    return ids


def void_removed(ctx: LoadContext, documents: pd.DataFrame, kind: Kind = INVOICE) -> None:
    """Source-deleted documents: DELETED if still a draft in Xero, else VOIDED after taking their money off."""
    key_of = kind.key_column
    rows = {r[key_of]: r for r in documents.to_dict("records") if r["source_status"] == "deleted"}
    known = ctx.records(kind.entity, list(rows))
    elements, by_id = [], {}
    for key, row in rows.items():
        record = known.get(key)
        if record is None or not record.xero_id:
            reason = "deleted at the source before it was synced"
            ctx.note(kind.entity, key, "skipped", reason=reason, day=row["day"])
        elif record.xero_status in REMOVED:
            ctx.note(kind.entity, key, "unchanged", record.xero_id, day=row["day"])
        elif reason := release(ctx, kind, key, row["day"]):
            ctx.note(kind.entity, key, "failed", record.xero_id, reason, day=row["day"])
        else:
            status = "DELETED" if record.xero_status in {"DRAFT", "SUBMITTED"} else "VOIDED"
            elements.append({kind.id_field: record.xero_id, "Status": status})
            by_id[record.xero_id] = (row, record)
    for result in ctx.client.write_batches("POST", kind.resource, elements):
        row, record = by_id.get(result.get(kind.id_field, ""), (None, None))
        if row is None or record is None:
            continue
        status = result.get("Status")
        if errors_of(result):  # a retry after a lost reply finds it voided already: read it back
            status = document_status(ctx, kind, record.xero_id)
        if status not in REMOVED:
            reason = "; ".join(errors_of(result)) or f"Xero left it {status}"
            ctx.note(kind.entity, row[key_of], "failed", record.xero_id, reason, day=row["day"])
        else:
            ctx.save(
                kind.entity,
                row[key_of],
                record.xero_id,
                action="voided" if status == "VOIDED" else "deleted",
                content_hash=record.content_hash,
                status=status,
                number=record.xero_number,
                day=row["day"],
            )


def document_status(ctx: LoadContext, kind: Kind, xero_id: str) -> str | None:
    found = ctx.client.get(f"{kind.resource}/{xero_id}").get(kind.resource) or [{}]
    return found[0].get("Status")
