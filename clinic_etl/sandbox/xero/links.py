"""Cached look-ups of the documents that hang off an invoice or credit note (one query per request)."""

from __future__ import annotations

from typing import Any

from .rules import Ctx


def _grouped(ctx: Ctx, name: str, kind: str, field: str) -> dict[str, list[dict[str, Any]]]:
    if name not in ctx.cache:
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in ctx.tx.all(kind, ctx.tenant):
            groups.setdefault(doc.get(field) or "", []).append(doc)
        ctx.cache[name] = groups
    return ctx.cache[name]


def payments_of(ctx: Ctx, doc_id: str) -> list[dict[str, Any]]:
    """Live (not deleted) payments made against an invoice or refunding a credit note."""
    docs = _grouped(ctx, "payments", "payment", "DocumentID").get(doc_id, [])
    return [p for p in docs if p["Status"] == "AUTHORISED"]


def allocations_to_invoice(ctx: Ctx, invoice_id: str) -> list[dict[str, Any]]:
    docs = _grouped(ctx, "alloc_by_invoice", "allocation", "InvoiceID").get(invoice_id, [])
    return [a for a in docs if not a["IsDeleted"]]


def allocations_of_credit_note(ctx: Ctx, credit_note_id: str) -> list[dict[str, Any]]:
    docs = _grouped(ctx, "alloc_by_cn", "allocation", "CreditNoteID").get(credit_note_id, [])
    return [a for a in docs if not a["IsDeleted"]]


def contact(ctx: Ctx, contact_id: str) -> dict[str, Any] | None:
    contacts = ctx.cache.setdefault("contacts", {})
    if contact_id not in contacts:
        contacts[contact_id] = ctx.tx.get("contact", contact_id)
    return contacts[contact_id]


def document(ctx: Ctx, kind: str, doc_id: str) -> dict[str, Any] | None:
    docs = ctx.cache.setdefault(kind + "s", {})
    if doc_id not in docs:
        docs[doc_id] = ctx.tx.get(kind, doc_id)
    return docs[doc_id]
