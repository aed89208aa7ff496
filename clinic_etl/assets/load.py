"""Stage 4: write the window to Xero idempotently and record every mapping in the state store, each with the write
that made it (``xero_writes``: the audit, kept as the writes succeed, so a failed attempt's are not lost)."""

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, by_day, quarantine, reject_table
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.ledger.quarantine import REJECT_COLUMNS
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.xero.load import load_documents
from clinic_etl.xero.outcome import OUTCOME_COLUMNS, WRITES
from clinic_etl.xero.tenants import organisations


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
    """Per source, the keys whose quarantine for a Xero refusal the run lifts: those it wrote or found in order in
    every organisation. A key refused by one organisation stays quarantined, whatever another did with it (a
    contact held in two: written in one, refused by the other)."""
    failed = outcomes["action"] == "failed"
    done = outcomes.loc[~failed & ~outcomes["key"].isin(outcomes.loc[failed, "key"]), "key"].drop_duplicates()
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


def made_meanwhile(outcome: pd.DataFrame, store, tenant_id: str, since: datetime) -> pd.DataFrame:
    """`outcome` with the failures of records another run made meanwhile (two runs of one day at once: Xero refuses
    the second payment of an invoice the first paid) as "unchanged": the record is in Xero and on record."""
    failed = outcome[outcome["action"] == "failed"]
    done: set[tuple[str, str]] = set()
    for entity, group in failed.groupby("entity"):
        found = store.get_records(tenant_id, str(entity), list(group["key"]))
        done |= {(str(entity), k) for k, r in found.items() if r.xero_id and r.synced_at and r.synced_at >= since}
    if not done:
        return outcome
    hit = pd.Series(
        [(e, k) in done for e, k in zip(outcome["entity"], outcome["key"], strict=True)], index=outcome.index
    )
    outcome = outcome.copy()
    outcome.loc[hit & (outcome["action"] == "failed"), ["action", "reason"]] = ["unchanged", ""]
    return outcome


def tenant_plan(outcomes: pd.DataFrame, documents: dict[str, pd.DataFrame]) -> dict[str, object]:
    """What a run wrote (or, dry, would write) to one organisation: records per entity and action, and the money of
    the invoices and payments written."""
    counts = outcomes.groupby(["entity", "action"]).size()
    plan: dict[str, object] = {f"{entity}_{action}": int(n) for (entity, action), n in counts.items()}
    written = outcomes[outcomes["action"].isin(WRITES)]
    for entity, frame, key, amount in (
        ("invoice", "invoices", "invoice_key", "total"),
        ("payment", "payments", "payment_key", "Amount"),
    ):
        amounts = documents[frame].set_index(key)[amount] if len(documents[frame]) else pd.Series(dtype=object)
        for action in ("created", "updated", "voided", "reversed"):
            keys = written.loc[(written["entity"] == entity) & (written["action"] == action), "key"]
            if len(keys):
                plan[f"{entity}_{action}_amount"] = str(sum(amounts.reindex(keys).dropna(), Decimal(0)))
    return plan


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
        xero_documents: dict[str, dict[str, pd.DataFrame]],
        mapping: MappingResource,
        xero: XeroResource,
        state_store: StateStoreResource,
    ) -> dg.MaterializeResult:
        """4. Xero, written. What was written to Xero for each day (created, updated, adopted, voided, unchanged or
        failed), idempotently, each write recorded in the state store; per day: counts of each action."""
        with retry_only_what_can_succeed():
            window = SyncWindow.of(context)
            store = state_store.store()
            run_id = context.run.run_id
            calls, results, plans, started = 0, [], {}, datetime.now(UTC)
            for org in organisations(mapping.load()):  # one organisation after the other, each with its own client
                client = xero.client(store, org.tenant_id)
                before = client.calls
                rules = org.mapping
                outcome = load_documents(
                    client,
                    store,
                    xero_documents[org.name],
                    window.days[0],
                    rules.currency,
                    run_id=run_id,
                    send=rules.send_invoices,
                )
                outcome = made_meanwhile(outcome, store, client.tenant_id, started)
                results.append(outcome)
                plans[org.name] = tenant_plan(outcome, xero_documents[org.name]) | {"currency": rules.currency}
                calls += client.calls - before
            outcomes = pd.concat(results, ignore_index=True) if len(results) > 1 else results[0]
            quarantine(store, failures(outcomes))
            for name, keys in settled_by_source(outcomes).items():  # refused before, in Xero now
                store.resolve_quarantine(name, "xero_load", keys)
            writes = store.writes(run_id=run_id)  # recorded as made: a failed attempt's writes are among them
            done = run_outcomes(outcomes, writes)
            add_day_metadata(context, window, {day: _figures(done, day) for day in window.days})
            return dg.MaterializeResult(
                metadata={
                    "run_writes": len(writes),
                    "run_api_calls": calls,
                    "run_by_tenant": dg.MetadataValue.json(plans),  # per organisation: what was (or would be) written
                }
            )

    return xero_sync
