"""`clinic-etl bench`: the sync's cost in API calls, wall time and memory, measured on the embedded simulators.

The simulators enforce Xero's and Cliniko's real limits (Xero 60 calls a minute and 5,000 a day per organisation,
Cliniko 200 requests a minute), their windows run `time_scale` times faster than real time, and the client's call
budgets are scaled with them, so a month's backfill finishes in seconds and still waits where Xero would make it
wait. Each scenario runs in its own subprocess with its own fresh DAGSTER_HOME (no state leaks between them).

    limits.py      the rate limits and the lower bound they set on the wall time of a number of calls (pure)
    practices.py   the practices and periods measured: a 2-site clinic, a large clinic, a year
    harness.py     one scenario's sync runs on scaled simulators in a fresh DAGSTER_HOME, and what they cost
    per_record.py  the per-record loader the batch loader is compared with (one request per record)
    throughput.py  ledger -> Xero frames on 1,000,000 lines, pandera validation included; lines/s, peak memory
    scenarios.py   the scenarios, each run in a subprocess (`python -m clinic_etl.bench.scenarios`)
    report.py      the labelled lines `clinic-etl bench` prints
    command.py     what `clinic-etl bench` runs
"""
