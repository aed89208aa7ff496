"""The month backfill scenario of `clinic-etl bench` alone, for both clinics: Xero calls per invoice after a change,
in a minute instead of the full benchmark's quarter of an hour. Prints each clinic's figures as JSON.

    .venv/bin/python scripts/bench_backfill.py
"""

import json
import tempfile
import time

from clinic_etl.bench.command import FULL_SCALE, scenario
from clinic_etl.bench.harness import fresh_home
from clinic_etl.bench.practices import LARGE, MONTH, SMALL

root = tempfile.mkdtemp()
for name, clinic in (("2-site clinic", SMALL), ("large clinic", LARGE)):
    first, last = MONTH
    window = {"first": first.isoformat(), "last": last.isoformat(), "scale": FULL_SCALE}
    started = time.time()
    figures = scenario("backfill", home=fresh_home(root), shape=clinic.shape(first, last), **window)
    calls = figures["xero"]["api"]
    print(f"{name}: {figures['invoices']} invoices, {calls} Xero calls, {calls / figures['invoices']:.3f} per invoice")
    print(json.dumps(figures["xero_calls"]), f"({time.time() - started:.0f} s)")
