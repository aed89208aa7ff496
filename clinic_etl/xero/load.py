"""Load a window's Xero documents: plan against the state store, write only what is missing or changed (in
batches of up to 50 across the window's days), record every mapping with the write that made it. A re-run of a
synced window sends no write."""

from __future__ import annotations

import pandas as pd

from clinic_etl.store import StateStore
from clinic_etl.xero.client import XeroClient
from clinic_etl.xero.load_contacts import load_contacts
from clinic_etl.xero.load_invoices import load_invoices, void_removed
from clinic_etl.xero.load_payments import load_payments
from clinic_etl.xero.outcome import LoadContext
from clinic_etl.xero.pending import resolve_pending


def load_documents(
    client: XeroClient,
    store: StateStore,
    documents: dict[str, pd.DataFrame],
    default_day: str,
    currency: str,
    *,
    run_id: str,
) -> pd.DataFrame:
    """The outcome of every record (OUTCOME_COLUMNS); each write is recorded in the state store under ``run_id``
    as it succeeds, so the writes of an attempt that fails part-way are on record too."""
    ctx = LoadContext(client, store, client.tenant_id, default_day, run_id)
    resolve_pending(ctx, documents, currency)  # creates an earlier run sent and never recorded: read back first
    contact_ids = load_contacts(ctx, documents["contacts"])
    invoice_ids = load_invoices(ctx, documents["invoices"], contact_ids, currency)
    held = documents["held_payments"]["payment_key"] if "held_payments" in documents else ()
    load_payments(ctx, documents["payments"], documents["invoices"], invoice_ids, held)
    void_removed(ctx, documents["invoices"])
    return ctx.frame()
