"""Stage 1: extract the day's records from the source API."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, day_of
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import ClinikoResource
from clinic_etl.settings import Settings
from clinic_etl.sources.cliniko.extract import extract_day


@dg.asset(
    partitions_def=daily_partitions,
    group_name="extract",
    kinds={"cliniko", "pandas"},
    pool="cliniko_api",
    retry_policy=RETRY,
)
def source_records(context: dg.AssetExecutionContext, cliniko: ClinikoResource) -> dict[str, pd.DataFrame]:
    """The practice day's invoices (issued, changed or removed that day) with their items and the patients,
    businesses, practitioners and taxes they reference, as served by the source (strings, ids only in metadata)."""
    client = cliniko.client()
    raw = extract_day(client, day_of(context), Settings.from_env().zone)
    context.add_output_metadata({**{f"rows_{k}": len(v) for k, v in raw.items()}, "api_calls": client.calls})
    return raw
