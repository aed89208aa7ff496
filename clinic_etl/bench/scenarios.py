"""The scenarios of `clinic-etl bench`, each run in its own subprocess:

    python -m clinic_etl.bench.scenarios NAME '{"home": ..., "first": ..., "last": ..., ...}'

prints one line `BENCH-RESULT {json}` with its figures. NAME is one of:

    backfill    one run over [first, last] (a single-run backfill), in `home` (`mode`: detailed or summary)
    rerun       the same run again on the state `backfill` left in `home` (it must write nothing)
    daily       one run per day of [first, last], in `home`
    per_record  the same window's documents posted one request per record (`per_record.py`), in `home`
    year        one backfill run per month of [first, last] in one process, its memory after each
    throughput  ledger -> Xero frames on `lines` lines (`throughput.py`)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import date
from typing import Any

from clinic_etl.bench import harness
from clinic_etl.bench.practices import days, months

MARKER = "BENCH-RESULT "


def _runs(params: dict[str, Any], windows: list[tuple[str, str]]) -> dict[str, Any]:
    settings = harness.sandbox_settings(params["home"], params.get("mode", "detailed"))
    job = harness.job(settings, params["scale"], params["shape"])
    before = harness.xero_calls(settings)
    runs = harness.Runs()
    for first, last in windows:
        harness.run_window(job, first, last, runs)
    after = harness.xero_calls(settings)
    calls = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    return {**asdict(runs), "xero": harness.count_calls(calls), "xero_calls": calls}


def backfill(params: dict[str, Any]) -> dict[str, Any]:
    return _runs(params, [(params["first"], params["last"])])


def daily(params: dict[str, Any]) -> dict[str, Any]:
    every = days(date.fromisoformat(params["first"]), date.fromisoformat(params["last"]))
    return _runs(params, [(d.isoformat(), d.isoformat()) for d in every])


def year(params: dict[str, Any]) -> dict[str, Any]:
    span = months(date.fromisoformat(params["first"]), date.fromisoformat(params["last"]))
    return _runs(params, [(a.isoformat(), b.isoformat()) for a, b in span])


def per_record(params: dict[str, Any]) -> dict[str, Any]:
    """Extract and map the window as a run would, then post its documents one request per record, timed."""
    from zoneinfo import ZoneInfo

    from clinic_etl.bench.per_record import PerRecordLoader
    from clinic_etl.http.limits import CallBudget
    from clinic_etl.mapping import Mapping
    from clinic_etl.partitions import SyncWindow
    from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY
    from clinic_etl.sandbox.cliniko import create_app as cliniko_app
    from clinic_etl.sandbox.resources import PracticeShape, benchmark_practice, scaled_window
    from clinic_etl.sandbox.transport import InProcessTransport
    from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
    from clinic_etl.sandbox.xero import create_app as xero_app
    from clinic_etl.sources.cliniko.client import ClinikoClient
    from clinic_etl.sources.cliniko.extract import extract
    from clinic_etl.sources.cliniko.to_ledger import to_ledger
    from clinic_etl.xero.auth import XeroAuth
    from clinic_etl.xero.client import XeroClient
    from clinic_etl.xero.frames import to_xero
    from clinic_etl.xero.org import XeroOrg

    settings = harness.sandbox_settings(params["home"])
    scale, minute = params["scale"], scaled_window(params["scale"])
    practice = benchmark_practice(PracticeShape(**params["shape"]).shape())
    window = SyncWindow(
        date.fromisoformat(params["first"]), date.fromisoformat(params["last"]), ZoneInfo(settings.timezone)
    )
    cliniko_transport = InProcessTransport(cliniko_app(practice, time_scale=scale))
    with ClinikoClient(
        SANDBOX_CLINIKO_API_KEY,
        "http://cliniko.sandbox/v1",
        transport=cliniko_transport,
        budget=CallBudget(200, None, minute),
    ) as cliniko:
        ledger, _ = to_ledger(extract(cliniko, window), window)
    state = settings.state_dir / "sandbox" / "xero.sqlite"
    state.parent.mkdir(parents=True, exist_ok=True)
    transport = InProcessTransport(xero_app(str(state), time_scale=scale))
    auth = XeroAuth("http://xero.sandbox", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, transport=transport)
    client = XeroClient("http://xero.sandbox", auth, transport=transport, budget=CallBudget(60, None, minute))
    org = XeroOrg.from_api(*(client.get(r).get(r, []) for r in ("Accounts", "TaxRates", "TrackingCategories")))
    documents, _ = to_xero(ledger, Mapping(), org)
    before = harness.xero_calls(settings)
    started = time.perf_counter()
    result = PerRecordLoader(client).load(documents)
    wall = time.perf_counter() - started
    client.close()
    transport.close()
    after = harness.xero_calls(settings)
    calls = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    return {
        "calls": result.calls,
        "needed": result.needed,
        "failed": result.failed,
        "stopped": result.stopped,
        "wall": wall,
        "xero": harness.count_calls(calls),
        "invoices": result.needed["invoice"],
    }


def throughput(params: dict[str, Any]) -> dict[str, Any]:
    from clinic_etl.bench.throughput import repeated, sandbox_ledger, transform

    ledger = repeated(sandbox_ledger(), params["lines"])
    before = harness.peak_rss_mib()
    figures = transform(ledger)
    return {**asdict(figures), "lines_per_second": figures.lines_per_second, "rss_before": before,
            "peak_rss": harness.peak_rss_mib()}  # fmt: skip


SCENARIOS = {
    "backfill": backfill,
    "rerun": backfill,
    "daily": daily,
    "per_record": per_record,
    "year": year,
    "throughput": throughput,
}


def main(argv: list[str]) -> None:
    name, params = argv[0], json.loads(argv[1])
    print(MARKER + json.dumps(SCENARIOS[name](params)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
