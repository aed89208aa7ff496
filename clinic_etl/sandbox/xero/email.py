"""POST /Invoices/{InvoiceID}/Email: Xero e-mails the invoice to its contact (SPEC `emailInvoice`: body `{}`, 204 No
Content, 400 with validation errors). Only an AUTHORISED or PAID sales invoice of a contact with an e-mail address
can be sent (the exact 400 messages are unverified). Each send is counted by the call statistics, so tests can tell
how many e-mails went out."""

from __future__ import annotations

from . import links
from .context import Ctx
from .documents import INVOICE, find
from .serialize import Resp, not_found, problem, validation_error


def send(ctx: Ctx, method: str, ref: str) -> Resp:
    if method != "POST":
        return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported on this resource"))
    invoice = find(ctx, INVOICE, ref)
    if invoice is None:
        return not_found()
    if invoice["Type"] != "ACCREC" or invoice["Status"] not in ("AUTHORISED", "PAID"):
        return Resp(400, validation_error("Only approved sales invoices can be emailed."))
    contact = links.contact(ctx, invoice["ContactID"]) or {}
    if not (contact.get("EmailAddress") or "").strip():
        return Resp(400, validation_error("The contact does not have an email address."))
    return Resp(204, b"")
