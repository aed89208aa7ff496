"""Clio contacts -> ledger contacts: a Person by first and last name, a Company by its name (the ledger has no
organisation-name column: a company's name is carried as `last_name`, so Xero's contact Name is the company's), the
primary e-mail. Only the contacts the ledger's invoices and credit notes use are listed. Names and e-mails are
personal data: they go to Xero, never into a reason, log or metadata."""

from __future__ import annotations

from clinic_etl.sources.clio.records import key


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def contact_of(contact: dict) -> dict:
    first, last, name = (_text(contact.get(c)) for c in ("first_name", "last_name", "name"))
    if contact["type"] == "Company" or not (first or last):
        first, last = None, name or last or first
    return {
        "contact_key": key("contact", contact["id"]),
        "source_id": contact["id"],
        "first_name": first,
        "last_name": last,
        "email": _text(contact.get("primary_email_address")),
    }
