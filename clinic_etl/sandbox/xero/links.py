"""Look-ups of the documents that hang off an invoice or credit note.

A GET list loads each kind once per request and groups it; a write looks up through the indexes, since
it renders only the few documents it touched.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx


def _linked(ctx: Ctx, name: str, kind: str, field: str, key: str, doc_id: str) -> list[dict[str, Any]]:
    if ctx.method != "GET":
        return ctx.tx.find(kind, ctx.tenant, **{key: doc_id})
    return _grouped(ctx, name, kind, field).get(doc_id, [])


def _grouped(ctx: Ctx, name: str, kind: str, field: str) -> dict[str, list[dict[str, Any]]]:
    if name not in ctx.cache:
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in ctx.tx.all(kind, ctx.tenant):
            groups.setdefault(doc.get(field) or "", []).append(doc)
        ctx.cache[name] = groups
    return ctx.cache[name]


def payments_of(ctx: Ctx, doc_id: str) -> list[dict[str, Any]]:
    """Live (not deleted) payments made against an invoice or refunding a credit note."""
    docs = _linked(ctx, "payments", "payment", "DocumentID", "key1", doc_id)
    return [p for p in docs if p["Status"] == "AUTHORISED"]


def allocations_to_invoice(ctx: Ctx, invoice_id: str) -> list[dict[str, Any]]:
    docs = _linked(ctx, "alloc_by_invoice", "allocation", "InvoiceID", "key2", invoice_id)
    return [a for a in docs if not a["IsDeleted"]]


def allocations_of_credit_note(ctx: Ctx, credit_note_id: str) -> list[dict[str, Any]]:
    docs = _linked(ctx, "alloc_by_cn", "allocation", "CreditNoteID", "key1", credit_note_id)
    return [a for a in docs if not a["IsDeleted"]]


def contact(ctx: Ctx, contact_id: str) -> dict[str, Any] | None:
    contacts = ctx.cache.setdefault("contacts", {})
    if contact_id not in contacts:
        contacts[contact_id] = ctx.tx.get("contact", ctx.tenant, contact_id)
    return contacts[contact_id]


def document(ctx: Ctx, kind: str, doc_id: str) -> dict[str, Any] | None:
    docs = ctx.cache.setdefault(kind + "s", {})
    if doc_id not in docs:
        docs[doc_id] = ctx.tx.get(kind, ctx.tenant, doc_id)
    return docs[doc_id]
