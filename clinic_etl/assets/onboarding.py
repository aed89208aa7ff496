"""New patients into GoHighLevel: the patients whose first appointment was booked on each day of the run (Cliniko's
individual appointments), upserted as GHL contacts, tagged and added to the configured workflow, once; a patient in
GHL whose e-mail or phone changed in the run's days has the contact updated. Ids and reasons only in the metadata."""

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.engage.gohighlevel.contacts import contact_rows
from clinic_etl.engage.gohighlevel.load import CHANGES, onboard
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import ClinikoResource, MappingResource, StateStoreResource
from clinic_etl.resources.gohighlevel import GoHighLevelResource
from clinic_etl.resources.source import SourceResource
from clinic_etl.sources.cliniko import appointments

ONBOARDING = "gohighlevel_onboarding"
ACTIONS = ("created", "matched", "updated", "tagged", "enrolled", "unchanged", "declined", "skipped")


def figures(first: pd.DataFrame, outcomes: pd.DataFrame, day: str) -> dict[str, object]:
    done = outcomes[outcomes["day"] == day]
    counts = done["action"].value_counts()
    held = done[done["action"].isin(("declined", "skipped"))]
    table = "| patient | outcome | reason |\n|---|---|---|\n" + "\n".join(
        f"| {r.source_key} | {r.action} | {str(r.reason).replace('|', '/')} |" for r in held.head(50).itertuples()
    )
    return {
        "new_patients": int((first["day"] == day).sum()),
        **{action: int(counts.get(action, 0)) for action in ACTIONS},
        "ghl_writes": int(done["action"].isin(CHANGES).sum()),
        **({"not_sent": dg.MetadataValue.md(table)} if len(held) else {}),
    }


def build(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=ONBOARDING,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="engage",
        kinds={"gohighlevel", "api"},
        pool="gohighlevel_api",
        retry_policy=RETRY,
    )
    def gohighlevel_onboarding(
        context: dg.AssetExecutionContext,
        source: SourceResource,
        gohighlevel: GoHighLevelResource,
        state_store: StateStoreResource,
        mapping: MappingResource,
    ) -> dg.MaterializeResult:
        """Each day's first-time patients as GoHighLevel contacts (tagged, in the workflow, once), by patient id."""
        with retry_only_what_can_succeed():
            config = mapping.load().gohighlevel
            if config is None or not isinstance(source, ClinikoResource):
                raise dg.Failure(
                    "gohighlevel needs the mapping's gohighlevel section and a Cliniko source", allow_retries=False
                )
            window = SyncWindow.of(context)
            cliniko, ghl = source.client(), gohighlevel.client()
            before = (cliniko.calls, ghl.calls)
            first = appointments.first_bookings(cliniko, window)
            patients = appointments.patients(cliniko, list(first["patient_id"]), window)
            rows = contact_rows(first, patients, config, day_of=window.local_date)
            outcomes = onboard(ghl, state_store.store(), config, rows, window.days[0])
            add_day_metadata(context, window, {day: figures(first, outcomes, day) for day in window.days})
            return dg.MaterializeResult(
                metadata={
                    "run_new_patients": len(first),
                    "run_ghl_writes": int(outcomes["action"].isin(CHANGES).sum()),
                    "run_ghl_calls": ghl.calls - before[1],
                    "run_cliniko_calls": cliniko.calls - before[0],
                }
            )

    return gohighlevel_onboarding
