"""A sync run that SIGKILLs itself at a chosen write point: the kill test's subprocess.

    python -m clinic_etl_tests.resilience.killable HOME DAY [--edited] [--ttl SECONDS]
        [--kill write:N | --kill record:N] [--trace FILE] [--snapshot FILE]

runs the sync of DAY in DAGSTER_HOME=HOME (the deployment's resources and files, see `harness.run`), serving the
base practice or, with --edited, the kill test's edited one (`harness.kill_scenario_practice`), with Xero's
Idempotency-Key window of --ttl seconds (0: every retry comes after the window). With --kill write:N the process
kills itself (SIGKILL: no handler, no cleanup, no flush) right after the N-th Xero write returns, before the state
store records its result; with --kill record:N right after the N-th state-store record returns. --trace writes the
run's write points as JSON lines (flushed as they happen, so the ones before a kill are there); --snapshot writes
what Xero holds after the run (`harness.snapshot`) as JSON.

With --serve it instead reads such argument lines from stdin and runs each in a forked child (the imports done
once: a kill point costs the run, not a Python start), answering one JSON line per job with the child's exit code
(-9 when it died by SIGKILL), so the kill test fits CI's time. Exit code 0: the run succeeded; 1: it did not;
3: the kill point was never reached.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import signal
import sys
import threading
import time
import warnings

NOT_REACHED = 3


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clinic_etl_tests.resilience.killable")
    parser.add_argument("home")
    parser.add_argument("day")
    parser.add_argument("--edited", action="store_true", help="serve the kill test's edited practice")
    parser.add_argument("--ttl", type=float, default=None, help="Xero's Idempotency-Key window, seconds")
    parser.add_argument("--kill", default=None, help="write:N or record:N (1-based)")
    parser.add_argument("--trace", default=None, help="append the write points here as JSON lines")
    parser.add_argument("--snapshot", default=None, help="after the run, write what Xero holds here (JSON)")
    args = parser.parse_args(argv)
    if args.kill is not None:
        kind, _, index = args.kill.partition(":")
        if kind not in ("write", "record") or not index.isdigit() or int(index) < 1:
            parser.error("--kill takes write:N or record:N with N >= 1")
        args.kill = (kind, int(index))
    return args


def job(argv: list[str]) -> int:
    """One run as the arguments say; returns the exit code (unless the kill point ends the process first)."""
    from clinic_etl_tests.resilience import harness

    args = parse(argv)
    trace = open(args.trace, "a", buffering=1) if args.trace else None  # noqa: SIM115 - open until the kill

    def on_point(point: dict) -> None:
        if trace is not None:
            trace.write(json.dumps(point) + "\n")
        if args.kill == (point["kind"], point["index"]):
            os.kill(os.getpid(), signal.SIGKILL)

    practice = harness.kill_scenario_practice() if args.edited else None
    ttl = harness.WINDOW_S if args.ttl is None else args.ttl
    with harness.write_points(on_point):
        result = harness.run(args.home, args.day, practice=practice, ttl=ttl)
    if trace is not None:
        trace.close()
    if args.snapshot:
        state, duplicates = harness.snapshot(args.home)
        with open(args.snapshot, "w") as out:
            json.dump({"state": state, "duplicates": duplicates, "failed_steps": harness.failed_steps(result)}, out)
    if args.kill is not None:
        return NOT_REACHED
    return 0 if result.success else 1


def warm_up() -> None:
    """One uninterrupted run in a throwaway DAGSTER_HOME, so that every lazy import and cache is in place before
    the first fork (a child then costs its run only)."""
    import tempfile

    from clinic_etl_tests.resilience import harness

    with tempfile.TemporaryDirectory(prefix="killable-warm-up-") as home:
        harness.run(home, harness.KILL_FIRST, practice=harness.kill_scenario_practice(), budgets=False)
    gc.collect()


def serve() -> int:
    """Fork a child per stdin line (the arguments of one job); answer {"code": <exit code>} per line."""
    warm_up()
    for line in sys.stdin:
        if not line.strip():
            continue
        if threading.active_count() != 1:  # never fork a process with threads (their locks would be copied)
            print(json.dumps({"error": f"{threading.active_count()} threads in the server"}), flush=True)
            return 2
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: run, exit without the parent's cleanup
            os.dup2(2, 1)  # its output goes to stderr: stdout carries the server's answers only
            code = 2
            try:
                code = job(shlex.split(line))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        answer = {"code": os.waitstatus_to_exitcode(status), "seconds": round(time.monotonic() - started, 2)}
        print(json.dumps(answer), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")  # Dagster's beta/preview notes would only clutter the test's output
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    return job(argv)


if __name__ == "__main__":
    sys.exit(main())
