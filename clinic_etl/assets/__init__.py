"""Thin Dagster assets, one module per stage of the sync, built on the deployment's partitions."""

from __future__ import annotations

import dagster as dg

from clinic_etl.assets import documents, extract, ledger, load, reconcile


def sync_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """source_records -> practice_ledger -> xero_documents -> xero_sync -> xero_reconciliation."""
    return [stage.build(partitions) for stage in (extract, ledger, documents, load, reconcile)]
