"""Stage 3: map the ledger to Xero documents with the mapping file and the organisation's chart."""

from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import (
    RETRY,
    SINGLE_RUN,
    add_day_metadata,
    by_day,
    day_checks,
    money,
    quarantine,
    reject_table,
)
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.assets.schemas import xero_metadata
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.xero.check_mapping import MappingMismatch
from clinic_etl.xero.check_mapping import check as check_mapping
from clinic_etl.xero.modes import mode_switch, plan
from clinic_etl.xero.org import XeroOrg
from clinic_etl.xero.tenants import Organisation, organisations, route
from clinic_etl.xero.tracking_options import create_missing

BALANCED = "lines_add_up_to_source_totals"


def unbalanced(invoices: pd.DataFrame) -> list[str]:
    live = invoices[invoices["source_status"] != "deleted"]
    return [
        r["invoice_key"]
        for r in live.to_dict("records")
        if sum((li["LineAmount"] for li in r["LineItems"]), Decimal(0)) != r["total"]
    ]


def excluded_by_rule(excluded: pd.DataFrame) -> dg.MetadataValue:
    """Per rule: how many records it kept out of Xero, their money, and the first ids (no names)."""
    out = {}
    for rule, group in excluded.groupby("rule"):
        out[str(rule)] = {
            "records": len(group),
            "amount": money(group["amount"].dropna()),
            "ids": list(group["record_key"].head(20)),
        }
    return dg.MetadataValue.json(out)


def checked_charts(
    xero: XeroResource, store, orgs: list[Organisation]
) -> tuple[dict[str, XeroOrg], dict[str, list[str]]]:
    """Each organisation's chart, with the tracking options its mapping creates (`create_missing`), every one checked
    against its mapping before anything is recorded or written: a mapping naming what Xero lacks stops the run."""
    charts, created = {}, {}
    for org in orgs:
        client = xero.client(store, org.tenant_id)
        chart = xero.org(store, org.tenant_id, tracking=bool(org.mapping.tracking))
        charts[org.name], made = create_missing(client, org.mapping, chart)
        if made:
            created[org.name] = [f"{category}: {option}" for category, option in made]
    for org in orgs:
        try:
            check_mapping(org.mapping, charts[org.name], org.name)
        except MappingMismatch as error:
            raise dg.Failure(str(error), allow_retries=False, metadata={"error": "MappingMismatch"}) from None
    return charts, created


def merged(per_tenant: dict[str, dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Every organisation's frames as one set (a contact held in two organisations is two rows)."""
    plans = list(per_tenant.values())
    if len(plans) == 1:
        return plans[0]
    names = {name for plan in plans for name in plan}
    return {
        name: pd.concat([plan[name] for plan in plans if name in plan], ignore_index=True)
        for name in names
        if any(name in plan for plan in plans)
    }


def covered(per_tenant: dict[str, dict[str, pd.DataFrame]], day: str) -> dict[str, object]:
    """Summary mode: which source invoices each summary of the day stands for (ids only)."""
    out = {}
    for documents in per_tenant.values():
        covers = documents.get("covers")
        if covers is None or covers.empty:
            continue
        numbers = documents["invoices"].set_index("invoice_key")["InvoiceNumber"]
        mine = covers[covers["day"] == day]
        for key, group in mine.groupby("invoice_key"):
            out[str(numbers.get(key, key))] = list(group["source_key"])
    return {"summaries": dg.MetadataValue.json(out)} if out else {}


def _per_tenant(per_tenant: dict[str, dict[str, pd.DataFrame]], day: str) -> dict[str, object]:
    if len(per_tenant) == 1:
        return {}
    out = {}
    for name, documents in per_tenant.items():
        invoices = by_day(documents["invoices"], day)
        out[name] = {
            "invoices": len(invoices),
            "payments": len(by_day(documents["payments"], day)),
            "excluded": len(by_day(documents["excluded"], day)),
            "invoice_total": str(invoices.loc[invoices["source_status"] != "deleted", "total"].sum()),
        }
    return {"tenants": dg.MetadataValue.json(out)}


def _figures(documents: dict[str, pd.DataFrame], rejected: pd.DataFrame, day: str) -> dict[str, object]:
    invoices = by_day(documents["invoices"], day)
    held = by_day(rejected, day)
    return {
        "contacts": len(by_day(documents["contacts"], day)),
        "invoices": len(invoices),
        "payments": len(by_day(documents["payments"], day)),
        "quarantined": len(held),
        "excluded": len(by_day(documents["excluded"], day)),
        "moved_past_lock_date": len(by_day(documents["moved"], day)) if "moved" in documents else 0,
        **(
            {"excluded_by_rule": excluded_by_rule(by_day(documents["excluded"], day))}
            if len(by_day(documents["excluded"], day))
            else {}
        ),
        "invoice_total": money(invoices.loc[invoices["source_status"] != "deleted", "total"]),
        **({"quarantine": reject_table(held)} if len(held) else {}),
    }


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="xero",
        metadata=xero_metadata(),  # the Xero frames' columns, as the UI's column schemas
        kinds={"xero", "pandas"},
        pool="xero_api",
        retry_policy=RETRY,
        check_specs=[
            dg.AssetCheckSpec(
                BALANCED,
                asset="xero_documents",
                blocking=True,
                description="Every invoice's Xero lines add up to the source total.",
            )
        ],
    )
    def xero_documents(
        context: dg.AssetExecutionContext,
        practice_ledger: dict[str, pd.DataFrame],
        mapping: MappingResource,
        xero: XeroResource,
        state_store: StateStoreResource,
    ):
        """3. Xero, planned. Contacts, ACCREC invoices (tax-inclusive lines, account codes, tax types, tracking),
        payments and credit notes, as they will be sent; what the mapping or the organisation cannot support is
        quarantined with the key to fix. Blocking check: every invoice's lines add up to the source total."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            rules = mapping.load()
            ledgers = route(practice_ledger, rules)
            per_tenant, rejects = {}, []
            charts, created = checked_charts(xero, store, organisations(rules))
            for org in organisations(rules):
                client = xero.client(store, org.tenant_id)
                if switched := mode_switch(store, client.tenant_id, org, ledgers[org.name]):
                    raise dg.Failure(switched, allow_retries=False, metadata={"error": "ModeSwitch"})
                per_tenant[org.name], rejected = plan(ledgers[org.name], org.mapping, charts[org.name])
                contacts = ledgers[org.name]["contacts"]
                per_tenant[org.name]["archived_contacts"] = contacts.loc[contacts["archived"], ["contact_key"]]
                rejects.append(rejected)
            rejected = pd.concat(rejects, ignore_index=True) if len(rejects) > 1 else rejects[0]
            quarantine(store, rejected)
            documents = merged(per_tenant)
            add_day_metadata(
                context,
                window,
                {
                    day: _figures(documents, rejected, day) | _per_tenant(per_tenant, day) | covered(per_tenant, day)
                    for day in window.days
                },
            )
            yield dg.Output(
                per_tenant,
                metadata={"tracking_options_created": dg.MetadataValue.json(created)} if created else None,
            )
            per_day = {}
            for day in window.days:
                bad = unbalanced(by_day(documents["invoices"], day))
                per_day[day] = (not bad, {"unbalanced": bad[:50]})
            yield from day_checks("xero_documents", BALANCED, per_day, blocking=True)

    return xero_documents
