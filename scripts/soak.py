"""Soak: the chaos test's scenario (clinic_etl_tests/resilience/test_chaos.py) over more seeds and days, printing
its figures. No assertion: the exit code is 0 when every seed ended in exactly the fault-free state, else 1.

    .venv/bin/python scripts/soak.py [--seeds 10] [--first-seed 1] [--start 2026-10-12] [--days 8]
        [--ttl window|0|both] [--max-hits 4] [--faults-per-run 3] [--edits 4] [--real-limits] [--keep DIR]
        [--verbose]

For each seed, in fresh temporary DAGSTER_HOMEs: the fault-free scenario (the working days from --start synced one
by one, the practice edited before each run but the first, then one run over the whole window), and the same days
and edits with that seed's faults (429 bursts, 5xx, drops after write, timeouts; before and during the runs; see
clinic_etl_tests/resilience/chaos.py), then one clean run. Per seed and in total it prints: runs (and failed ones),
faults injected and hit, timeouts, edits, duplicates (a ContactNumber or InvoiceNumber twice, or two payments not
DELETED on an invoice), records missing from or extra in Xero, records that differ, and whether the final state
equals the fault-free one.

--ttl 0 makes the simulated Xero forget Idempotency-Keys at once (every retry comes after Xero's ~6 minute
window); both runs each seed both ways. --max-hits above 5 lets a request fail more often than the HTTP core's 6
attempts: the step then fails or waits for Dagster's retry (30 s and more), and the final clean run must still
converge. --real-limits keeps the simulator's 60 calls a minute and the client's call budgets (slower: the runs
then wait in the minute windows), which the chaos test lifts so that only injected 429s slow it down.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic_etl.sandbox.cliniko.practice import working_days  # noqa: E402
from clinic_etl_tests.resilience import chaos, harness  # noqa: E402


def days_from(start: str, count: int) -> list[str]:
    days = [d.isoformat() for d in working_days() if d >= date.fromisoformat(start)][:count]
    if len(days) < 2:
        raise SystemExit(f"fewer than two sandbox working days from {start} (the practice's invoices end 2026-11-06)")
    return days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds (default 10)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--start", default="2026-10-12", help="first sandbox day (default 2026-10-12)")
    parser.add_argument("--days", type=int, default=8, help="working days synced one by one (default 8)")
    parser.add_argument("--ttl", choices=["window", "0", "both"], default="both", help="Xero's idempotency window")
    parser.add_argument("--max-hits", type=int, default=chaos.MAX_HITS, help="faults a run may meet (default 4)")
    parser.add_argument(
        "--faults-per-run", type=int, default=chaos.FAULTS_PER_RUN, help="faults drawn per run: 1 to this (default 3)"
    )
    parser.add_argument("--edits", type=int, default=chaos.EDITS_PER_GAP, help="edits between runs (default 4)")
    parser.add_argument("--real-limits", action="store_true", help="keep Xero's 60 calls/min and client budgets")
    parser.add_argument("--keep", default=None, help="keep the DAGSTER_HOMEs under this folder")
    parser.add_argument("--verbose", action="store_true", help="show the HTTP core's retries as they happen")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if not args.verbose:
        logging.getLogger("clinic_etl").setLevel(logging.ERROR)
    if args.keep:
        return soak(args, Path(args.keep))
    with tempfile.TemporaryDirectory(prefix="clinic-etl-soak-") as folder:
        return soak(args, Path(folder))


def soak(args: argparse.Namespace, folder: Path) -> int:

    days = days_from(args.start, args.days)
    ttls = {"window": [harness.WINDOW_S], "0": [0.0], "both": [harness.WINDOW_S, 0.0]}[args.ttl]
    options = {
        "real_limits": args.real_limits,
        "edits_per_gap": args.edits,
        "max_hits": args.max_hits,
        "faults_per_run": args.faults_per_run,
    }
    print(
        f"soak: seeds {args.first_seed}..{args.first_seed + args.seeds - 1}, days {days[0]}..{days[-1]} "
        f"({len(days)} working days), Xero idempotency window {', '.join(f'{t:g} s' for t in ttls)}, "
        f"1..{args.faults_per_run} faults drawn a run (at most {args.max_hits} hits), {args.edits} edits between "
        f"runs, homes under {folder}",
        flush=True,
    )
    started = time.monotonic()
    results: list[chaos.Figures] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        reference, expected, ref_duplicates = chaos.scenario(
            folder / f"reference-{seed}", seed, days, faults=False, **options
        )
        if ref_duplicates or reference.failed_runs:
            print(f"seed {seed}: the fault-free reference itself failed: {reference.failed_runs} {ref_duplicates}")
            return 1
        for ttl in ttls:
            figures, got, duplicates = chaos.scenario(
                folder / f"chaos-{seed}-ttl{ttl:g}", seed, days, faults=True, ttl=ttl, **options
            )
            chaos.compare(figures, expected, got, duplicates)
            results.append(figures)
            print(f"  ttl {ttl:>3g} s  {figures.line()}", flush=True)
            if figures.failed_runs:
                print(f"           failed runs (converged by later runs or not): {figures.failed_runs}")
            if not figures.equal:
                print(f"           differences: {figures.differences}")
                print(f"           duplicates: {figures.duplicates}")

    equal = sum(f.equal for f in results)
    print(
        f"total: {len(results)} scenarios, {sum(f.runs for f in results)} runs "
        f"({sum(len(f.failed_runs) for f in results)} failed), "
        f"faults injected {sum(f.faults_queued for f in results)} (hit {sum(f.faults_hit for f in results)}), "
        f"timeouts {sum(f.timeouts for f in results)}, edits {sum(len(f.edits) for f in results)}; "
        f"duplicates {sum(len(f.duplicates) for f in results)}, missing {sum(f.missing for f in results)}, "
        f"extra {sum(f.extra for f in results)}, changed {sum(f.changed for f in results)}; "
        f"final state equal: {'yes' if equal == len(results) else 'NO'} ({equal}/{len(results)}) "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 0 if equal == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
