"""The one Definitions of clinic_etl: the daily sync graph, its checks, resources and schedule."""

from __future__ import annotations

import warnings

import dagster as dg

from clinic_etl.assets.documents import xero_documents
from clinic_etl.assets.extract import source_records
from clinic_etl.assets.ledger import practice_ledger
from clinic_etl.assets.load import xero_sync
from clinic_etl.assets.reconcile import xero_reconciliation
from clinic_etl.deployment import resources

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

SYNC_ASSETS = [source_records, practice_ledger, xero_documents, xero_sync, xero_reconciliation]

daily_sync = dg.define_asset_job("daily_sync", selection=dg.AssetSelection.assets(*SYNC_ASSETS))

defs = dg.Definitions(
    assets=SYNC_ASSETS,
    jobs=[daily_sync],
    # at 03:00 practice time, sync the day that just ended
    schedules=[dg.build_schedule_from_partitioned_job(daily_sync, hour_of_day=3)],
    resources=resources(),
)
