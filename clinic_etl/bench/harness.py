"""One scenario's sync runs on scaled simulators, in a fresh DAGSTER_HOME, and what they cost.

The job is the product's own (`build_definitions`), with the sandbox resources swapped for the same classes set to
the benchmark's time scale and practice shape. The simulated Xero counts every call it serves, refused ones
included (`/__sandbox__/stats`); Cliniko's requests are the extract's own count (`api_calls` on source_records).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import os
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from clinic_etl.settings import Settings

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
WRITTEN = ("created", "updated", "adopted", "voided", "deleted")


def fresh_home(root: str) -> str:
    """A new, empty DAGSTER_HOME under `root` (telemetry off, so Dagster's banner stays out of the output)."""
    home = tempfile.mkdtemp(prefix="home-", dir=root)
    Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def sandbox_settings(home: str, mode: str = "detailed") -> Settings:
    """The embedded sandbox with default mapping in `home` (in `mode`: detailed or summary), whatever this shell's
    CLINIC_ETL_* / XERO_* say."""
    os.environ["DAGSTER_HOME"] = home  # Dagster's instance reads it from the environment
    if mode == "detailed":
        return Settings.from_env({"DAGSTER_HOME": home})
    mapping = os.path.join(home, f"{mode}.yaml")
    with open(mapping, "w", encoding="utf-8") as file:
        file.write(f"mode: {mode}\n")
    return Settings.from_env({"DAGSTER_HOME": home, "CLINIC_ETL_CONFIG": mapping})


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mib() -> float:
    """This process's resident memory now (not its peak), after a garbage collection and, on glibc, handing freed
    heap pages back to the system, so that it counts what is still held rather than what the allocator keeps."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def xero_calls(settings: Settings) -> dict[str, int]:
    """Calls served so far by the simulated Xero of this DAGSTER_HOME, by "METHOD path"."""
    from clinic_etl.sandbox.transport import InProcessTransport
    from clinic_etl.sandbox.xero import create_app

    path = settings.state_dir / "sandbox" / "xero.sqlite"
    if not path.exists():
        return {}
    transport = InProcessTransport(create_app(str(path)))
    with httpx.Client(transport=transport, base_url="http://xero.sandbox") as http:
        calls = http.get("/__sandbox__/stats").json()["calls"]
    transport.close()
    return calls


def count_calls(calls: dict[str, int]) -> dict[str, int]:
    """API calls (accounting and connections), of which rate-limited (accounting) and writes, and token calls."""
    return {
        "api": sum(n for k, n in calls.items() if "api.xro" in k or "connections" in k),
        "limited": sum(n for k, n in calls.items() if "api.xro" in k),
        "writes": sum(n for k, n in calls.items() if "api.xro" in k and not k.startswith("GET ")),
        "token": sum(n for k, n in calls.items() if "connect/token" in k),
    }


def job(settings: Settings, time_scale: float, shape: dict[str, Any]) -> dg.JobDefinition:
    """The product's sync job on the sandbox at `time_scale`, the Cliniko simulator serving a practice of `shape`."""
    from clinic_etl.definitions import SYNC_JOB, build_definitions
    from clinic_etl.sandbox.resources import PracticeShape, SandboxClinikoResource, SandboxXeroResource

    defs = build_definitions(settings)
    xero = SandboxXeroResource(
        state_path=str(settings.state_dir / "sandbox" / "xero.sqlite"),
        budget_path=str(settings.state_dir / "budgets.sqlite"),
        time_scale=time_scale,
    )
    source = SandboxClinikoResource(time_scale=time_scale, shape=PracticeShape(**shape))
    resources = {**(defs.resources or {}), "source": source, "xero": xero}
    bench = dg.Definitions(assets=defs.assets, jobs=defs.jobs, resources=resources, executor=defs.executor)
    return bench.resolve_job_def(SYNC_JOB)


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> list[dict[str, Any]]:
    return [
        {k: getattr(v, "value", v) for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(asset)
    ]


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    found = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error.cause or event.step_failure_data.error
            found.append(f"{event.step_key}: {error.message.strip()[:300]}")
    return found


@dataclass
class Runs:
    """What a scenario's runs did, summed over them."""

    runs: int = 0
    succeeded: int = 0
    failures: list[str] = field(default_factory=list)
    days: int = 0
    days_reconciled: int = 0
    invoices: int = 0  # compared by the reconciliation (a day-by-day run compares an invoice changed later again)
    source_invoices: int = 0  # the source's invoices of the run's days, as the ledger counts them
    mismatches: int = 0
    written: dict[str, int] = field(default_factory=dict)  # contact / invoice / payment -> records written
    cliniko_calls: int = 0
    extracted: int = 0  # records the extracts read (every row of every list)
    wall: float = 0.0
    rss_after_run: list[float] = field(default_factory=list)
    peak_rss: float = 0.0

    def add(self, result: dg.ExecuteInProcessResult, wall: float) -> None:
        self.runs += 1
        self.succeeded += result.success
        self.failures += _failures(result)
        recs = _metadata(result, "xero_reconciliation")
        recs = [m for m in recs if "invoices_compared" in m]
        self.days += len(recs)
        self.days_reconciled += sum(bool(m.get("reconciled")) for m in recs)
        self.invoices += sum(int(m.get("invoices_compared", 0)) for m in recs)
        self.mismatches += sum(int(m.get("mismatches", 0)) for m in recs)
        self.source_invoices += sum(int(m.get("invoices", 0) or 0) for m in _metadata(result, "practice_ledger"))
        for m in _metadata(result, "xero_sync"):
            for entity in ("contact", "invoice", "payment"):
                n = sum(int(m.get(f"{entity}_{action}", 0) or 0) for action in WRITTEN)
                self.written[entity] = self.written.get(entity, 0) + n
        source = _metadata(result, "source_records")
        if source:  # the extract's figures are the run's, repeated on each of its days
            self.cliniko_calls += int(source[0].get("api_calls", 0))
            self.extracted += sum(int(v) for k, v in source[0].items() if k.startswith("rows_"))
        self.wall += wall
        self.rss_after_run.append(rss_mib())
        self.peak_rss = peak_rss_mib()


def run_window(job_def: dg.JobDefinition, first: str, last: str, runs: Runs) -> None:
    """One in-process run of the sync job over [first, last] (a single-run backfill when first < last)."""
    with contextlib.redirect_stderr(io.StringIO()):  # Dagster's banners and warnings stay out of the output
        instance = dg.DagsterInstance.get()
        window = {"partition_key": first} if first == last else {"tags": {RANGE_START: first, RANGE_END: last}}
        started = time.perf_counter()
        result = job_def.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET, run_id=str(uuid.uuid4()), **window
        )
        wall = time.perf_counter() - started
    runs.add(result, wall)
