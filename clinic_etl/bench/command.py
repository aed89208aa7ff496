"""What `clinic-etl bench` runs: each scenario in its own subprocess and fresh DAGSTER_HOME, then the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic_etl.bench import report
from clinic_etl.bench.harness import fresh_home
from clinic_etl.bench.practices import LARGE, MONTH, QUICK_DAYS, QUICK_LARGE, QUICK_YEAR, SMALL, YEAR, Clinic
from clinic_etl.bench.scenarios import MARKER

FULL_LINES, QUICK_LINES = 1_000_000, 20_000
FULL_SCALE, QUICK_SCALE = 60.0, 600.0
# The scenarios run on the sandbox whatever this shell points clinic_etl at: these never reach them.
OWN_VARIABLES = ("CLINIC_ETL_", "CLINIKO_", "XERO_", "DAGSTER_HOME")


@dataclass(frozen=True)
class Options:
    quick: bool = False
    scale: float | None = None
    lines: int | None = None
    real_speed: bool = False  # also the large clinic's month backfill at real speed (about 6 minutes more)

    @property
    def time_scale(self) -> float:
        return self.scale or (QUICK_SCALE if self.quick else FULL_SCALE)

    @property
    def throughput_lines(self) -> int:
        return self.lines or (QUICK_LINES if self.quick else FULL_LINES)

    @property
    def month(self) -> tuple[date, date]:
        return QUICK_DAYS if self.quick else MONTH

    @property
    def year(self) -> tuple[date, date]:
        return QUICK_YEAR if self.quick else YEAR

    @property
    def clinics(self) -> tuple[Clinic, Clinic]:
        return (SMALL, QUICK_LARGE if self.quick else LARGE)


class ScenarioFailed(RuntimeError):
    pass


def scenario(name: str, **params: Any) -> dict[str, Any]:
    """Run one scenario in a fresh subprocess (`python -m clinic_etl.bench.scenarios`) and return its figures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    if "home" in params:
        env["DAGSTER_HOME"] = params["home"]
    command = [sys.executable, "-m", "clinic_etl.bench.scenarios", name, json.dumps(params)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    found = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not found:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise ScenarioFailed(f"bench scenario {name} failed (exit {done.returncode}): {tail[0][:300]}")
    return json.loads(found[-1].removeprefix(MARKER))


def _clinic_runs(root: str, clinic: Clinic, first: date, last: date, scale: float) -> dict[str, dict]:
    window = {"first": first.isoformat(), "last": last.isoformat(), "scale": scale, "shape": clinic.shape(first, last)}
    home = fresh_home(root)
    backfill = scenario("backfill", home=home, **window)
    return {
        "backfill": backfill,
        "rerun": scenario("rerun", home=home, **window),  # on the state the backfill left
        "daily": scenario("daily", home=fresh_home(root), **window),
        "per_record": scenario("per_record", home=fresh_home(root), **window),
        "summary": scenario("backfill", home=fresh_home(root), mode="summary", **window),
    }


def run(options: Options, out: report.Print, progress: Callable[[str], None] = lambda _: None) -> int:
    """Every scenario, then the report; 0 when every run succeeded and reconciled, else 1."""
    scale = options.time_scale
    first, last = options.month
    year_first, year_last = options.year
    with tempfile.TemporaryDirectory(prefix="clinic-etl-bench-") as root:
        tasks: dict[str, Callable[[], Any]] = {
            clinic.key: (lambda c=clinic: _clinic_runs(root, c, first, last, scale)) for clinic in options.clinics
        }
        tasks["throughput"] = lambda: scenario("throughput", lines=options.throughput_lines)
        large = options.clinics[1]
        if options.real_speed:
            tasks["real_speed"] = lambda: scenario(
                "backfill", home=fresh_home(root), first=first.isoformat(), last=last.isoformat(), scale=1,
                shape=large.shape(first, last),
            )  # fmt: skip
        year_shape = SMALL.shape(year_first, year_last)
        tasks["year"] = lambda: scenario(
            "year",
            home=fresh_home(root),
            first=year_first.isoformat(),
            last=year_last.isoformat(),
            scale=scale,
            shape=year_shape,
        )
        # --quick runs the scenarios side by side (a smoke run); a full run one at a time, so timings are clean
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1) if options.quick else 1) as pool:
            futures = {}
            for name, task in tasks.items():
                futures[name] = pool.submit(task)
            results = {}
            for name, future in futures.items():
                progress(name)
                results[name] = future.result()
    out(f"clinic-etl bench{' --quick' if options.quick else ''}: embedded simulators, month {first}..{last}")
    report.time_scale(out, scale)
    ok = True
    for clinic in options.clinics:
        r = results[clinic.key]
        out("")
        report.clinic(out, clinic.label, scale, r["backfill"], r["rerun"], r["daily"], r["per_record"])
        report.summary_mode(out, r["summary"], r["backfill"])
        ok &= all(r[k]["succeeded"] == r[k]["runs"] for k in ("backfill", "rerun", "daily", "summary"))
        ok &= all(r[k]["days_reconciled"] == r[k]["days"] for k in ("backfill", "rerun", "daily", "summary"))
    out("")
    out("throughput and memory")
    report.throughput(out, results["throughput"])
    report.year(out, results["year"], year_first.isoformat(), year_last.isoformat())
    ok &= results["year"]["succeeded"] == results["year"]["runs"]
    if "real_speed" in results:
        report.real_speed(out, large.label, results["real_speed"])
        ok &= results["real_speed"]["days_reconciled"] == results["real_speed"]["days"]
    return 0 if ok else 1
