"""CLINIC_ETL_SOURCE=clio-sandbox in Dagster: the Definitions built from the settings (the firm's zone and first day,
the embedded Clio through the real client) materialise `source_records` and `practice_ledger` for a range of days
in one run, each day with its own ledger figures. (The Xero stages for Clio are not asserted here.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.definitions import build_definitions
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.clio import Firm
from clinic_etl.settings import Settings
from clinic_etl.sources.clio.extract import extract
from clinic_etl.sources.clio.to_ledger import to_ledger
from clinic_etl_tests.clio.conftest import sandbox_client

FIRST, LAST = "2026-09-28", "2026-10-02"  # the firm's first week: trust requests, split and trust payments, drafts
RANGE = {"dagster/asset_partition_range_start": FIRST, "dagster/asset_partition_range_end": LAST}


def _metadata(result: dg.ExecuteInProcessResult, asset: str, day: str | None = None) -> dict:
    events = [e for e in result.asset_materializations_for_node(asset) if day is None or e.partition == day]
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def _money(values: pd.Series) -> str:
    return str(sum(values, Decimal("0.00")))


def test_a_clio_sandbox_run_materialises_the_ledger_with_each_days_figures(tmp_path, firm: Firm):
    settings = Settings.from_env({"CLINIC_ETL_SOURCE": "clio-sandbox", "DAGSTER_HOME": str(tmp_path)})
    defs = build_definitions(settings)
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    (daily,) = {a.partitions_def for a in assets}
    assert daily.timezone == "America/New_York" and daily.start.date() == date(2026, 9, 28)

    result = dg.materialize(
        assets,
        selection=["source_records", "practice_ledger"],
        resources=defs.resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags=RANGE,
    )
    assert result.success

    window = SyncWindow(date.fromisoformat(FIRST), date.fromisoformat(LAST), settings.zone)
    client, _, _ = sandbox_client(firm)
    raw = extract(client, window)
    ledger, rejected = to_ledger(raw, window)
    assert rejected.empty

    extracted = _metadata(result, "source_records")
    assert extracted["source"] == "clio" and extracted["window"] == f"{FIRST}..{LAST}"
    assert extracted["rows_bills"] == len(raw["bills"]) and extracted["rows_allocations"] == len(raw["allocations"])
    assert 0 < extracted["api_calls"] <= 50  # one extract of the week, within a minute of Clio's budget

    invoices, payments, lines = ledger["invoices"], ledger["payments"], ledger["lines"]
    seen = 0
    for day in window.days:
        figures = _metadata(result, "practice_ledger", day)
        mine = invoices[invoices["day"] == day]
        theirs = payments[payments["invoice_key"].isin(mine["invoice_key"])]
        assert figures["invoices"] == len(mine), day
        assert figures["lines"] == int(lines["invoice_key"].isin(mine["invoice_key"]).sum())
        assert figures["contacts"] == mine["contact_key"].nunique()
        assert figures["payments"] == len(theirs) and figures["quarantined"] == 0
        # money is plotted as a number, its exact text beside it in `amounts`
        assert figures["amounts"]["invoice_total"] == _money(mine.loc[mine["status"] != "deleted", "total"])
        assert figures["amounts"]["payment_total"] == _money(theirs["amount"])
        assert figures["invoice_total"] == float(figures["amounts"]["invoice_total"])
        seen += figures["invoices"]
    # every revenue bill issued that week is an invoice of its own day
    issued = [b for b in firm.bills if FIRST <= b["issued_at"] <= LAST and b["kind"] != "trust_kind"]
    assert seen == len(invoices) >= len(issued) > 20
    for bill in issued:
        row = invoices.set_index("source_id").loc[str(bill["id"])]
        assert row["day"] == bill["issued_at"]
