"""Benchmark the daily sync on the embedded simulators and print figures (no timing assertions anywhere).

    .venv/bin/python scripts/benchmark.py --days 5

Prints, per run: records written, Xero and Cliniko API calls per record, rows/s, the time Xero's 60 calls/min
limit alone would impose on those calls (the rate-limit bound) against the wall time, and peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import date, timedelta


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", default="2026-10-12")
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix="clinic-etl-bench-")
    import dagster as dg
    import httpx

    from clinic_etl.definitions import SYNC_ASSETS
    from clinic_etl.deployment import resources
    from clinic_etl.resources.xero import _sandbox_transport
    from clinic_etl.settings import state_dir

    instance = dg.DagsterInstance.ephemeral()
    first = date.fromisoformat(args.start)
    records = cliniko_calls = xero_calls = rows = 0
    started = time.perf_counter()
    for n in range(args.days):
        day = (first + timedelta(n)).isoformat()
        result = dg.materialize(SYNC_ASSETS, partition_key=day, resources=resources(), instance=instance)
        meta = {
            a: {k: getattr(v, "value", v) for k, v in result.asset_materializations_for_node(a)[-1].metadata.items()}
            for a in ("source_records", "xero_documents", "xero_sync", "xero_reconciliation")
        }
        cliniko_calls += int(meta["source_records"]["api_calls"])
        rows += sum(int(v) for k, v in meta["source_records"].items() if k.startswith("rows_"))
        records += int(meta["xero_sync"]["writes"])
    wall = time.perf_counter() - started
    with httpx.Client(
        transport=_sandbox_transport(str(state_dir() / "sandbox" / "xero.sqlite")), base_url="http://xero.sandbox"
    ) as http:
        stats = http.get("/__sandbox__/stats").json()["calls"]
    xero_calls = sum(v for k, v in stats.items() if "api.xro" in k or "connections" in k)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"days synced             {args.days} ({args.start} on)")
    print(f"source rows extracted   {rows}")
    print(f"Xero records written    {records}")
    print(f"Xero calls              {xero_calls}  ({xero_calls / max(records, 1):.3f} per record written)")
    print(f"Cliniko calls           {cliniko_calls}  ({cliniko_calls / max(rows, 1):.3f} per source row)")
    print(f"wall time               {wall:.1f} s  ({rows / wall:.0f} source rows/s)")
    bound = (max(xero_calls, 1) - 1) // 60 * 60  # 60 calls per rolling minute: the first 60 need no wait
    print(
        f"rate-limit bound        {xero_calls} Xero calls need at least {bound} s at 60/min; took {wall:.1f} s "
        f"({'within one minute' if not bound else f'{wall / bound:.2f}x the bound'})"
    )
    print(f"peak memory (RSS)       {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
