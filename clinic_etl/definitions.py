"""The one Definitions of clinic_etl: the sync graph, its checks, resources, job and schedule.

Built from the settings when Dagster loads the code location (never at import), so `dagster dev`,
`dagster asset materialize -m clinic_etl.definitions` and `clinic-etl` see the same thing. A bad setting stops
the load with one line naming the variable and the fix.
"""

from __future__ import annotations

import warnings

import dagster as dg

from clinic_etl.alerts import alert_sensors
from clinic_etl.assets import sync_assets
from clinic_etl.assets.engage import engage_assets
from clinic_etl.deployment import engage_resources, resources
from clinic_etl.mapping import MappingError, load_mapping
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources.dry_run import DRY_RUN_TAG
from clinic_etl.settings import Settings, SettingsError

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

SYNC_JOB = "daily_sync"
DRY_RUN_JOB = "dry_run_sync"
PLAN_STAGES = ("source_records", "practice_ledger", "xero_documents", "xero_sync")


def build_definitions(settings: Settings, *, dry_run: bool = False) -> dg.Definitions:
    mapping = load_mapping(settings.config_path)  # a bad mapping file stops here, before any run
    partitions = daily_partitions(settings)
    assets = sync_assets(partitions) + engage_assets(partitions, mapping)  # engage: off unless in the mapping
    # The steps are short and sequential and pass personal data in memory: one process per run, no per-step
    # process start-up (which dominated a daily run's wall time) and nothing pickled to disk.
    job = dg.define_asset_job(
        SYNC_JOB, selection=dg.AssetSelection.assets(*assets), executor_def=dg.in_process_executor
    )
    # the plan without the writes: Xero read, nothing sent, nothing recorded (the proof and the outbound systems left
    # out); per tenant in the run's metadata, as `clinic-etl sync D --dry-run` prints it
    plan_only = dg.define_asset_job(
        DRY_RUN_JOB,
        selection=dg.AssetSelection.assets(*[a for a in assets if a.key.path[-1] in PLAN_STAGES]),
        executor_def=dg.in_process_executor,
        tags={DRY_RUN_TAG: "true"},
    )
    return dg.Definitions(
        assets=assets,
        jobs=[job, plan_only],
        # at 03:00 practice time, sync the day that just ended
        schedules=[dg.build_schedule_from_partitioned_job(job, hour_of_day=3)],
        # a failed run, a failed check: a webhook and/or an e-mail, when configured (CLINIC_ETL_ALERT_*)
        sensors=alert_sensors() if settings.alerts_on and not dry_run else [],
        resources={**resources(settings, dry_run=dry_run), **engage_resources(settings, mapping)},
        executor=dg.in_process_executor,
    )


def load_settings() -> Settings:
    """The environment's settings, or exit with one line naming the variable and the fix (no traceback)."""
    try:
        settings = Settings.from_env()
        load_mapping(settings.config_path)
    except (SettingsError, MappingError) as error:
        raise SystemExit(f"clinic-etl: {error}") from None
    return settings


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    try:
        return build_definitions(settings)
    except SettingsError as error:  # e.g. the sandbox chosen without the [sandbox] extra installed
        raise SystemExit(f"clinic-etl: {error}") from None
