"""Detailed or summary mode (the mapping's `mode`, per organisation): which transform plans an organisation's
documents, and the rule that a day synced in one mode is never re-synced in the other (Xero would hold both)."""

from __future__ import annotations

import pandas as pd

from clinic_etl.mapping import Mapping
from clinic_etl.store import StateStore
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.org import XeroOrg
from clinic_etl.xero.summary import business_of, to_summary
from clinic_etl.xero.tenants import DEFAULT, Organisation


def plan(
    ledger: dict[str, pd.DataFrame], rules: Mapping, chart: XeroOrg
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The organisation's Xero documents and rejects, in its mode. In summary mode `{source}` in the summary
    contact's name is the source's name (Cliniko, Clio), read off the ledger's keys."""
    if rules.mode != "summary":
        return to_xero(ledger, rules, chart)
    keys = ledger["invoices"]["invoice_key"]
    source = str(keys.iloc[0]).split(":", 1)[0].capitalize() if len(keys) else "Practice"
    return to_summary(ledger, rules, chart, source)


def mode_switch(store: StateStore, tenant_id: str, org: Organisation, ledger: dict[str, pd.DataFrame]) -> str | None:
    """Why the run must stop, when a day of the ledger was synced to this organisation in the other mode."""
    invoices = ledger["invoices"]
    if org.mapping.mode == "summary":
        keys = list(invoices["invoice_key"])
        other, now = "detailed", "summary"
    else:
        summaries = "summary:" + business_of(invoices["business_id"]) + ":" + invoices["issue_date"].astype(str)
        keys = list(summaries.unique())
        other, now = "summary", "detailed"
    found = store.get_records(tenant_id, "invoice", keys) if keys else {}
    days = sorted({r.partition_key for r in found.values() if r.xero_id})
    if not days:
        return None
    where = "" if org.name == DEFAULT else f" for tenant {org.name}"
    return (
        f"mode is {now}{where}, but {len(days)} day(s) of this run were synced in {other} mode ({days[0]} to"
        f" {days[-1]}): switching modes is refused for days already synced. Set mode back to {other} in"
        " CLINIC_ETL_CONFIG, or sync only days after them"
    )
