"""Xero's 5,000 calls a day per organisation, planned (issue 10): the client holds a daily quota of its own
(CLINIC_ETL_XERO_CALLS_PER_DAY) beside the minute's budget. A backfill that would spend it stops cleanly before
the limit: the call that does not fit is never sent, the run fails saying when to go on (and the alert says so),
what was written is recorded; re-run after that time, it resumes and writes only the rest.

The day is scaled to DAY_S seconds (the resource's time_scale, as `clinic-etl bench` scales Xero's windows) and the
quota to a few calls, so a fortnight's backfill (about 25 Xero calls) needs several days of quota. (A re-run first
reads back what the stopped run noted and had not sent: one GET per invoice for payments, up to a batch, plus the
organisation's 5 reads. A quota smaller than that never progresses, here from 13 to 16 calls: hence the setting's
minimum of 100.)
"""

import time
from datetime import UTC, datetime

import dagster as dg

from clinic_etl.alerts.sensors import run_failure_alert
from clinic_etl.sandbox.resources import SandboxXeroResource
from clinic_etl_tests.pipeline.conftest import RANGE_END, RANGE_START, SYNC_ASSETS, Sandbox, checks
from clinic_etl_tests.resilience.harness import differences, effective, snapshot, stats

DAYS = ("2026-10-01", "2026-10-14")
DAY_S = 3.0
QUOTA = 12


def api_calls(state: str) -> int:
    """Calls that count against Xero's day limit: the accounting API's (not the identity server's)."""
    return sum(n for call, n in stats(state)["calls"].items() if "/api.xro/" in call)


def failure_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [e for e in result.all_events if e.is_step_failure]
    data = event.step_failure_data.user_failure_data
    return {"step": event.step_key, "description": data.description, **{k: v.value for k, v in data.metadata.items()}}


def test_a_backfill_that_would_spend_the_days_quota_stops_before_it_and_the_rerun_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    sandbox = Sandbox(tmp_path)
    resources = {
        **sandbox.resources(),
        "xero": SandboxXeroResource(
            state_path=sandbox.xero_state,
            budget_path=str(tmp_path / "budgets.sqlite"),
            calls_per_day=QUOTA,
            time_scale=86400 / DAY_S,
        ),
    }
    runs, stops = [], []
    for _ in range(6):
        before = api_calls(sandbox.xero_state) if runs else 0
        started = time.monotonic()
        result = dg.materialize(
            SYNC_ASSETS,
            resources=resources,
            instance=sandbox.instance,
            raise_on_error=False,
            tags={RANGE_START: DAYS[0], RANGE_END: DAYS[1]},
        )
        runs.append(result)
        days = 1 + int((time.monotonic() - started) // DAY_S)  # a slow machine's run may span a second "day"
        assert api_calls(sandbox.xero_state) - before <= QUOTA * days  # never past a day's quota
        if result.success:
            break
        stop = failure_metadata(result)
        stops.append(stop)
        assert stop["error"] == "QuotaSpent" and "re-run this range after" in stop["description"]
        resume = datetime.fromisoformat(stop["resume_after"])
        wait = (resume - datetime.now(UTC)).total_seconds()
        assert 0 <= wait <= DAY_S + 1  # it says when to go on: when the whole quota is free again
        time.sleep(max(0.0, wait) + 0.2)

    assert len(stops) >= 1 and runs[-1].success, [s["description"] for s in stops]
    assert checks(runs[-1])["xero_matches_source"]  # every day of the fortnight reconciled in the end
    assert stats(sandbox.xero_state)["refused_by_rate_limit"] == {}  # Xero itself never had to refuse a call

    # where it stopped is recorded: the first run's writes are in the state store, and the runs' writes add up to
    # one plain run's, nothing doubled
    store = sandbox.store()
    first_writes = store.writes(run_id=runs[0].run_id)
    all_writes = store.writes()
    store.dispose()
    assert first_writes and len({(w["entity"], w["source_key"], w["action"]) for w in all_writes}) == len(all_writes)
    got, duplicates = snapshot(sandbox.xero_state)
    assert duplicates == []
    plain = Sandbox(tmp_path / "plain")
    (tmp_path / "plain").mkdir()
    assert plain.sync(DAYS[0], until=DAYS[1]).success
    expected, _ = snapshot(plain.xero_state)
    assert differences(effective(expected), effective(got)) == {}
    plain_store = plain.store()
    assert len(all_writes) == len(plain_store.writes())
    plain_store.dispose()

    # the alert of the first stop: nothing to fix, re-run from the first day after the time it gives
    alert = run_failure_alert(sandbox.instance, runs[0].dagster_run)
    assert alert is not None and alert.kind == "quota" and alert.days == DAYS
    assert f"re-run from {DAYS[0]} after {stops[0]['resume_after']}" in alert.action
