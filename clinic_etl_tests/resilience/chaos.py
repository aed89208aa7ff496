"""Seeded chaos over several sandbox days: the practice edited between runs, faults injected before and during
each run, then one clean run; what Xero holds must equal the fault-free scenario with the same days and edits.

Faults (each run's schedule drawn from `random.Random(seed)`, the edits from another generator of the same seed,
so the fault-free reference gets exactly the same edits):

- 429 bursts: the simulated Xero answers 429 with Retry-After 1, once or twice, on a resource (reads, writes, the
  token endpoint);
- 5xx: 500, 502 or 503 before the request is handled;
- drops after write: 500, 502 or 503 after the write was committed (Xero wrote it, the reply is lost);
- timeouts: the simulator has no way to stall a request, so the test's transport makes them: a connect timeout
  before the request reaches Xero, or a read timeout after Xero handled a write (the reply is lost, like a drop);
- faults queued during a run, when its N-th Xero write returns (what the next calls meet).

A run meets at most `MAX_HITS` faults (leftovers are cleared before the next run's), fewer than the HTTP core's
6 attempts of one request, so no step gives up and waits for Dagster's 30 s retry. The sync's own real behaviour
is untouched: the HTTP core sleeps Retry-After and its 1..32 s backoff for real.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clinic_etl.sandbox.cliniko import build_practice
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl_tests.resilience import harness

DAYS = ("2026-10-13", "2026-10-14", "2026-10-15", "2026-10-16")
MAX_HITS = 4
FAULTS_PER_RUN = 3
EDITS_PER_GAP = 4
ACCOUNTING = "/api.xro/2.0/"
# where faults are aimed: calls every day's run makes (the writes weighted), and the edits' POSTs
ANYWHERE = [
    ("/api.xro/2.0/Contacts", "PUT"),
    ("/api.xro/2.0/Invoices", "PUT"),
    ("/api.xro/2.0/Invoices", "PUT"),
    ("/api.xro/2.0/Payments", "PUT"),
    ("/api.xro/2.0/Payments", "PUT"),
    ("/api.xro/2.0/Invoices", "GET"),
    ("/api.xro/2.0/Contacts", "GET"),
    ("/api.xro/2.0/Accounts", "GET"),
    ("/connect/token", "POST"),
    ("/api.xro/2.0/Invoices", "POST"),
    ("/api.xro/2.0/Payments/", "POST"),
]
WRITES = [(prefix, method) for prefix, method in ANYWHERE if method in ("PUT", "POST") and "api.xro" in prefix]


@dataclass
class RunPlan:
    day: str
    queued: list[dict] = field(default_factory=list)  # faults queued before the run
    during: dict[int, dict] = field(default_factory=dict)  # N-th Xero write -> a fault queued when it returns
    timeouts: dict[int, str] = field(default_factory=dict)  # N-th Xero API request -> "connect" / "read"
    write_timeouts: dict[int, str] = field(default_factory=dict)  # N-th Xero write request -> "read"

    @property
    def hits(self) -> int:
        faults = [*self.queued, *self.during.values()]
        return sum(f["count"] for f in faults) + len(self.timeouts) + len(self.write_timeouts)


def _fault(rng: random.Random) -> dict:
    kind = rng.choice(["429", "5xx", "drop", "drop"])
    if kind == "429":
        prefix, method = rng.choice(ANYWHERE)
        return {"path_prefix": prefix, "method": method, "status": 429, "count": rng.choice([1, 2]), "retry_after": 1}
    if kind == "5xx":
        prefix, method = rng.choice(ANYWHERE)
        return {"path_prefix": prefix, "method": method, "status": rng.choice([500, 502, 503]), "count": 1}
    prefix, method = rng.choice(WRITES)
    return {
        "path_prefix": prefix,
        "method": method,
        "status": rng.choice([500, 502, 503]),
        "count": 1,
        "after_write": True,
    }


def plan(
    seed: int, days: tuple[str, ...] | list[str], max_hits: int = MAX_HITS, per_run: int = FAULTS_PER_RUN
) -> list[RunPlan]:
    """Each run's faults (1 to `per_run` drawn, at most `max_hits` hits), a function of the arguments only."""
    rng = random.Random(f"faults-{seed}")
    plans = []
    for day in days:
        run = RunPlan(day)
        for _ in range(rng.randint(1, per_run)):
            where = rng.choice(["queued", "queued", "during", "timeout", "write_timeout"])
            fault = _fault(rng) if where in ("queued", "during") else None
            if run.hits + (fault["count"] if fault else 1) > max_hits:
                continue  # keep below the HTTP core's attempts of one request
            if where == "queued":
                run.queued.append(fault)
            elif where == "during":
                run.during.setdefault(rng.randint(1, 4), fault)
            elif where == "timeout":
                run.timeouts.setdefault(rng.randint(1, 12), rng.choice(["connect", "read"]))
            else:
                run.write_timeouts.setdefault(rng.randint(1, 4), "read")
        plans.append(run)
    return plans


