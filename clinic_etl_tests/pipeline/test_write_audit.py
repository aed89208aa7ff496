"""The audit (``xero_writes``) equals what Xero received: the writes of a step attempt that failed part-way are on
record (a retried step reports them, a re-run adds only the rest), and two runs of one day at once record each
write once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import dagster as dg
import httpx
import pytest
import tenacity

import clinic_etl.assets.load
from clinic_etl.assets import sync_assets
from clinic_etl.http import constants
from clinic_etl.http.client import ApiClient
from clinic_etl.partitions import daily_partitions
from clinic_etl.sandbox.resources import SandboxXeroResource
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app
from clinic_etl.settings import Settings
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient

from .conftest import DAY, checks, metadata

PAYMENTS_FAIL = {"path_prefix": "/api.xro/2.0/Payments", "method": "PUT", "status": 500, "after_write": False}
#: how often one request is sent before the HTTP core gives up (its retries of a 500 included)
ATTEMPTS = constants.MAX_RETRIES + 1


@pytest.fixture
def quick_retries(monkeypatch) -> list[dg.AssetsDefinition]:
    """The sync graph with the step's RetryPolicy (2 retries) at no delay, and no HTTP backoff: the tests see real
    retries without waiting 30 s each."""
    monkeypatch.setattr(ApiClient, "_backoff", tenacity.wait_none())
    monkeypatch.setattr(clinic_etl.assets.load, "RETRY", dg.RetryPolicy(max_retries=2))
    return sync_assets(daily_partitions(Settings.from_env({})))


#: calls a minute the simulated Xero takes here: two runs and the checks within a minute stay under it
ROOMY = 10_000


class RoomyXero(SandboxXeroResource):
    """The simulated Xero with room for two runs and the checks in a minute (no 429 to wait out)."""

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(xero_app(self.state_path, calls_per_minute=ROOMY))


def run(sandbox, assets) -> dg.ExecuteInProcessResult:
    resources = {**sandbox.resources(), "xero": RoomyXero(state_path=sandbox.xero_state)}
    return dg.materialize(
        assets, resources=resources, instance=sandbox.instance, partition_key=DAY, raise_on_error=False
    )


def fail_payments(sandbox, count: int) -> None:
    assert sandbox.admin("POST", "/__sandbox__/faults", json={**PAYMENTS_FAIL, "count": count}).status_code < 300


def in_xero(sandbox) -> set[tuple[str, str]]:
    """(entity, Xero id) of everything the sync made in the simulated Xero (which held nothing before)."""
    transport = InProcessTransport(xero_app(sandbox.xero_state, calls_per_minute=ROOMY))
    auth = XeroAuth("http://xero.sandbox", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store=None, transport=transport)
    xero = XeroClient("http://xero.sandbox", auth, transport=transport)
    contacts = [c for c in xero.get_all("Contacts", "Contacts") if c.get("ContactNumber")]
    invoices = [i for i in xero.get_all("Invoices", "Invoices") if i.get("InvoiceNumber")]
    payments = [p for p in xero.get_all("Payments", "Payments") if p.get("Status") != "DELETED"]
    numbers = [c["ContactNumber"] for c in contacts]
    assert len(numbers) == len(set(numbers)), "a contact was made twice in Xero"
    assert len(invoices) == len({i["InvoiceNumber"] for i in invoices}), "an invoice was made twice in Xero"
    assert len(payments) == len({p["Invoice"]["InvoiceID"] for p in payments}), "an invoice was paid twice in Xero"
    return (
        {("contact", c["ContactID"]) for c in contacts}
        | {("invoice", i["InvoiceID"]) for i in invoices}
        | {("payment", p["PaymentID"]) for p in payments}
    )


def written(rows: list[dict]) -> Counter:
    return Counter((w["entity"], w["xero_id"]) for w in rows)


def by_entity(objects) -> Counter:
    return Counter(entity for entity, _ in objects)


def retries_of_xero_sync(result: dg.ExecuteInProcessResult) -> int:
    return sum(
        1
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY and e.step_key == "xero_sync"
    )


def test_a_failed_run_s_writes_are_audited_and_the_re_run_adds_only_the_rest(sandbox, quick_retries):
    fail_payments(sandbox, 20)  # outlasts every attempt of the step: the run fails after contacts and invoices
    first = run(sandbox, quick_retries)
    assert not first.success and retries_of_xero_sync(first) == 2
    assert sandbox.admin("DELETE", "/__sandbox__/faults").status_code < 300
    with sandbox.store() as store:
        failed_run = store.writes(run_id=first.run_id)
    assert failed_run and {(w["entity"], w["action"]) for w in failed_run} == {
        ("contact", "created"),
        ("invoice", "created"),
    }
    assert all(n == 1 for n in written(failed_run).values())

    second = run(sandbox, quick_retries)
    assert second.success and checks(second)["xero_matches_source"], metadata(second, "xero_reconciliation")
    objects = in_xero(sandbox)
    with sandbox.store() as store:
        rerun, everything = store.writes(run_id=second.run_id), store.writes()
    assert everything == failed_run + rerun and {w["partition_key"] for w in everything} == {DAY}
    assert written(everything) == Counter(objects)  # the audit is what Xero holds, each write once
    assert {(w["entity"], w["action"]) for w in rerun} == {("payment", "created")}
    done = metadata(second, "xero_sync", DAY)
    counts = by_entity(objects)
    assert done["payment_created"] == counts["payment"] == done["writes"]
    assert done["contact_unchanged"] == counts["contact"] and done["invoice_unchanged"] == counts["invoice"]
    assert "contact_created" not in done and "invoice_created" not in done


def test_a_retried_step_reports_what_its_failed_attempt_wrote(sandbox, quick_retries):
    fail_payments(sandbox, ATTEMPTS)  # the first attempt gives up on payments; the retry goes through
    result = run(sandbox, quick_retries)
    assert result.success and retries_of_xero_sync(result) == 1
    assert checks(result)["xero_matches_source"], metadata(result, "xero_reconciliation")
    objects = in_xero(sandbox)
    done = metadata(result, "xero_sync", DAY)
    counts = by_entity(objects)
    assert not any(k.endswith("_unchanged") for k in done), done  # not "unchanged": this run wrote them
    assert done["contact_created"] == counts["contact"] > 0
    assert done["invoice_created"] == counts["invoice"] > 0
    assert done["payment_created"] == counts["payment"] > 0
    assert done["writes"] == len(objects) == metadata(result, "xero_sync")["run_writes"]
    with sandbox.store() as store:
        rows = store.writes()
    assert {w["run_id"] for w in rows} == {result.run_id}
    assert written(rows) == Counter(objects)


class LockstepXero(RoomyXero):
    """The simulated Xero, where each run's first PUT of contacts, invoices and payments waits for the other run's:
    both runs plan from the same state and send the same requests, which Xero applies once and replays."""

    barriers: ClassVar[dict[str, threading.Barrier]] = {}

    def _transport(self) -> httpx.BaseTransport | None:
        return Lockstep(super()._transport(), self.barriers)


class Lockstep(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, barriers: dict[str, threading.Barrier]) -> None:
        self._inner, self._barriers, self._passed = inner, barriers, set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 1)[-1]
        if request.method == "PUT" and kind in self._barriers and kind not in self._passed:
            self._passed.add(kind)
            self._barriers[kind].wait(timeout=60)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.mark.parametrize("lockstep", [True, False], ids=["same-requests", "free-running"])
def test_two_runs_of_one_day_at_once_record_each_write_once(sandbox, monkeypatch, quick_retries, lockstep):
    monkeypatch.setattr(
        LockstepXero, "barriers", {k: threading.Barrier(2) for k in ("Contacts", "Invoices", "Payments")}
    )
    # each run its own Dagster instance, made here: Dagster stamps a new instance's storage with Alembic, whose
    # module globals are not thread-safe (the state store's own migrations hold a lock, Dagster's do not)
    instances = [dg.DagsterInstance.ephemeral() for _ in range(2)]

    def one(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
        xero = (LockstepXero if lockstep else RoomyXero)(state_path=sandbox.xero_state)
        resources = {**sandbox.resources(), "xero": xero}
        return dg.materialize(
            quick_retries, resources=resources, instance=instance, partition_key=DAY, raise_on_error=False
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, instances))
    assert all(r.success for r in results)
    objects = in_xero(sandbox)  # each record once in Xero
    # the runs' summaries add up to what Xero received: no write counted by both
    assert sum(metadata(r, "xero_sync", DAY)["writes"] for r in results) == len(objects)
    with sandbox.store() as store:
        rows = store.writes()
    assert written(rows) == Counter(objects)  # ... and once in the audit
    assert {w["run_id"] for w in rows} <= {r.run_id for r in results}
    if lockstep:  # both runs sent every write (Xero applied each once and replayed it to the other)
        calls = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
        assert all(calls[f"PUT /api.xro/2.0/{kind}"] >= 2 for kind in ("Contacts", "Invoices", "Payments")), calls
