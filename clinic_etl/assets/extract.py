"""Stage 1: extract the window's records from the source API (one pass, whatever the window's length)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources.source import SourceResource


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="source",
        kinds={"api", "pandas"},
        pool="cliniko_api",
        retry_policy=RETRY,
    )
    def source_records(context: dg.AssetExecutionContext, source: SourceResource) -> dict[str, pd.DataFrame]:
        """1. Source. The practice's invoices issued, changed or removed in the run's days, with their items and
        the patients, businesses, practitioners and taxes they reference, as the source (Cliniko, Clio) serves them;
        kept in the run's memory only. Metadata: rows per record type and the API calls it took."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            before = source.api_calls
            raw = source.extract(window)
            context.add_asset_metadata(
                {
                    "window": f"{window.first}..{window.last}",
                    "source": source.name,
                    **{f"rows_{k}": len(v) for k, v in raw.items()},
                    "api_calls": source.api_calls - before,
                }
            )
            return raw

    return source_records
