"""Contacts: create/update rules, the lookup used by invoices and credit notes, and the wire shape."""

from __future__ import annotations

import re
from typing import Any

from . import batch, query
from .context import Ctx, new_id
from .serialize import Resp, envelope, ms_datetime, not_found, problem

# Read-only or Xero-maintained fields that a PUT/POST cannot set.
_NOT_WRITABLE = {
    "ContactID",
    "IsSupplier",
    "IsCustomer",
    "UpdatedDateUTC",
    "Balances",
    "BatchPayments",
    "HasValidationErrors",
    "ValidationErrors",
    "StatusAttributeString",
    "HasAttachments",
    "Attachments",
    "Website",
    "Discount",
    "MergedToContactID",
    "ContactGroups",
    "XeroNetworkKey",
}
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_SUMMARY = ("ContactID", "ContactNumber", "ContactStatus", "Name", "FirstName", "LastName", "EmailAddress")


def name_key(name: str) -> str:
    return name.strip().lower()


def find(ctx: Ctx, ref: str) -> dict[str, Any] | None:
    """By ContactID, else by ContactNumber (the first created, if several share it)."""
    doc = ctx.tx.get("contact", ctx.tenant, ref.lower())
    if doc is not None:
        return doc
    matches = ctx.tx.find("contact", ctx.tenant, key2=ref)
    return matches[0] if matches else None


def _name_taken(ctx: Ctx, name: str, except_id: str | None) -> bool:
    return any(
        c["ContactID"] != except_id and c["ContactStatus"] == "ACTIVE"
        for c in ctx.tx.find("contact", ctx.tenant, key1=name_key(name))
    )


