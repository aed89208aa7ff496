"""The scale-out profile (issue 10): deploy/celery/dagster.yaml, whose CeleryRunLauncher (dagster-celery) sends each
queued run to a Celery worker over RabbitMQ. Two workers, as two machines would run them (each its own process, a
`solo` pool: a run executes in the worker's own process), share nothing but PostgreSQL (Dagster's storage and the
state store), Redis (the call budgets) and the broker. Runs launched at once through the queue: each ran on a
worker, both workers took runs, every day reconciled, Xero refused no call and holds nothing twice.

(The sandbox's Xero is a file in DAGSTER_HOME, which both workers reach because they are on this machine; against
the real Xero nothing but the services above is shared.)
"""

import subprocess
import time
import uuid

import pytest
from dagster._serdes import deserialize_value
from kombu import Connection

from clinic_etl_tests.resilience.harness import snapshot, stats, xero_state

from .deployment import BIN, ROOT, deployed
from .services import RABBITMQ_URL, require_rabbitmq

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
DAYS = [f"2026-10-{d:02d}" for d in range(15, 29)]


@pytest.fixture(scope="module")
def celery_deployment(tmp_path_factory):
    require_rabbitmq()
    tmp = tmp_path_factory.mktemp("celery")
    queue = f"clinic_etl_test_{uuid.uuid4().hex[:8]}"
    extra = {"DAGSTER_CELERY_BROKER_URL": RABBITMQ_URL, "DAGSTER_CELERY_QUEUE": queue}
    with deployed(tmp, "deploy/celery/dagster.yaml", extra, redis_db=2) as deployment:
        stack = deployment.stack
        stack.callback(lambda: Connection(RABBITMQ_URL).channel().queue_delete(queue))
        workers, logs = [], []
        for n in (1, 2):
            logs.append(tmp / f"worker{n}.log")
            out = stack.enter_context(logs[-1].open("w"))
            env = {**deployment.env, "PYTHONPATH": str(ROOT / "deploy" / "celery")}
            command = [str(BIN / "celery"), "-A", "dagster_celery.app", "worker", "-Q", queue, "--pool", "solo"]
            command += ["-n", f"clinic-etl-{n}@%h", "--without-gossip", "--without-mingle", "-l", "info"]
            worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            stack.callback(lambda w=worker: (w.kill(), w.wait(timeout=30)))
            workers.append(worker)
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text() for log in logs):
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers), logs[0].read_text()[-2000:]
            time.sleep(0.5)
        yield deployment, workers


def test_queued_runs_execute_on_celery_workers_and_every_day_reconciles(celery_deployment):
    deployment, workers = celery_deployment
    ids = [
        deployment.launch({RANGE_START: DAYS[0], RANGE_END: DAYS[6]}),
        deployment.launch({RANGE_START: DAYS[7], RANGE_END: DAYS[13]}),
    ]
    runs = deployment.wait(ids)
    assert [runs[i]["status"] for i in ids] == ["SUCCESS"] * 2, [
        deployment.failures(i) for i in ids if runs[i]["status"] != "SUCCESS"
    ]

    # each run went through the broker to a worker and executed in that worker's process; both workers took runs
    forwarded = deployment.sql(
        "SELECT DISTINCT run_id FROM event_logs WHERE event LIKE '%Celery task has been forwarded to the broker%'"
    )
    assert {r[0] for r in forwarded} == set(ids)
    pids = {}
    for run_id, event in deployment.sql("SELECT run_id, event FROM event_logs WHERE dagster_event_type = 'STEP_START'"):
        pids.setdefault(run_id, set()).add(deserialize_value(event).dagster_event.pid)
    worker_pids = {w.pid for w in workers}
    assert all(len(found) == 1 and found <= worker_pids for found in pids.values()), (pids, worker_pids)
    assert set().union(*pids.values()) == worker_pids  # the runs spread over both

    checks = deployment.sql(
        "SELECT partition, execution_status FROM asset_check_executions WHERE check_name = 'xero_matches_source'"
        " AND partition IS NOT NULL ORDER BY id"
    )
    latest = dict(checks)
    assert {d: latest.get(d) for d in DAYS} == {d: "SUCCEEDED" for d in DAYS}
    assert stats(xero_state(deployment.home))["refused_by_rate_limit"] == {}
    assert snapshot(deployment.home)[1] == []  # no contact, invoice or payment twice
