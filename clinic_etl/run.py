"""Run the sync job for a day or a range of days (one run, a single-run backfill) in this process, report progress
while it works, and read back what each day did from the run's own materializations."""

from __future__ import annotations

import contextlib
import io
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import dagster as dg

from clinic_etl.definitions import SYNC_JOB, build_definitions
from clinic_etl.settings import Settings

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
STAGES = ("source_records", "practice_ledger", "xero_documents", "xero_sync", "xero_reconciliation")
ENGAGE = ("gohighlevel_onboarding", "mailchimp_follow_ups")  # on when the mapping file has their sections
OUTAGES = frozenset(
    {"ApiConnectionError", "InternalServerError", "AuthenticationError", "PermissionDeniedError", "QuotaSpent"}
)
CONFIGURATION = frozenset({"MappingMismatch", "ModeSwitch"})  # the mapping must change before a run can go on
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the CLI reports what happened itself

Progress = Callable[[str, str], None]  # (stage, "started" | "done" | "failed")


@dataclass
class DayFigures:
    """One day's results, from the run's per-partition materializations (ids and amounts only)."""

    day: str
    ledger: dict[str, object] = field(default_factory=dict)
    documents: dict[str, object] = field(default_factory=dict)
    load: dict[str, object] = field(default_factory=dict)
    reconciliation: dict[str, object] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return int(self.load.get(key, 0) or 0)

    @property
    def written(self) -> dict[str, int]:
        return {
            e: sum(self.count(f"{e}_{a}") for a in ("created", "updated", "adopted")) for e in ("invoice", "payment")
        }

    @property
    def skipped(self) -> int:
        return self.count("invoice_skipped") + self.excluded

    @property
    def excluded_by_rule(self) -> dict[str, dict]:
        """rule -> {"records", "amount", "ids"}: what each rule kept out of Xero that day."""
        found = self.documents.get("excluded_by_rule") or {}
        return found if isinstance(found, dict) else {}

    @property
    def excluded(self) -> int:
        """Source records a named rule keeps out of Xero (trust money, ...)."""
        return int(self.documents.get("excluded", self.ledger.get("excluded", 0)) or 0)

    @property
    def quarantined(self) -> int:
        return int(self.reconciliation.get("quarantined", self.ledger_held) or 0)

    @property
    def ledger_held(self) -> int:
        """Records the run itself held back (ledger and Xero-frame stages, and refused writes)."""
        held = (self.ledger.get("quarantined"), self.documents.get("quarantined"), self.load.get("failed"))
        return sum(int(n or 0) for n in held)

    @property
    def reconciled(self) -> bool:
        return bool(self.reconciliation.get("reconciled"))

    def money(self, key: str) -> Decimal:
        return Decimal(str(self.reconciliation.get(key, "0") or "0"))

    @property
    def in_xero(self) -> Decimal:
        """Xero's total for the day as read back; in a dry run (nothing read back), the total it would have."""
        if self.reconciliation:
            return self.money("xero_total")
        return Decimal(str(self.documents.get("invoice_total", "0") or "0"))


@dataclass
class SyncRun:
    result: dg.ExecuteInProcessResult
    first: str
    last: str
    days: list[DayFigures]
    failures: list[tuple[str, str, str]]  # (step, error class, message)
    source_calls: int
    dry_run: bool = False
    engage: dict[str, dict[str, object]] = field(default_factory=dict)  # ENGAGE asset -> the run's figures

    @property
    def by_tenant(self) -> dict[str, dict[str, object]]:
        """Per Xero organisation: what the run wrote (a dry run: would write), records per entity and action."""
        for day in reversed(self.days):
            plans = day.load.get("run_by_tenant")
            if isinstance(plans, dict):
                return plans
        return {}

    @property
    def outage(self) -> bool:
        return any(kind in OUTAGES for _, kind, _ in self.failures)

    @property
    def reconciled(self) -> bool:
        if self.dry_run:  # nothing to read back: the plan passes when nothing would be held back
            return self.result.success and bool(self.days) and not any(d.ledger_held for d in self.days)
        return self.result.success and bool(self.days) and all(d.reconciled for d in self.days)

    @property
    def exit_code(self) -> int:
        """0 everything reconciled; 1 money held back or not proven; 2 the mapping must change (nothing was written);
        3 an outage (nothing to fix in the data)."""
        if self.reconciled:
            return 0
        if any(kind in CONFIGURATION for _, kind, _ in self.failures):
            return 2
        return 3 if self.outage else 1


