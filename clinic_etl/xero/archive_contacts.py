"""Contacts of patients archived or deleted at the source are archived in Xero, as Cliniko's own integration does.

Only a contact this project made or adopted (in the state store) is archived, once (its status is recorded); Xero
has no delete for contacts, and a contact never synced is left alone. It runs after the invoices and payments of the
run, which Xero would refuse on an archived contact. The contact keeps its ContactNumber and history in Xero.
"""

from __future__ import annotations

import pandas as pd

from clinic_etl.xero.outcome import LoadContext, errors_of

ARCHIVED = "ARCHIVED"


def archive_contacts(ctx: LoadContext, archived: pd.DataFrame) -> None:
    """`archived`: frame with `contact_key` of the contacts archived at the source."""
    keys = list(dict.fromkeys(archived["contact_key"]))
    known = ctx.records("contact", keys)
    todo = {k: r for k, r in known.items() if r.xero_id and r.xero_status != ARCHIVED}
    for key in set(known) - set(todo):
        if known[key].xero_id:
            ctx.note("contact", key, "unchanged", known[key].xero_id)
    if not todo:
        return
    elements = [{"ContactID": r.xero_id, "ContactStatus": ARCHIVED} for r in todo.values()]
    by_id = {str(r.get("ContactID")): r for r in ctx.client.write_batches("POST", "Contacts", elements)}
    for key, record in todo.items():
        result = by_id.get(record.xero_id, {})
        problems = errors_of(result)
        if problems or result.get("ContactStatus") != ARCHIVED:
            reason = "; ".join(problems) or "Xero did not archive the contact"
            ctx.note("contact", key, "failed", record.xero_id, f"archiving: {reason}")
            continue
        ctx.save("contact", key, record.xero_id, action="archived", content_hash=record.content_hash, status=ARCHIVED)
