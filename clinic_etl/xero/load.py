"""Load a window's Xero documents: plan against the state store, write only what is missing or changed (in
batches of up to 50 across the window's days), record every mapping with the write that made it. A re-run of a
synced window sends no write."""

from __future__ import annotations

import pandas as pd

from clinic_etl.store import StateStore
from clinic_etl.xero.archive_contacts import archive_contacts
from clinic_etl.xero.client import XeroClient
from clinic_etl.xero.credit_frames import ALLOCATION_COLUMNS, CREDIT_NOTE_COLUMNS, REFUND_COLUMNS
from clinic_etl.xero.kinds import CREDIT_NOTE
from clinic_etl.xero.load_allocations import load_allocations
from clinic_etl.xero.load_contacts import load_contacts
from clinic_etl.xero.load_invoices import load_invoices, void_removed
from clinic_etl.xero.load_payments import load_payments
from clinic_etl.xero.outcome import LoadContext
from clinic_etl.xero.pending import resolve_pending
from clinic_etl.xero.send_invoices import send_invoices


def load_documents(
    client: XeroClient,
    store: StateStore,
    documents: dict[str, pd.DataFrame],
    default_day: str,
    currency: str,
    *,
    run_id: str,
    send: bool = False,
) -> pd.DataFrame:
    """The outcome of every record (OUTCOME_COLUMNS); each write is recorded in the state store under ``run_id``
    as it succeeds, so the writes of an attempt that fails part-way are on record too. `send`: Xero e-mails each
    approved invoice to its contact, once (the mapping's send_invoices)."""
    ctx = LoadContext(client, store, client.tenant_id, default_day, run_id)
    held = documents.get("held_payments", pd.DataFrame(columns=["payment_key"]))
    ctx.payments_frozen = bool(held.attrs.get("all"))
    resolve_pending(ctx, documents, currency)  # creates an earlier run sent and never recorded: read back first
    contact_ids = load_contacts(ctx, documents["contacts"])
    invoice_ids = load_invoices(ctx, documents["invoices"], contact_ids, currency)
    notes = documents.get("credit_notes", pd.DataFrame(columns=CREDIT_NOTE_COLUMNS))
    note_ids = load_invoices(ctx, notes, contact_ids, currency, CREDIT_NOTE)
    allocations = documents.get("credit_allocations", pd.DataFrame(columns=ALLOCATION_COLUMNS))
    load_allocations(ctx, allocations, documents["invoices"], notes, note_ids)
    if not ctx.payments_frozen:  # rules.sync_payments: false leaves Xero's payments as they are
        load_payments(ctx, documents["payments"], documents["invoices"], invoice_ids, held["payment_key"])
    refunds = documents.get("refunds", pd.DataFrame(columns=REFUND_COLUMNS))
    load_payments(ctx, refunds, notes, note_ids, kind=CREDIT_NOTE)
    void_removed(ctx, documents["invoices"])
    void_removed(ctx, notes, CREDIT_NOTE)
    if send:
        send_invoices(ctx, documents["invoices"], documents["contacts"], invoice_ids)
    if "archived_contacts" in documents:  # after the documents: Xero takes none on an archived contact
        archive_contacts(ctx, documents["archived_contacts"])
    return ctx.frame()