def save(
    ctx: Ctx, element: dict[str, Any], errors: list[str], existing: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Create (existing is None) or update a contact; returns the stored contact or None on errors."""
    doc = (
        dict(existing)
        if existing
        else {"ContactID": new_id(), "ContactStatus": "ACTIVE", "IsSupplier": False, "IsCustomer": False}
    )
    changes = {key: value for key, value in element.items() if key not in _NOT_WRITABLE}
    doc.update(changes)
    name = doc.get("Name", "")
    if not isinstance(name, str) or not name.strip():
        errors.append("The contact name must be specified.")
    elif doc.get("ContactStatus") == "ACTIVE" and _name_taken(ctx, name, doc["ContactID"]):
        errors.append(
            f"The contact name {name.strip()} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    email = doc.get("EmailAddress", "")
    if email and not _EMAIL.match(email):
        errors.append("Email address must be valid.")
    for person in doc.get("ContactPersons", []):
        if person.get("EmailAddress") and not _EMAIL.match(person["EmailAddress"]):
            errors.append("Email address must be valid.")
    if errors:
        return None
    if existing is None or changes:
        doc["UpdatedDateUTC"] = ctx.now_ms
    store(ctx, doc)
    return doc


def store(ctx: Ctx, doc: dict[str, Any]) -> None:
    ctx.tx.put(
        "contact",
        ctx.tenant,
        doc["ContactID"],
        doc,
        updated_ms=doc["UpdatedDateUTC"],
        key1=name_key(doc.get("Name", "")),
        key2=doc.get("ContactNumber"),
    )


def resolve(ctx: Ctx, raw: dict[str, Any] | None, errors: list[str]) -> dict[str, Any] | None:
    """The contact an invoice or credit note refers to: by ContactID, else ContactNumber, else Name.

    A Contact with an unknown Name creates a new contact, as Xero does.
    """
    if not raw:
        errors.append("A Contact must be specified for this type of transaction.")
        return None
    if raw.get("ContactID"):
        doc = ctx.tx.get("contact", ctx.tenant, raw["ContactID"].lower())
        if doc is None:
            errors.append(f"The contact with ContactID {raw['ContactID']} could not be found.")
        return doc
    if raw.get("ContactNumber"):
        matches = ctx.tx.find("contact", ctx.tenant, key2=raw["ContactNumber"])
        if matches:
            return matches[0]
    name = raw.get("Name", "")
    if name.strip():
        matches = ctx.tx.find("contact", ctx.tenant, key1=name_key(name))
        active = [c for c in matches if c["ContactStatus"] == "ACTIVE"]
        if active or matches:
            return (active or matches)[0]
        return save(ctx, raw, errors)
    if raw.get("ContactNumber"):
        errors.append(f"The contact with ContactNumber {raw['ContactNumber']} could not be found.")
    else:
        errors.append("A Contact must be specified for this type of transaction.")
    return None


def mark_role(ctx: Ctx, contact: dict[str, Any], doc_type: str) -> None:
    """Xero sets IsCustomer/IsSupplier itself when AR/AP documents are entered (UpdatedDateUTC unchanged)."""
    role = "IsCustomer" if doc_type.startswith("ACCREC") else "IsSupplier"
    if not contact.get(role):
        store(ctx, {**contact, role: True})


def out(contact: dict[str, Any], *, summary: bool = False) -> dict[str, Any]:
    if summary:
        body = {key: contact[key] for key in _SUMMARY if key in contact}
        body.update(
            Addresses=contact.get("Addresses", []),
            Phones=contact.get("Phones", []),
            ContactGroups=[],
            ContactPersons=contact.get("ContactPersons", []),
            HasValidationErrors=False,
        )
        return body
    body = {"ContactID": contact["ContactID"], "ContactStatus": contact["ContactStatus"]}
    body.update({k: v for k, v in contact.items() if k not in body and k != "UpdatedDateUTC"})
    body.setdefault("Addresses", [])
    body.setdefault("Phones", [])
    body["UpdatedDateUTC"] = ms_datetime(contact["UpdatedDateUTC"])
    body.update(
        ContactGroups=[],
        SalesTrackingCategories=body.get("SalesTrackingCategories", []),
        PurchasesTrackingCategories=body.get("PurchasesTrackingCategories", []),
        ContactPersons=body.get("ContactPersons", []),
        HasAttachments=False,
        HasValidationErrors=False,
    )
    return body


def _list(ctx: Ctx, ims: str | None) -> Resp:
    qs = ctx.query
    ids = query.split_list(qs.get("IDs"))
    docs = ctx.tx.all("contact", ctx.tenant, [i.lower() for i in ids] if ids else None)
    try:
        since = query.modified_since(ims)
        predicate = query.where(qs["where"]) if qs.get("where", "").strip() else None
    except (ValueError, TypeError) as exc:
        return query.query_error(str(exc))
    archived = qs.get("includeArchived", "").lower() == "true"
    term = qs.get("searchTerm", "").strip().lower()
    fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
    docs = [
        d
        for d in docs
        if since(d["UpdatedDateUTC"])
        and (archived or d["ContactStatus"] != "ARCHIVED")
        and (not term or any(term in str(d.get(f, "")).lower() for f in fields))
    ]
    outs = [out(d) for d in docs]
    if predicate is not None:
        outs = [o for o in outs if predicate(o)]
    outs, pagination = query.page(query.order(outs, qs.get("order")), qs)
    return Resp(200, envelope("Contacts", outs, ctx.now_ms, **({"pagination": pagination} if pagination else {})))


def _write(ctx: Ctx, raw: bytes, ref: str | None) -> Resp:
    target = find(ctx, ref) if ref is not None else None
    if ref is not None and target is None:
        return not_found()

    def process(c: Ctx, element: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
        existing = c.tx.get("contact", c.tenant, target["ContactID"]) if target else None
        given = element.get("ContactID")
        if existing is not None and given and given.lower() != existing["ContactID"]:
            errors.append("The ContactID in the body does not match the one in the URL.")
            return None
        if existing is None and given:
            existing = c.tx.get("contact", c.tenant, given.lower())
            if existing is None and c.method == "POST":
                errors.append("An existing Contact with the specified ContactID could not be found")
                return None
            if existing is not None and c.method == "PUT":
                errors.append(f"Contact {given} already exists; use POST to update it.")
                return None
        doc = save(c, element, errors, existing)
        return out(doc) if doc is not None else None

    return batch.run(
        ctx,
        raw,
        plural="Contacts",
        wrapper_schema="Contacts",
        id_key="ContactID",
        has_errors_key="HasValidationErrors",
        process=process,
    )


def handle(ctx: Ctx, method: str, ref: str | None, raw: bytes, ims: str | None) -> Resp:
    if method == "GET" and ref is None:
        return _list(ctx, ims)
    if method == "GET":
        doc = find(ctx, ref)
        return Resp(200, envelope("Contacts", [out(doc)], ctx.now_ms)) if doc else not_found()
    if method == "PUT" and ref is None or method == "POST":
        return _write(ctx, raw, ref)
    return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))