@contextmanager
def transport_timeouts(plan: RunPlan, counts: dict[str, int]) -> Iterator[None]:
    """Time out the chosen requests to the simulated Xero (the accounting API only): "connect" before the request
    reaches it, "read" after it was handled (its reply lost)."""
    original = InProcessTransport.handle_request
    seen = {"request": 0, "write": 0}

    def handle(self: InProcessTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host != "xero.sandbox" or not request.url.path.startswith(ACCOUNTING):
            return original(self, request)
        seen["request"] += 1
        kind = plan.timeouts.get(seen["request"])
        if request.method in ("PUT", "POST"):
            seen["write"] += 1
            kind = kind or plan.write_timeouts.get(seen["write"])
        if kind == "connect":
            counts["timeouts"] += 1
            raise httpx.ConnectTimeout("injected: connect timeout", request=request)
        response = original(self, request)
        if kind == "read":
            counts["timeouts"] += 1
            raise httpx.ReadTimeout("injected: read timeout, the reply is lost", request=request)
        return response

    InProcessTransport.handle_request = handle  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessTransport.handle_request = original  # type: ignore[method-assign]


@dataclass
class Figures:
    seed: int
    days: list[str]
    runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    faults_queued: int = 0  # injected through /__sandbox__/faults (counts summed)
    faults_hit: int = 0
    timeouts: int = 0
    edits: list[str] = field(default_factory=list)
    seconds: float = 0.0
    duplicates: list[str] = field(default_factory=list)
    missing: int = 0
    extra: int = 0
    changed: int = 0
    differences: dict[str, Any] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences and not self.duplicates

    def line(self) -> str:
        return (
            f"seed {self.seed}: {self.runs} runs ({len(self.failed_runs)} failed), {self.faults_hit} of "
            f"{self.faults_queued} queued faults hit, {self.timeouts} timeouts, {len(self.edits)} edits; "
            f"duplicates {len(self.duplicates)}, missing {self.missing}, extra {self.extra}, changed {self.changed}; "
            f"final state equal: {'yes' if self.equal else 'NO'} ({self.seconds:.0f} s)"
        )


def _queue(state: str, fault: dict, figures: Figures) -> None:
    harness.admin(state, "POST", "/__sandbox__/faults", json=fault)
    figures.faults_queued += fault["count"]


def _clear_faults(state: str) -> int:
    """Drop the faults no request met; returns how many hits they had left."""
    left = harness.admin(state, "GET", "/__sandbox__/faults")["faults"]
    harness.admin(state, "DELETE", "/__sandbox__/faults")
    return sum(f["count"] for f in left)


def scenario(
    home: Path,
    seed: int,
    days: tuple[str, ...] | list[str] = DAYS,
    *,
    faults: bool = True,
    ttl: float = harness.WINDOW_S,
    real_limits: bool = False,
    edits_per_gap: int = EDITS_PER_GAP,
    max_hits: int = MAX_HITS,
    faults_per_run: int = FAULTS_PER_RUN,
) -> tuple[Figures, dict, list[str]]:
    """Run the days one by one (edits before each but the first; faults if `faults`), then one clean run over the
    whole window. Returns the figures, the snapshot of Xero and its duplicates."""
    started = time.monotonic()
    days = list(days)
    figures = Figures(seed, days)
    practice = copy.deepcopy(build_practice())
    edit_rng = random.Random(f"edits-{seed}")
    limits: dict[str, Any] = {} if real_limits else {"budgets": False, "minute_limit": 10_000}
    state = harness.xero_state(harness.prepare_home(home))
    plans = plan(seed, days, max_hits, faults_per_run) if faults else [RunPlan(day) for day in days]
    for index, run_plan in enumerate(plans):
        if index:
            figures.edits += [
                f"{run_plan.day}: {e}"
                for e in harness.random_edits(edit_rng, practice, days[:index], run_plan.day, edits_per_gap)
            ]
        if faults:
            figures.faults_hit -= _clear_faults(state)
        for fault in run_plan.queued:
            _queue(state, fault, figures)
        counts = {"timeouts": 0}

        def during(point: dict, run_plan: RunPlan = run_plan) -> None:
            if point["kind"] == "write" and point["index"] in run_plan.during:
                _queue(state, run_plan.during[point["index"]], figures)

        with harness.write_points(during), transport_timeouts(run_plan, counts):
            result = harness.run(home, run_plan.day, practice=practice, ttl=ttl, **limits)
        figures.runs += 1
        figures.timeouts += counts["timeouts"]
        if not result.success:
            figures.failed_runs.append(f"{run_plan.day}: {', '.join(harness.failed_steps(result))}")
    if faults:
        figures.faults_hit -= _clear_faults(state)
        figures.faults_hit += figures.faults_queued
    final = harness.run(home, days[0], days[-1], practice=practice, ttl=ttl, **limits)  # clean: faults exhausted
    figures.runs += 1
    if not final.success:
        figures.failed_runs.append(f"final {days[0]}..{days[-1]}: {', '.join(harness.failed_steps(final))}")
    state_now, duplicates = harness.snapshot(state)
    figures.seconds = time.monotonic() - started
    return figures, state_now, duplicates


def compare(figures: Figures, expected: dict, got: dict, duplicates: list[str]) -> Figures:
    figures.duplicates = duplicates
    figures.differences = harness.differences(expected, got)
    figures.missing = sum(len(d.get("missing", [])) for d in figures.differences.values())
    figures.extra = sum(len(d.get("extra", [])) for d in figures.differences.values())
    figures.changed = sum(len(d.get("changed", [])) for d in figures.differences.values())
    return figures


def chaos_against_reference(tmp: Path, seed: int, days: tuple[str, ...] | list[str] = DAYS, **options: Any) -> Figures:
    """The fault-free scenario and the chaotic one of the same seed (same edits), compared."""
    reference, expected, ref_duplicates = scenario(tmp / f"reference-{seed}", seed, days, faults=False, **options)
    assert not ref_duplicates and not reference.failed_runs, (ref_duplicates, reference.failed_runs)
    figures, got, duplicates = scenario(tmp / f"chaos-{seed}", seed, days, faults=True, **options)
    return compare(figures, expected, got, duplicates)
