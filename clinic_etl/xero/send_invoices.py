"""Invoices sent (the mapping's `send_invoices: true`): Xero e-mails each approved invoice of the run to its contact
(`POST /Invoices/{id}/Email`), once. A send is recorded in the state store (entity `invoice_email`), so a re-run
sends nothing again; a contact without an e-mail address is skipped with the reason; Xero's refusal is a failure
with Xero's reason (quarantined like any refused write)."""

from __future__ import annotations

import pandas as pd

from clinic_etl.http.errors import BadRequestError
from clinic_etl.xero.outcome import LoadContext

ENTITY = "invoice_email"


def send_invoices(
    ctx: LoadContext, invoices: pd.DataFrame, contacts: pd.DataFrame, invoice_ids: dict[str, str]
) -> None:
    with_email = {
        k for k, e in zip(contacts["contact_key"], contacts["EmailAddress"], strict=True) if isinstance(e, str) and e
    }
    approved = invoices[(invoices["Status"] == "AUTHORISED") & (invoices["source_status"] != "deleted")]
    rows = [r for r in approved.to_dict("records") if r["invoice_key"] in invoice_ids]
    sent = ctx.records(ENTITY, [r["invoice_key"] for r in rows])
    for row in rows:
        key, invoice_id = row["invoice_key"], invoice_ids[row["invoice_key"]]
        if key in sent:
            ctx.note(ENTITY, key, "unchanged", invoice_id, day=row["day"])
        elif row["contact_key"] not in with_email:
            ctx.note(ENTITY, key, "skipped", invoice_id, "its contact has no e-mail address", day=row["day"])
        else:
            try:
                ctx.client.email_invoice(invoice_id)
            except BadRequestError as error:
                ctx.note(ENTITY, key, "failed", invoice_id, f"Xero did not e-mail it: {error}", day=row["day"])
                continue
            ctx.save(ENTITY, key, invoice_id, action="sent", content_hash=None, status="SENT", day=row["day"])
