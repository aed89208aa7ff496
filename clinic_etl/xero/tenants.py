"""Several Xero organisations: the practice ledger split by the mapping's `tenants` (pure).

A business (location) is booked to one organisation; an invoice goes where its business goes, and takes its lines,
payments and credit allocations with it. A credit note goes where the invoices it is applied to go (the first of
them), else where its contact's invoices go, else to the catch-all organisation (the tenant whose `businesses` is
empty, or the first). A contact goes to every organisation that holds a document of it: a patient seen at two
locations booked to two organisations is a contact in each. A contact with no document in the window (archived at
the source) goes to every organisation: each archives it only where it holds it. Records a rule keeps out go with
their invoice, else to the catch-all.

With no `tenants`, there is one organisation: the one of XERO_TENANT_ID, or the app's connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from clinic_etl.mapping import Mapping, Tenant

DEFAULT = "default"  # the name of the one organisation when the mapping lists none


@dataclass(frozen=True)
class Organisation:
    """One Xero organisation of the run: its name (metadata), tenant id (None: the resource's) and mapping."""

    name: str
    tenant_id: str | None
    mapping: Mapping


def organisations(mapping: Mapping) -> list[Organisation]:
    if not mapping.tenants:
        return [Organisation(DEFAULT, None, mapping)]
    return [Organisation(t.name, t.tenant_id, mapping.for_tenant(t)) for t in mapping.tenants]


def _catch_all(tenants: list[Tenant]) -> str:
    return next((t.name for t in tenants if not t.businesses), tenants[0].name)


def _business_tenant(invoices: pd.DataFrame, tenants: list[Tenant]) -> pd.Series:
    routes = {business: t.name for t in tenants for business in t.businesses}
    return invoices["business_id"].map(routes).fillna(_catch_all(tenants))


def route(ledger: dict[str, pd.DataFrame], mapping: Mapping) -> dict[str, dict[str, pd.DataFrame]]:
    """Organisation name -> its part of the ledger (every frame present, maybe empty)."""
    if not mapping.tenants:
        return {DEFAULT: ledger}
    tenants = mapping.tenants
    catch_all = _catch_all(tenants)
    invoice_tenant = pd.Series(
        _business_tenant(ledger["invoices"], tenants).to_numpy(), index=ledger["invoices"]["invoice_key"].to_numpy()
    )
    contact_tenant = (
        pd.DataFrame({"contact_key": ledger["invoices"]["contact_key"].to_numpy(), "tenant": invoice_tenant.to_numpy()})
        .drop_duplicates("contact_key")
        .set_index("contact_key")["tenant"]
    )
    allocations = ledger["credit_allocations"]
    note_by_allocation = (
        pd.DataFrame(
            {
                "credit_note_key": allocations["credit_note_key"].to_numpy(),
                "tenant": allocations["invoice_key"].map(invoice_tenant).to_numpy(),
            }
        )
        .dropna()
        .drop_duplicates("credit_note_key")
        .set_index("credit_note_key")["tenant"]
    )
    notes = ledger["credit_notes"]
    note_tenant = pd.Series(
        notes["credit_note_key"]
        .map(note_by_allocation)
        .fillna(notes["contact_key"].map(contact_tenant))
        .fillna(catch_all)
        .to_numpy(),
        index=notes["credit_note_key"].to_numpy(),
    )
    owners = pd.concat(
        [
            pd.DataFrame({"contact_key": ledger["invoices"]["contact_key"], "tenant": invoice_tenant.to_numpy()}),
            pd.DataFrame({"contact_key": notes["contact_key"], "tenant": note_tenant.to_numpy()}),
        ]
    )
    contacts = ledger["contacts"]
    referenced = contacts["contact_key"].isin(owners["contact_key"])
    excluded = ledger["excluded"]
    excluded_tenant = excluded["record_key"].map(invoice_tenant).fillna(catch_all)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for tenant in tenants:
        name = tenant.name
        mine = set(invoice_tenant.index[invoice_tenant == name])
        my_notes = set(note_tenant.index[note_tenant == name])
        my_contacts = set(owners.loc[owners["tenant"] == name, "contact_key"])
        out[name] = {
            **ledger,
            "contacts": contacts[contacts["contact_key"].isin(my_contacts) | ~referenced],
            "invoices": ledger["invoices"][ledger["invoices"]["invoice_key"].isin(mine)],
            "lines": ledger["lines"][ledger["lines"]["invoice_key"].isin(mine)],
            "payments": ledger["payments"][ledger["payments"]["invoice_key"].isin(mine)],
            "credit_notes": notes[notes["credit_note_key"].isin(my_notes)],
            "credit_allocations": allocations[allocations["credit_note_key"].isin(my_notes)],
            "refunds": ledger["refunds"][ledger["refunds"]["credit_note_key"].isin(my_notes)],
            "excluded": excluded[(excluded_tenant == name).to_numpy()],
        }
    return out
