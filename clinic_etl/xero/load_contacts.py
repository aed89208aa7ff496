"""Contacts: create the missing ones, update the changed ones; ContactNumber carries the source key.

A name already used in Xero by another contact gets the patient's id appended (two people are never merged),
unless that contact was made in Xero before the sync with the same name and e-mail (no ContactNumber): it is the
same person, matched and given our ContactNumber. A contact that already exists with our ContactNumber (a crash
after the write, before the state store recorded it) is adopted, not duplicated, and updated in the same run to
what the source says now.
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.xero.frames import disambiguated
from clinic_etl.xero.outcome import LoadContext, errors_of, redact

FIELDS = ["Name", "FirstName", "LastName", "EmailAddress"]


def _element(row: dict) -> dict:
    return {"ContactNumber": row["contact_key"], **{f: row[f] for f in FIELDS if isinstance(row[f], str)}}


def _name_taken(problems: list[str]) -> bool:
    return any("name" in p.lower() and ("already" in p.lower() or "unique" in p.lower()) for p in problems)


def _same_person(found: dict | None, element: dict) -> dict | None:
    """A contact the finance team made in Xero before the sync (no ContactNumber) with the same name and e-mail as
    ours is ours: matched, never duplicated. Same name with another or no e-mail is someone else."""
    if not found or found.get("ContactNumber"):
        return None
    theirs, ours = (str(c.get("EmailAddress") or "").strip().lower() for c in (found, element))
    return found if theirs and theirs == ours else None


def _send(ctx: LoadContext, method: str, elements: list[dict]) -> dict[str, tuple[dict, list[str]]]:
    results = {
        r.get("ContactNumber", ""): (r, errors_of(r)) for r in ctx.client.write_batches(method, "Contacts", elements)
    }
    taken = [e for e in elements if _name_taken(results.get(e["ContactNumber"], ({}, []))[1])]
    by_number = (
        ctx.client.contacts_where("ContactNumber", [e["ContactNumber"] for e in taken]) if method == "PUT" else {}
    )
    unnumbered = [e for e in taken if e["ContactNumber"] not in by_number]
    by_name = (
        ctx.client.contacts_where("Name", [e["Name"] for e in unnumbered]) if method == "PUT" and unnumbered else {}
    )
    retry = []
    for element in taken:
        key = element["ContactNumber"]
        existing = by_number.get(key) or _same_person(by_name.get(element["Name"]), element)
        if existing:
            results[key] = ({**existing, "adopted": True}, [])
        else:
            retry.append({**element, "Name": disambiguated(element["Name"], key)})
    results.update(
        {r.get("ContactNumber", ""): (r, errors_of(r)) for r in ctx.client.write_batches(method, "Contacts", retry)}
    )
    return results


def same_contact(found: dict, row: dict) -> bool:
    """Whether a contact read back from Xero already says what the source's row says (its name, or the name
    disambiguated with the patient's id, first and last name, e-mail): then adopting it needs no update."""

    def text(value: object) -> str:
        return str(value or "").strip().casefold()

    names = {text(row["Name"]), text(disambiguated(row["Name"], row["contact_key"]))}
    return text(found.get("Name")) in names and all(
        text(found.get(f)) == text(row[f] if isinstance(row[f], str) else None)
        for f in ("FirstName", "LastName", "EmailAddress")
    )


def _record(ctx: LoadContext, rows: dict, ids: dict, action: str, results: dict) -> list[str]:
    """Record what Xero answered; returns the keys adopted whose content in Xero differs from the source's."""
    adopted = []
    for key, (result, problems) in results.items():
        row = rows.get(key)
        if row is None:
            continue
        if problems or not result.get("ContactID"):
            if action == "created":
                ctx.settle("contact", [key])
            reason = redact("; ".join(problems) or "Xero returned no ContactID", *(row[f] for f in FIELDS))
            ctx.note("contact", key, "failed", ids.get(key), reason, day=row["day"])
            continue
        ids[key] = result["ContactID"]
        stale = bool(result.get("adopted")) and not same_contact(result, row)
        if stale:
            adopted.append(key)
        ctx.save(
            "contact",
            key,
            ids[key],
            action="adopted" if result.get("adopted") else action,
            content_hash=None if stale else row["content_hash"],
            status=result.get("ContactStatus", "ACTIVE"),
            day=row["day"],
        )
    return adopted


def load_contacts(ctx: LoadContext, contacts: pd.DataFrame) -> dict[str, str]:
    """Returns contact_key -> ContactID for every contact that is in Xero after the call."""
    rows = {r["contact_key"]: r for r in contacts.to_dict("records")}
    known = ctx.records("contact", list(rows))
    ids = {k: r.xero_id for k, r in known.items() if r.xero_id}
    create = [k for k in rows if k not in ids]
    update = [k for k in rows if k in ids and known[k].content_hash != rows[k]["content_hash"]]
    for key in set(ids) - set(update):
        ctx.note("contact", key, "unchanged", ids[key], day=rows[key]["day"])
    ctx.intend("contact", [(k, k, None, rows[k]["day"]) for k in create])
    update += _record(ctx, rows, ids, "created", _send(ctx, "PUT", [_element(rows[k]) for k in create]))
    _record(ctx, rows, ids, "updated", _send(ctx, "POST", [{"ContactID": ids[k], **_element(rows[k])} for k in update]))
    return ids
