"""Stage 4: write the day to Xero idempotently and record every mapping in the state store."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, quarantine, reject_table
from clinic_etl.ledger.quarantine import rejects
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.sources.cliniko.to_ledger import SOURCE
from clinic_etl.xero.load import load_documents
from clinic_etl.xero.outcome import WRITES


@dg.asset(
    partitions_def=daily_partitions,
    group_name="load",
    kinds={"xero", "sqlalchemy"},
    pool="xero_api",
    retry_policy=RETRY,
)
def xero_sync(
    context: dg.AssetExecutionContext,
    xero_documents: dict[str, pd.DataFrame],
    mapping: MappingResource,
    xero: XeroResource,
    state_store: StateStoreResource,
) -> pd.DataFrame:
    """What was written to Xero for the day (created, updated, adopted, voided, unchanged or failed), by id."""
    store = state_store.store()
    client = xero.client(store)
    outcomes = load_documents(client, store, xero_documents, context.partition_key, mapping.load().currency)
    failed = outcomes[outcomes["action"] == "failed"]
    quarantine(
        store, SOURCE, context.partition_key, rejects("xero_load", zip(failed["key"], failed["reason"], strict=True))
    )
    counts = outcomes.groupby(["entity", "action"]).size()
    for (entity, action), n in counts.items():
        if action in WRITES:
            store.audit(context.partition_key, context.run.run_id, entity, action, int(n))
    context.add_output_metadata(
        {
            **{f"{entity}_{action}": int(n) for (entity, action), n in counts.items()},
            "writes": int(outcomes["action"].isin(WRITES).sum()),
            "failed": len(failed),
            "api_calls": client.calls,
            **({"failures": reject_table(failed.rename(columns={"key": "source_id"}))} if len(failed) else {}),
        }
    )
    return outcomes
