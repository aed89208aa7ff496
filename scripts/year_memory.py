"""Where the year scenario's resident memory goes: the 2-site clinic's months run one after another in one process
(as `clinic-etl bench` runs them), with `tracemalloc` started after the third run; prints the resident set after
each run, then the Python allocations that grew between the fourth run's end and the last's, largest first.

    .venv/bin/python scripts/year_memory.py [runs]     # default 7 (each run is slow under tracemalloc)
"""

import sys
import tempfile
import tracemalloc
from datetime import date

from clinic_etl.bench import harness
from clinic_etl.bench.practices import SMALL, months

runs_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 7
first, last = date(2025, 11, 1), date(2026, 10, 31)
settings = harness.sandbox_settings(harness.fresh_home(tempfile.mkdtemp()))
job = harness.job(settings, 60, SMALL.shape(first, last))
runs = harness.Runs()
snapshots = []
for n, (a, b) in enumerate(list(months(first, last))[:runs_wanted]):
    harness.run_window(job, a.isoformat(), b.isoformat(), runs)
    print(f"run {n + 1} ({a:%Y-%m}): resident {runs.rss_after_run[-1]:.1f} MiB", flush=True)
    if n == 2:
        tracemalloc.start(8)
    elif n > 2:
        snapshots.append(tracemalloc.take_snapshot())
grown = snapshots[-1].compare_to(snapshots[0], "traceback")
total = sum(s.size_diff for s in grown) / 2**20
print(f"python allocations still live, end of run 4 -> end of run {len(snapshots) + 3}: {total:+.2f} MiB")
for stat in grown[:10]:
    where = stat.traceback.format()[-2].strip()
    print(f"  {stat.size_diff / 2**10:+.1f} KiB in {stat.count_diff:+d} blocks at {where}")
