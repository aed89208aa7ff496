"""Run wall time against step time for one day: what Dagster's executor costs around the sync's own work.

    .venv/bin/python scripts/benchmark.py [--day 2026-10-14]

The figures of the sync itself (Xero calls per invoice for a month's backfill and for daily runs, the per-record
comparison, wall time against the rate-limit bound, a large clinic, transform throughput and memory) are
`clinic-etl bench`'s (see the README and BENCHMARKS.md). This script keeps the one comparison that command does
not make: for one day, the run's wall time against the sum of its step times (read from the run's event log,
STEP_START to STEP_SUCCESS), for the current shape in-process (`run_sync`) and through the Dagster CLI, and for
the previous shape (commit f4c4d95: multiprocess executor, one process per step) through the same CLI, from a
temporary git worktree run with this venv's python. Each run gets a fresh DAGSTER_HOME; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from clinic_etl.bench.harness import fresh_home

REPO = Path(__file__).resolve().parent.parent
BEFORE_COMMIT = "f4c4d95"
MARKER = "BENCHMARK-RESULT "
CLI = ["-m", "dagster", "asset", "materialize", "-m", "clinic_etl.definitions", "--select", "*"]


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


def in_process(home: str, day: str) -> dict[str, Any]:
    """`run_sync` of one day in this process (the subprocess of `--in-process`), with its step times."""
    os.environ["DAGSTER_HOME"] = home
    from clinic_etl.run import run_sync
    from clinic_etl.settings import Settings

    started = time.perf_counter()
    run = run_sync(Settings.from_env({"DAGSTER_HOME": home}), day, day)
    wall = time.perf_counter() - started
    return {"wall": wall, **step_times(home, run.result.run_id)}


def in_process_run(root: str, day: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--in-process", fresh_home(root), "--day", day]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    found = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not found:
        raise SystemExit(f"the in-process run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(found[-1].removeprefix(MARKER))


def cli_run(root: str, cwd: Path, day: str, pythonpath: str | None = None) -> dict[str, Any]:
    """`dagster asset materialize` of every asset for `day` in `cwd`, fresh DAGSTER_HOME: wall and step times."""
    home = fresh_home(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "CLINIKO_", "XERO_"))}
    env["DAGSTER_HOME"] = home
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *CLI, "--partition", day], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"dagster asset materialize failed (exit {done.returncode}): {done.stderr[-1500:]}")
    return {"wall": wall, **step_times(home)}


def before_shape(root: str, day: str) -> dict[str, Any]:
    """The previous shape (BEFORE_COMMIT) through the CLI, from a temporary git worktree removed afterwards."""
    worktree = Path(root) / BEFORE_COMMIT
    git = ["git", "-C", str(REPO), "worktree"]
    subprocess.run([*git, "add", "--detach", str(worktree), BEFORE_COMMIT], check=True, capture_output=True, text=True)
    try:
        return cli_run(root, worktree, day, pythonpath=str(worktree))
    finally:
        subprocess.run([*git, "remove", "--force", str(worktree)], capture_output=True)


def print_step_line(label: str, f: dict[str, Any]) -> None:
    steps, pids = sum(f["steps"].values()), f["step_pids"]
    print(
        f"  {label:<32} wall {f['wall']:5.2f} s  run span {f['run_span']:5.2f} s  steps {steps:4.2f} s  "
        f"wall/steps {f['wall'] / steps:4.1f}x  span/steps {f['run_span'] / steps:4.1f}x  "
        f"({len(f['steps'])} steps in {pids} process{'es' if pids != 1 else ''})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", default="2026-10-14")
    parser.add_argument("--in-process", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:  # inside the subprocess: run the day, hand the figures back on stdout
        print(MARKER + json.dumps(in_process(args.in_process, args.day)))
        return
    print(f"run wall time vs step time, one day ({args.day})")
    print("  (wall: the run_sync call or the whole CLI process; run span: first to last event of the run's log;")
    print("   steps: sum of STEP_START to STEP_SUCCESS over the steps)")
    with tempfile.TemporaryDirectory(prefix="clinic-etl-steps-") as root:
        print_step_line("after, in-process run_sync", in_process_run(root, args.day))
        print_step_line("after, dagster CLI", cli_run(root, REPO, args.day))
        try:
            before = before_shape(root, args.day)
        except (subprocess.CalledProcessError, RuntimeError, IndexError, KeyError) as error:
            detail = getattr(error, "stderr", None) or error
            print(f"  before ({BEFORE_COMMIT}): not measured, the worktree route failed: {str(detail).strip()}"[:600])
        else:
            print_step_line(f"before ({BEFORE_COMMIT}), dagster CLI", before)


if __name__ == "__main__":
    main()
