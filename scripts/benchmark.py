"""Benchmark the sync on the embedded simulators and print figures (no timing assertions anywhere).

    .venv/bin/python scripts/benchmark.py [--start 2026-10-05] [--days 14]

What it measures, for the same days, each scenario in a fresh temporary DAGSTER_HOME and its own subprocess
(this script again, with the hidden `--scenario` flag, so no state leaks between scenarios):

1. single run:  `run_sync(settings, first, last)` once, a single-run backfill over the whole range;
2. day by day:  `run_sync(settings, day, day)` for each day;
3. re-run:      the single run again on the state scenario 1 left behind (it must write nothing).

Per scenario: invoices synced (sum of `invoices_compared` on xero_reconciliation), Xero API calls (counted by
the simulated Xero itself, `/__sandbox__/stats`, token endpoint apart), Xero calls per invoice, Cliniko calls
(`api_calls` on source_records, once per run), wall time, and whether every day reconciled.

Then run wall time against the sum of step times for one day, read from the run's event log (STEP_START to
STEP_SUCCESS timestamps): the current shape in-process (`run_sync`) and through the Dagster CLI, and the previous
shape (commit f4c4d95: multiprocess executor, one process per step) through the same CLI, from a temporary git
worktree run with this venv's python. Last, the peak RSS of the benchmark and of its subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BEFORE_COMMIT = "f4c4d95"
STEP_DAY = "2026-10-14"
MARKER = "BENCHMARK-RESULT "
CLI = ["-m", "dagster", "asset", "materialize", "-m", "clinic_etl.definitions", "--select", "*"]
XERO_PER_MINUTE = 60  # the client's budget (the sandbox's resource keeps Xero's default)
SCENARIOS = {"single": "single run", "daily": "day by day", "rerun": "re-run"}


# ---- helpers shared by the parent and the scenario subprocesses


def fresh_home(root: str) -> str:
    """A new, empty DAGSTER_HOME under `root` (telemetry off, so Dagster's banner stays out of the output)."""
    home = tempfile.mkdtemp(prefix="home-", dir=root)
    Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def step_times(home: str, run_id: str | None = None) -> dict[str, Any]:
    """Step durations (STEP_START to STEP_SUCCESS), run span and step processes, from `home`'s event log."""
    os.environ["DAGSTER_HOME"] = home
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run_id = run_id or instance.get_runs(limit=1)[0].run_id
        entries = instance.all_logs(run_id)
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    stamps, pids = [], set()
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        stamps.append(entry.timestamp)
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
            pids.add(event.pid)
        elif event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = entry.timestamp - starts[event.step_key]
    return {"steps": steps, "run_span": max(stamps) - min(stamps), "step_pids": len(pids)}


# ---- one scenario, in its own subprocess


def xero_stats(settings: Any) -> dict[str, int]:
    """Calls served so far by the simulated Xero of this DAGSTER_HOME, by "METHOD path"."""
    import httpx

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


def day_metadata(result: Any, asset: str) -> list[dict[str, Any]]:
    """The asset's per-day materialization metadata in this run, plain values."""
    return [
        {k: getattr(v, "value", v) for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(asset)
    ]


def failures(result: Any) -> list[str]:
    """ "step: message" for each failed step of a run (the user's error, not Dagster's wrapper)."""
    found = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error.cause or event.step_failure_data.error
            found.append(f"{event.step_key}: {error.message.strip()[:300]}")
    return found


def run_scenario(name: str, home: str, first: str, last: str) -> dict[str, Any]:
    os.environ["DAGSTER_HOME"] = home
    from clinic_etl.run import run_sync
    from clinic_etl.settings import Settings

    settings = Settings.from_env()
    days = [(date.fromisoformat(first) + timedelta(n)).isoformat() for n in range(_span(first, last))]
    windows = [(d, d) for d in days] if name == "daily" else [(first, last)]
    before = xero_stats(settings)
    started = time.perf_counter()
    results = [run_sync(settings, a, b) for a, b in windows]
    wall = time.perf_counter() - started
    after = xero_stats(settings)
    calls = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    recs = [m for r in results for m in day_metadata(r, "xero_reconciliation")]
    sources = [day_metadata(r, "source_records") for r in results]
    figures: dict[str, Any] = {
        "runs": len(results),
        "runs_succeeded": sum(r.success for r in results),
        "failures": [f for r in results for f in failures(r)],
        "days": len(days),
        "days_reconciled": sum(bool(m.get("reconciled")) for m in recs),
        "days_with_reconciliation": len(recs),
        "invoices": sum(int(m.get("invoices_compared", 0)) for m in recs),
        "mismatches": sum(int(m.get("mismatches", 0)) for m in recs),
        "writes": sum(int(m.get("writes", 0)) for r in results for m in day_metadata(r, "xero_sync")),
        "cliniko_calls": sum(int(s[0]["api_calls"]) for s in sources if s),  # one figure per run
        "xero_calls": calls,
        "wall": wall,
        "peak_rss_mib": peak_rss_mib(),
    }
    if name == "steps":  # one day in-process: its step times, from this DAGSTER_HOME's event log
        figures.update(step_times(home, results[0].run_id))
    return figures


def _span(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1


# ---- the parent: launch the scenarios and print


def scenario(name: str, home: str, first: str, last: str) -> dict[str, Any]:
    """Run one scenario in a fresh subprocess of this script and return its figures."""
    command = [sys.executable, __file__, "--scenario", name, "--home", home, "--start", first, "--last", last]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        raise SystemExit(f"scenario {name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix(MARKER))


def xero_counts(calls: dict[str, int]) -> tuple[int, int, int]:
    """(API calls, token calls, write calls): API = api.xro and connections; writes = non-GET api.xro."""
    api = sum(n for k, n in calls.items() if "api.xro" in k or "connections" in k)
    token = sum(n for k, n in calls.items() if "connect/token" in k)
    writes = sum(n for k, n in calls.items() if "api.xro" in k and not k.startswith("GET "))
    return api, token, writes


def rate_limit_bound(calls: int) -> int:
    """Seconds Xero's per-tenant budget alone imposes on `calls` (a rolling minute: the first 60 need no wait)."""
    return max(calls - 1, 0) // XERO_PER_MINUTE * 60


def per_invoice(figures: dict[str, Any]) -> float:
    return xero_counts(figures["xero_calls"])[0] / max(int(figures["invoices"]), 1)


def print_scenario(label: str, f: dict[str, Any]) -> None:
    api, token, writes = xero_counts(f["xero_calls"])
    reconciled = f["days_reconciled"] == f["days"] == f["days_with_reconciliation"]
    print(f"{label} ({f['runs']} run{'s' if f['runs'] != 1 else ''}, {f['runs_succeeded']} succeeded)")
    for failure in f["failures"]:
        print(f"  FAILED step              {failure}")
    print(f"  invoices synced          {f['invoices']}")
    print(f"  Xero writes              {f['writes']} (Xero write calls {writes})")
    print(f"  Xero API calls           {api} (token calls {token}, not counted)")
    print(f"  xero calls per invoice   {per_invoice(f):.3f}")
    print(f"  Cliniko calls            {f['cliniko_calls']}")
    print(f"  wall time                {f['wall']:.1f} s")
    budget = f"{api} calls at {XERO_PER_MINUTE}/min, the first {XERO_PER_MINUTE} free"
    print(f"  Xero rate-limit bound    {rate_limit_bound(api)} s ({budget})")
    print(
        f"  every day reconciled     {'yes' if reconciled else 'NO'} "
        f"({f['days_reconciled']}/{f['days']} days, {f['mismatches']} mismatches)"
    )
    print(f"  peak RSS (subprocess)    {f['peak_rss_mib']:.0f} MiB")


def print_calls(single: dict[str, Any], daily: dict[str, Any], rerun: dict[str, Any]) -> None:
    one, many = per_invoice(single), per_invoice(daily)
    if one:
        print(
            f"comparison: single run {one:.3f} Xero calls per invoice vs day by day {many:.3f}: "
            f"day by day needs {many / one:.1f}x as many"
        )
        distinct = int(single["invoices"])  # the single run compares each invoice of the window once
        if daily["invoices"] != distinct:
            many = xero_counts(daily["xero_calls"])[0] / distinct
            print(
                f"  (day by day compares {daily['invoices']} invoices: one changed again on a later day is compared "
                f"again; per distinct invoice ({distinct}) it needs {many:.3f} calls, {many / one:.1f}x the single run)"
            )
    else:
        print("comparison: the single run synced no invoice")
    writes = xero_counts(rerun["xero_calls"])[2]
    if rerun["runs_succeeded"] < rerun["runs"]:
        verdict = "the re-run FAILED, so this proves nothing"
    else:
        verdict = "0 as required" if rerun["writes"] == 0 and writes == 0 else "NOT 0"
    print(f"re-run writes: {rerun['writes']}, Xero write calls: {writes} ({verdict})")


def cli_run(root: str, cwd: Path, pythonpath: str | None = None) -> dict[str, Any]:
    """`dagster asset materialize` of every asset for STEP_DAY in `cwd`, fresh DAGSTER_HOME: wall and step times."""
    home = fresh_home(root)
    env = {**os.environ, "DAGSTER_HOME": home}
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *CLI, "--partition", STEP_DAY], cwd=cwd, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"dagster asset materialize failed (exit {done.returncode}): {done.stderr[-1500:]}")
    return {"wall": wall, **step_times(home)}


def before_shape(root: str) -> dict[str, Any]:
    """The previous shape (BEFORE_COMMIT) through the CLI, from a temporary git worktree removed afterwards."""
    worktree = Path(root) / BEFORE_COMMIT
    git = ["git", "-C", str(REPO), "worktree"]
    subprocess.run([*git, "add", "--detach", str(worktree), BEFORE_COMMIT], check=True, capture_output=True, text=True)
    try:
        return cli_run(root, worktree, pythonpath=str(worktree))
    finally:
        subprocess.run([*git, "remove", "--force", str(worktree)], capture_output=True)


def print_step_line(label: str, f: dict[str, Any]) -> None:
    steps, pids = sum(f["steps"].values()), f["step_pids"]
    print(
        f"  {label:<32} wall {f['wall']:5.2f} s  run span {f['run_span']:5.2f} s  steps {steps:4.2f} s  "
        f"wall/steps {f['wall'] / steps:4.1f}x  span/steps {f['run_span'] / steps:4.1f}x  "
        f"({len(f['steps'])} steps in {pids} process{'es' if pids != 1 else ''})"
    )


def print_step_times(root: str) -> None:
    print(f"run wall time vs step time, one day ({STEP_DAY})")
    print("  (wall: the run_sync call or the whole CLI process; run span: first to last event of the run's log;")
    print("   steps: sum of STEP_START to STEP_SUCCESS over the steps)")
    print_step_line("after, in-process run_sync", scenario("steps", fresh_home(root), STEP_DAY, STEP_DAY))
    print_step_line("after, dagster CLI", cli_run(root, REPO))
    try:
        before = before_shape(root)
    except (subprocess.CalledProcessError, RuntimeError, IndexError, KeyError) as error:
        detail = getattr(error, "stderr", None) or error
        print(f"  before ({BEFORE_COMMIT}): not measured, the worktree route failed: {str(detail).strip()}"[:600])
    else:
        print_step_line(f"before ({BEFORE_COMMIT}), dagster CLI", before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="2026-10-05")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "steps"], help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--last", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:  # inside a scenario subprocess: run it, hand the figures back on stdout
        print(MARKER + json.dumps(run_scenario(args.scenario, args.home, args.start, args.last)))
        return

    first = date.fromisoformat(args.start)
    last = (first + timedelta(args.days - 1)).isoformat()
    print(f"clinic_etl benchmark: {args.days} days, {first} to {last}, embedded simulators")
    print()
    with tempfile.TemporaryDirectory(prefix="clinic-etl-bench-") as root:
        home = fresh_home(root)
        single = scenario("single", home, first.isoformat(), last)
        daily = scenario("daily", fresh_home(root), first.isoformat(), last)
        rerun = scenario("rerun", home, first.isoformat(), last)  # on the state the single run left
        for name, figures in zip(SCENARIOS.values(), (single, daily, rerun), strict=True):
            print_scenario(name, figures)
        print()
        print_calls(single, daily, rerun)
        print()
        print_step_times(root)
    print()
    print(
        f"peak RSS: benchmark process {peak_rss_mib():.0f} MiB, "
        f"largest subprocess {peak_rss_mib(resource.RUSAGE_CHILDREN):.0f} MiB"
    )


if __name__ == "__main__":
    main()