def _by_day(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict[str, object]]:
    return {
        str(m.partition): {k: getattr(v, "value", v) for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(asset)
    }


def _failures(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, str]]:
    out = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
                error = error.cause
            metadata = (
                event.step_failure_data.user_failure_data.metadata if event.step_failure_data.user_failure_data else {}
            )
            if error.cls_name == "DagsterAssetCheckFailedError":  # the day's verdict says which and why
                continue
            kind = str(getattr(metadata.get("error"), "value", "") or error.cls_name)
            out.append((str(event.step_key), kind, error.message.strip().splitlines()[0][:500]))
    return out


def _watch(instance: dg.DagsterInstance, run_id: str, progress: Progress, stop: threading.Event) -> None:
    """Report step starts and ends as the run's events arrive (the job runs in this process's main thread)."""
    seen: set[tuple[str, str]] = set()
    kinds = {dg.DagsterEventType.STEP_START: "started", dg.DagsterEventType.STEP_SUCCESS: "done"}
    kinds[dg.DagsterEventType.STEP_FAILURE] = "failed"
    while True:
        done = stop.wait(0.2)
        for record in instance.all_logs(run_id, of_type=set(kinds)):
            event = record.dagster_event
            if event is not None and (event.step_key, event.event_type_value) not in seen:
                seen.add((str(event.step_key), event.event_type_value))
                progress(str(event.step_key), kinds[event.event_type])
        if done:
            return


def run_sync(
    settings: Settings, first: str, last: str, progress: Progress | None = None, *, dry_run: bool = False
) -> SyncRun:
    """One in-process run of the sync job over the days [first, last]. A dry run reads the source and Xero, plans
    every write and sends none, records nothing, and leaves no run in the history (an ephemeral instance)."""
    job = build_definitions(settings, dry_run=dry_run).resolve_job_def(SYNC_JOB)
    with contextlib.redirect_stderr(io.StringIO()):  # "No dagster.yaml found ...": Dagster's notice, not ours
        keep = settings.dagster_home and not dry_run
        instance = dg.DagsterInstance.get() if keep else dg.DagsterInstance.ephemeral()
    selection = {"asset_selection": [dg.AssetKey(s) for s in STAGES[:-1]]} if dry_run else {}
    window = {"partition_key": first} if first == last else {"tags": {RANGE_START: first, RANGE_END: last}}
    run_id = str(uuid.uuid4())
    stop = threading.Event()
    watcher = (
        threading.Thread(target=_watch, args=(instance, run_id, progress, stop), daemon=True) if progress else None
    )
    if watcher:
        watcher.start()
    try:  # Dagster's own banners and warnings stay out of the CLI's output; what matters is read back below
        with contextlib.redirect_stderr(io.StringIO()):
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET, run_id=run_id, **window, **selection
            )
    finally:
        stop.set()
        if watcher:
            watcher.join(timeout=5)
    ledger, documents, load, rec = (
        _by_day(result, a) for a in ("practice_ledger", "xero_documents", "xero_sync", "xero_reconciliation")
    )
    days = [
        DayFigures(d, ledger.get(d, {}), documents.get(d, {}), load.get(d, {}), rec.get(d, {})) for d in sorted(ledger)
    ]
    raw = next(iter(_by_day(result, "source_records").values()), {})
    calls = int(raw.get("api_calls", 0) or 0)
    return SyncRun(result, first, last, days, _failures(result), calls, dry_run, _engage(result))


def _engage(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    """The outbound assets' figures for the whole run: each day's counts summed, the last day's overdue list (the
    follow-ups are sent as of the run's last day) and the run's own figures."""
    out: dict[str, dict[str, object]] = {}
    for asset in ENGAGE:
        days = _by_day(result, asset)
        if not days:
            continue
        last = days[max(days)]
        totals: dict[str, object] = {}
        for figures in days.values():
            for key, value in figures.items():
                if isinstance(value, int) and not isinstance(value, bool) and not key.startswith(("run_", "overdue")):
                    totals[key] = int(totals.get(key, 0) or 0) + value
        totals |= {k: v for k, v in last.items() if k.startswith(("run_", "overdue_")) or k == "as_of"}
        exact = last.get("amounts")
        if isinstance(exact, dict) and "overdue_total" in exact:
            totals["overdue_total"] = exact["overdue_total"]
        out[asset] = totals
    return out
