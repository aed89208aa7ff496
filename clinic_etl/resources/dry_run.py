"""A dry run launched from Dagster: the `dry_run_sync` job tags its runs, and the Xero and state-store resources
read the tag when the run starts (Xero read, every write planned and none sent; the state store read, nothing
recorded). The CLI's `--dry-run` sets the resources' own `dry_run` instead."""

from __future__ import annotations

import dagster as dg

DRY_RUN_TAG = "clinic_etl/dry_run"


def tagged_dry_run(context: dg.InitResourceContext) -> bool:
    run = getattr(context, "run", None)
    return bool(run is not None and run.tags.get(DRY_RUN_TAG) == "true")
