"""The production profile on this machine: deploy/dagster.yaml as $DAGSTER_HOME/dagster.yaml, Dagster's storage in a
throwaway PostgreSQL database, the state store in its own schema of it, the call budgets in Redis, the run queue on,
and `dagster-webserver` and `dagster-daemon` as the server runs them (each loading the code location of
workspace.yaml). Runs are launched through the webserver's GraphQL API, as the UI launches them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .receivers import WebhookReceiver, free_port
from .services import PG_URL, REDIS_URL, pg_database, require_redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "clinic_etl.definitions"


@dataclass
class Deployment:
    home: Path
    url: str  # the webserver
    database: str
    env: dict[str, str]
    alerts: WebhookReceiver
    logs: list[Path] = field(default_factory=list)
    stack: ExitStack | None = None  # more processes of the deployment (workers) stop with it

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
        assert response.status_code == 200, response.text[-3000:]
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def launch(self, tags: dict[str, str], assets: list[str] | None = None) -> str:
        selector: dict = {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "jobName": "daily_sync",
        }
        if assets:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        data = self.graphql(
            """mutation ($p: ExecutionParams!) { launchRun(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId status } } ... on PythonError { message }
                 ... on RunConfigValidationInvalid { errors { message } } } }""",
            {
                "p": {
                    "selector": selector,
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
                }
            },
        )["launchRun"]
        assert data["__typename"] == "LaunchRunSuccess", data
        return data["run"]["runId"]

    def runs(self, ids: list[str]) -> dict[str, dict]:
        data = self.graphql(
            """query ($ids: [String!]) { runsOrError(filter: {runIds: $ids}) { ... on Runs { results {
                 runId status startTime endTime tags { key value }
                 stepStats { stepKey status startTime endTime } } } } }""",
            {"ids": ids},
        )
        return {r["runId"]: r for r in data["runsOrError"]["results"]}

    def wait(self, ids: list[str], timeout: float = 150) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs(ids)
            if len(runs) == len(ids) and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs.values()):
                return runs
            if time.monotonic() > deadline:
                raise AssertionError(f"runs not finished after {timeout} s: {[r['status'] for r in runs.values()]}")
            time.sleep(1)

    def failures(self, run_id: str) -> list[str]:
        """The messages of a run's failure and engine events (to say why a run failed)."""
        from dagster._serdes import deserialize_value

        rows = self.sql(
            "SELECT event FROM event_logs WHERE run_id = :run AND dagster_event_type IN "
            "('STEP_FAILURE', 'PIPELINE_FAILURE', 'ENGINE_EVENT') ORDER BY id",
            run=run_id,
        )
        out = []
        for (event,) in rows:
            entry = deserialize_value(event)
            data = entry.dagster_event.event_specific_data if entry.dagster_event else None
            error = getattr(data, "error", None)
            out.append(
                f"{entry.dagster_event.event_type_value if entry.dagster_event else ''}: {entry.message}"
                + (f" | {error.message.strip()[:600]}" if error else "")
            )
        return out

    def sql(self, query: str, schema: str = "public", **params: object) -> list:
        engine = create_engine(make_url(PG_URL).set(database=self.database))
        try:
            with engine.connect() as conn:
                conn.execute(text(f'SET search_path TO "{schema}"'))
                return list(conn.execute(text(query), params))
        finally:
            engine.dispose()


def _wait_for_webserver(url: str, processes: list[subprocess.Popen], logs: list[Path], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p, log in zip(processes, logs, strict=True):
            if p.poll() is not None:
                raise AssertionError(f"{p.args[0]} exited: {log.read_text()[-3000:]}")
        try:
            query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
            body = httpx.post(f"{url}/graphql", json={"query": query}, timeout=5).json()
            entries = body["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"the webserver did not load the code location: {logs[0].read_text()[-3000:]}")


@contextmanager
def deployed(
    tmp: Path, profile: str = "deploy/dagster.yaml", extra_env: dict[str, str] | None = None, redis_db: int = 1
) -> Iterator[Deployment]:
    """`redis_db`: a Redis database of this deployment's own, for its call budgets (emptied first), so that another
    test's calls within the same minute do not count against it."""
    require_redis()
    with ExitStack() as stack:
        database = stack.enter_context(pg_database("clinic_etl_deploy"))
        server = make_url(PG_URL).set(database=database)
        engine = create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE SCHEMA clinic_etl"))
        engine.dispose()
        home = tmp / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / profile, home / "dagster.yaml")
        alerts = stack.enter_context(WebhookReceiver())
        budgets = f"{REDIS_URL.rsplit('/', 1)[0]}/{redis_db}"
        client = redis.Redis.from_url(budgets)
        client.delete(*(client.keys("clinic_etl:budget_*") or ["none"]))
        client.close()
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_", "CLIO_"))}
        store = server.set(drivername="postgresql+psycopg").update_query_dict({"options": "-csearch_path=clinic_etl"})
        env = {
            **keep,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": server.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False),
            "CLINIC_ETL_DATABASE_URL": store.render_as_string(hide_password=False),
            "CLINIC_ETL_CALL_BUDGET_URL": budgets,
            "CLINIC_ETL_ALERT_WEBHOOK": alerts.url,
            **(extra_env or {}),
        }
        # the pools set once when the instance is deployed (README, "Deploy"): left to the default, two runs starting
        # at once on two machines may both create a pool's row, and one of them fails on the unique key
        setters = [
            subprocess.Popen([str(BIN / "dagster"), "instance", "concurrency", "set", pool, "1"], env=env, cwd=ROOT)
            for pool in ("cliniko_api", "xero_api")
        ]
        assert all(p.wait(timeout=120) == 0 for p in setters)
        port = free_port()
        commands = [
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        ]
        processes, logs = [], []
        for command in commands:
            log = tmp / f"{Path(command[0]).name}.log"
            out = stack.enter_context(log.open("w"))
            processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
            logs.append(log)

        def stop() -> None:  # the webserver and the daemon, with the code servers and runs they started
            for p in processes:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)

        stack.callback(stop)
        url = f"http://127.0.0.1:{port}"
        _wait_for_webserver(url, processes, logs)
        yield Deployment(home, url, database, env, alerts, logs, stack)
