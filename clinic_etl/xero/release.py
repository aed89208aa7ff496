"""Take the money off a document before it is edited or voided (Xero refuses either while money is applied): an
invoice's payments and the credit allocated to it; a credit note's refunds and its allocations. The steps that
follow re-apply what the ledger still lists."""

from __future__ import annotations

from clinic_etl.xero.kinds import INVOICE, Kind
from clinic_etl.xero.load_allocations import allocations_of_credit_notes, allocations_on_invoices, remove
from clinic_etl.xero.load_payments import live_payments, reverse_payments_of
from clinic_etl.xero.outcome import LoadContext


def release(ctx: LoadContext, kind: Kind, key: str, day: str | None) -> str | None:
    """None once nothing is applied to the document; else why something could not be taken off."""
    if ctx.payments_frozen and kind == INVOICE and live_payments(ctx, [key]):
        return "it has payments in Xero, which rules.sync_payments: false leaves alone: change it in Xero"
    if reason := reverse_payments_of(ctx, key, day):  # payments on an invoice, refunds out of a credit note
        return reason
    allocations = allocations_on_invoices(ctx, [key]) if kind == INVOICE else allocations_of_credit_notes(ctx, [key])
    for allocation_key, record in sorted(allocations.items()):
        if reason := remove(ctx, allocation_key, record, day):
            return reason
    return None
