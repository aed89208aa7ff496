"""Production on PostgreSQL (issue 10): deploy/dagster.yaml run as the server runs it (webserver + daemon, Dagster's
storage in PostgreSQL, the state store in its own schema of the same database, the call budgets in Redis), the run
queue on. Five runs launched at once through the queue, as the UI or the schedule launch them: the 14 days of
2026-10-01..14 as two week runs, the fortnight again as one run racing them, one day again, and a run that fails
(a stage launched without the stages before it) whose alert the daemon's sensor delivers to a local webhook.

Proven: every run went through the queue and at most 3 ran at once (`concurrency.runs`); no two steps of one pool
(`cliniko_api`, `xero_api`) ever ran at the same time across runs (`concurrency.pools`, limit 1); the simulated Xero
refused no call (the shared budget held its 60 a minute); every day reconciled; Xero holds exactly what one plain
run of the fortnight writes (nothing doubled by the racing runs); the state store's tables are in their own schema.
"""

import re
import time

from clinic_etl_tests.resilience.harness import differences, effective, snapshot, stats, xero_state

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
DAYS = [f"2026-10-{d:02d}" for d in range(1, 15)]
POOLS = {"cliniko_api": {"source_records"}, "xero_api": {"xero_documents", "xero_sync", "xero_reconciliation"}}
MAX_RUNS = 3  # deploy/dagster.yaml: concurrency.runs.max_concurrent_runs


def overlaps(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_queued_runs_on_postgresql_keep_the_limits_reconcile_every_day_and_double_nothing(deployment, tmp_path):
    failing = deployment.launch({"dagster/partition": "2026-10-20"}, assets=["xero_sync"])
    ids = [
        deployment.launch({RANGE_START: DAYS[0], RANGE_END: DAYS[6]}),
        deployment.launch({RANGE_START: DAYS[7], RANGE_END: DAYS[13]}),
        deployment.launch({RANGE_START: DAYS[0], RANGE_END: DAYS[13]}),
        deployment.launch({"dagster/partition": DAYS[13]}),
    ]
    runs = deployment.wait([failing, *ids])
    assert runs[failing]["status"] == "FAILURE"
    assert [runs[i]["status"] for i in ids] == ["SUCCESS"] * 4, [
        deployment.failures(i) for i in ids if runs[i]["status"] != "SUCCESS"
    ]

    # the queue: every run was enqueued, then dequeued by the daemon, within the run limit
    enqueued = deployment.sql("SELECT run_id FROM event_logs WHERE dagster_event_type = 'PIPELINE_ENQUEUED'")
    assert {r[0] for r in enqueued} == {failing, *ids}
    assert overlaps([(r["startTime"], r["endTime"]) for r in runs.values()]) <= MAX_RUNS
    # the pools: one step of a pool at a time, across all the runs
    for pool, steps in POOLS.items():
        spans = [
            (s["startTime"], s["endTime"])
            for r in runs.values()
            for s in r["stepStats"]
            if s["stepKey"] in steps and s["startTime"] and s["endTime"]
        ]
        assert len(spans) >= 4 * len(steps) and overlaps(spans) == 1, (pool, spans)
    slots = deployment.sql('SELECT concurrency_key, "limit" FROM concurrency_limits ORDER BY concurrency_key')
    assert {k: n for k, n in slots} == {"cliniko_api": 1, "xero_api": 1}

    # the call budget held: Xero refused nothing
    home = deployment.home
    calls = stats(xero_state(home))
    assert calls["refused_by_rate_limit"] == {} and calls["total"] > 0

    # every day reconciled (the latest evaluation of each day's blocking check passed)
    checks = deployment.sql(
        "SELECT partition, execution_status FROM asset_check_executions WHERE check_name = 'xero_matches_source'"
        " AND partition IS NOT NULL ORDER BY id"
    )
    latest = {day: status for day, status in checks}
    assert {d: latest.get(d) for d in DAYS} == {d: "SUCCEEDED" for d in DAYS}

    # nothing doubled: Xero holds what one plain run of the fortnight writes, and no number twice
    got, duplicates = snapshot(home)
    assert duplicates == []
    expected = plain_run(tmp_path / "plain")
    found = differences(named(expected), named(effective(got)))
    assert found == {}, found

    # the state store lives in its own schema of the same database, Dagster's tables in public
    tables = {r[0] for r in deployment.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'clinic_etl'")}
    assert {"sync_map", "xero_writes", "quarantine"} <= tables
    assert not {"sync_map"} & {
        r[0] for r in deployment.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }

    # the failed run's alert, delivered by the daemon's run-failure sensor (it ticks every 30 s)
    deadline = time.monotonic() + 75
    while not deployment.alerts.posts and time.monotonic() < deadline:
        time.sleep(1)
    assert [p["alert"]["run_id"] for p in deployment.alerts.posts] == [failing]
    alert = deployment.alerts.posts[0]["alert"]
    assert alert["kind"] == "run_failed" and alert["days"] == ["2026-10-20"] and alert["asset"] == "xero_sync"
    assert "select `*`" in alert["reason"]


def named(state: dict) -> dict:
    """Two patients of one name are two contacts, one named with its id ("Zara Robinson (1106)"): which one depends
    on which run met them first, so the comparison leaves that suffix out."""
    contacts = {k: {**v, "Name": re.sub(r" \(\d+\)$", "", v["Name"] or "")} for k, v in state["contacts"].items()}
    return {**state, "contacts": contacts}


def plain_run(home) -> dict:
    """The fortnight synced by one in-process run in a home of its own: what Xero must hold."""
    from clinic_etl_tests.pipeline.conftest import Sandbox

    home.mkdir()
    sandbox = Sandbox(home)
    result = sandbox.sync(DAYS[0], until=DAYS[-1])
    assert result.success
    state, duplicates = snapshot(sandbox.xero_state)
    assert not duplicates
    return effective(state)
