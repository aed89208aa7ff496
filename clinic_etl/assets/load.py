"""Stage 4: write the window to Xero idempotently and record every mapping in the state store, each with the write
that made it (``xero_writes``: the audit, kept as the writes succeed, so a failed attempt's are not lost)."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, by_day, quarantine, reject_table
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.ledger.quarantine import REJECT_COLUMNS
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.xero.load import load_documents
from clinic_etl.xero.outcome import OUTCOME_COLUMNS, WRITES


def failures(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Records Xero refused, as quarantine rows (entity `xero_load`, id = the source key)."""
    failed = outcomes[outcomes["action"] == "failed"]
    return pd.DataFrame(
        {
            "source": failed["key"].str.split(":").str[0],
            "entity": "xero_load",
            "source_id": failed["key"],
            "day": failed["day"],
            "reason": failed["reason"],
        },
        columns=REJECT_COLUMNS,
    )


def settled_by_source(outcomes: pd.DataFrame) -> dict[str, list[str]]:
    done = outcomes.loc[outcomes["action"] != "failed", "key"]
    return {name: list(keys) for name, keys in done.groupby(done.str.split(":").str[0])}


def run_outcomes(outcomes: pd.DataFrame, writes: list[dict]) -> pd.DataFrame:
    """What the run did to each record: its writes as the state store recorded them (every attempt of the step,
    a failed one too: its writes are "unchanged" to the attempt after it), plus this attempt's other outcomes
    (unchanged, skipped, failed) but for "unchanged" on a record the run wrote."""
    written = [
        {
            "entity": w["entity"],
            "key": w["source_key"],
            "day": w["partition_key"],
            "action": w["action"],
            "xero_id": w["xero_id"],
            "reason": "",
        }
        for w in writes
    ]
    keys = {(w["entity"], w["key"]) for w in written}
    others = [
        o
        for o in outcomes.to_dict("records")
        if o["action"] not in WRITES and not (o["action"] == "unchanged" and (o["entity"], o["key"]) in keys)
    ]
    return pd.DataFrame(written + others, columns=OUTCOME_COLUMNS)


def _figures(done: pd.DataFrame, day: str) -> dict[str, object]:
    done = by_day(done, day)
    counts = done.groupby(["entity", "action"]).size()
    failed = done[done["action"] == "failed"]
    return {
        **{f"{entity}_{action}": int(n) for (entity, action), n in counts.items()},
        "writes": int(done["action"].isin(WRITES).sum()),
        "failed": len(failed),
        **({"failures": reject_table(failures(failed))} if len(failed) else {}),
    }


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="xero",
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
    ) -> dg.MaterializeResult:
        """4. Xero, written. What was written to Xero for each day (created, updated, adopted, voided, unchanged or
        failed), idempotently, each write recorded in the state store; per day: counts of each action."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            client = xero.client(store)
            before = client.calls
            run_id = context.run.run_id
            rules = mapping.load()
            outcomes = load_documents(
                client, store, xero_documents, window.days[0], rules.currency, run_id=run_id, send=rules.send_invoices
            )
            quarantine(store, failures(outcomes))
            for name, keys in settled_by_source(outcomes).items():  # refused before, in Xero now
                store.resolve_quarantine(name, "xero_load", keys)
            writes = store.writes(run_id=run_id)  # recorded as made: a failed attempt's writes are among them
            done = run_outcomes(outcomes, writes)
            add_day_metadata(context, window, {day: _figures(done, day) for day in window.days})
            return dg.MaterializeResult(metadata={"run_writes": len(writes), "run_api_calls": client.calls - before})

    return xero_sync
