"""The alert sensors: a run that failed, and a check that failed, reach a person (webhook and/or e-mail).

- `alert_on_run_failure` (Dagster's `run_failure_sensor`): a sync run failed for a reason other than a check: an
  expired or revoked connection (its own alert: reconnect, then re-run from the first day), an outage, a defect.
- `alert_on_check_failure` (a sensor over the check evaluations in Dagster's event log, its cursor the last event
  read): a day whose blocking check failed (`xero_matches_source`: Xero differs from the source, or
  `lines_add_up_to_source_totals`), or whose quarantine grew (`nothing_quarantined` failing with more records held
  than its previous evaluation). A blocking check that fails also fails its run: that run is reported here, with the
  check's details, and not again by the run-failure sensor. Dagster 1.13 has no check-failure sensor builder;
  `run_status_sensor` sees runs, not days, and a warning check never fails a run.

Both are in the definitions only when alerts are configured (`Settings.alerts_on`), running by default.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import dagster as dg
from dagster._core.event_api import EventRecordsFilter, PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from clinic_etl.alerts.channels import AlertResource
from clinic_etl.alerts.message import Alert

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PARTITION = "dagster/partition"
CHECK_FAILED = "DagsterAssetCheckFailedError"
OUTAGES = {"ApiConnectionError", "InternalServerError", "RateLimitError"}
SERVICES = {"Xero identity": "Xero", "Clio OAuth": "Clio"}  # the API a person reconnects
QUARANTINE_CHECK = "nothing_quarantined"
BATCH = 500  # check evaluations read per tick


# ---- what a run says about itself (ids only)
def run_days(run: dg.DagsterRun) -> tuple[str, ...]:
    tags = run.tags
    if PARTITION in tags:
        return (tags[PARTITION],)
    if RANGE_START in tags and RANGE_END in tags:
        return (tags[RANGE_START], tags[RANGE_END]) if tags[RANGE_START] != tags[RANGE_END] else (tags[RANGE_START],)
    return ()


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str, str, dict]]:
    """(step, error class, first line of the message, the failure's metadata) of each failed step."""
    out = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        data = event.step_failure_data if event else None
        if data is None or data.error is None:
            continue
        error = data.error
        while error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
            error = error.cause
        metadata = {
            k: getattr(v, "value", v)
            for k, v in (data.user_failure_data.metadata if data.user_failure_data else {}).items()
        }
        kind = str(metadata.get("error") or error.cls_name)
        message = (error.message.strip().splitlines() or [""])[0].removeprefix(f"{error.cls_name}: ")
        out.append((str(event.step_key), kind, message[:400], metadata))
    return out


def run_failure_alert(instance: dg.DagsterInstance, run: dg.DagsterRun, failure_message: str = "") -> Alert | None:
    """The alert for a failed run, or None when a blocking check failed it (the check sensor reports that)."""
    days = run_days(run)
    first = days[0] if days else "the first day that failed"
    failures = _step_failures(instance, run.run_id)
    if any(kind == CHECK_FAILED for _, kind, _, _ in failures):
        return None
    if not failures:  # the run never got to a step: the run worker, the code location, the queue
        reason = (failure_message or "the run failed before any step").strip().splitlines()[0][:400]
        return Alert(
            "run_failed",
            f"clinic-etl run failed before syncing {_span(days)}",
            days,
            reason,
            f"see the run in the Dagster UI; once the cause is fixed, re-run from {first} (nothing was written)",
            run_id=run.run_id,
        )
    step, kind, message, metadata = failures[0]
    if metadata.get("resume_after"):  # the day's API quota: stopped cleanly before the limit
        service = str(metadata.get("service", "the API"))
        return Alert(
            "quota",
            f"{service}'s daily call quota reached: sync of {_span(days)} stopped cleanly at {step}",
            days,
            f"{kind}: {message}",
            f"nothing to fix: re-run from {first} after {metadata['resume_after']} (what was written is recorded; the "
            "re-run writes only the rest)",
            asset=step,
            run_id=run.run_id,
        )
    if metadata.get("reconnect"):
        service = SERVICES.get(str(metadata.get("service", "")), str(metadata.get("service", "the API")))
        return Alert(
            "reconnect",
            f"Reconnect {service}: it refused clinic-etl's connection (sync of {_span(days)} stopped)",
            days,
            f"{kind}: {message}",
            f"reconnect {service} (re-authorise the app or fix the credentials the reason names), then re-run "
            f"from {first}: every sync stops before writing until then (clinic-etl sync {first} --until <today>, "
            "or a backfill from that day in the UI)",
            asset=step,
            run_id=run.run_id,
        )
    outage = kind in OUTAGES
    return Alert(
        "run_failed",
        f"clinic-etl sync of {_span(days)} failed at {step}" + (" (an outage)" if outage else ""),
        days,
        f"{kind}: {message}",
        (f"re-run {_span(days)} once the API answers" if outage else f"fix the cause, then re-run {_span(days)}")
        + ": what was written is recorded, so the re-run writes only what is missing",
        asset=step,
        run_id=run.run_id,
    )


# ---- what a check evaluation says (ids only: the check's metadata)
def _meta(evaluation: dg.AssetCheckEvaluation) -> dict[str, object]:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def _previous_count(instance: dg.DagsterInstance, key: dg.AssetCheckKey, day: str, run_id: str) -> int:
    """Records held at the evaluation of this check for this day before the run's (0 if none): newest first, the
    run's own, then the one before it (later runs may already have evaluated the day too)."""
    history = instance.event_log_storage.get_asset_check_execution_history(
        key,
        limit=50,
        status={AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED},
        partition_filter=PartitionKeyFilter(key=day),
    )
    passed_own = False
    for record in history:
        if record.run_id == run_id:
            passed_own = True
        elif passed_own and record.event and record.event.dagster_event:
            data = record.event.dagster_event.event_specific_data
            if isinstance(data, dg.AssetCheckEvaluation):
                return int(_meta(data).get("quarantined", 0) or 0)
    return 0


def check_alert(
    instance: dg.DagsterInstance, evaluations: Sequence[dg.AssetCheckEvaluation], run_id: str
) -> Alert | None:
    """One alert for the failed evaluations of one check in one run (each a day), or None (nothing failed, or the
    quarantine did not grow on any day)."""
    failed = sorted(
        (e for e in evaluations if not e.passed and e.partition is not None), key=lambda e: str(e.partition)
    )
    if failed and failed[0].check_name == QUARANTINE_CHECK:
        failed = [e for e in failed if _grew(instance, e, run_id)]
    if not failed:
        return None
    check, asset = failed[0].check_name, failed[0].asset_key.to_user_string()
    days = tuple(str(e.partition) for e in failed)
    span = _span(days)
    details: list[str] = []
    if check == QUARANTINE_CHECK:
        counts = {str(e.partition): int(_meta(e).get("quarantined", 0) or 0) for e in failed}
        for e in failed:
            details += [f"{e.partition}: {r}" for r in _meta(e).get("records", []) or []]  # type: ignore[union-attr]
        return Alert(
            "quarantine_grew",
            f"Quarantine grew for {span}: {sum(counts.values())} record(s) held back",
            days,
            "records that could not go to Xero, by day: "
            + ", ".join(f"{d} {n}" for d, n in counts.items())
            + " (the rest of each day is in Xero)",
            "see the reasons with `clinic-etl quarantine list` (or the check's records in the UI), fix the mapping "
            f"or the source, then re-run {span}",
            asset=asset,
            check=check,
            run_id=run_id,
            details=tuple(details),
        )
    for e in failed:
        problems = _meta(e).get("mismatched") or _meta(e).get("unbalanced") or []
        details += [f"{e.partition}: {p}" for p in problems]  # type: ignore[union-attr]
    if check == "xero_matches_source":
        reason = "Xero differs from the source: " + ", ".join(
            f"{e.partition} {_meta(e).get('mismatches', '?')} document(s), difference {_meta(e).get('difference')}"
            for e in failed
        )
        action = (
            f"look at the listed documents in Xero (changed by hand?); the next run writes the source's version "
            f"again: re-run {span}"
        )
    else:
        reason = f"invoices whose Xero lines do not add up to the source total, on {len(days)} day(s)"
        action = f"those days were not written to Xero; check the mapping of the listed invoices, then re-run {span}"
    return Alert(
        "check_failed",
        f"Check {check} failed for {span} on {asset}",
        days,
        reason,
        action,
        asset=asset,
        check=check,
        run_id=run_id,
        details=tuple(details),
    )


def _grew(instance: dg.DagsterInstance, evaluation: dg.AssetCheckEvaluation, run_id: str) -> bool:
    now = int(_meta(evaluation).get("quarantined", 0) or 0)
    return now > _previous_count(instance, evaluation.asset_check_key, str(evaluation.partition), run_id)


def new_check_alerts(
    instance: dg.DagsterInstance, after: int, sent: frozenset[str] = frozenset()
) -> tuple[list[Alert], int, frozenset[str]]:
    """Alerts for the check evaluations stored after event `after`: one per run and check, once that check has
    evaluated all the run's days (its run-level result, written after the days', is in; or the run has ended).

    Returns the alerts, the next cursor (just before the first evaluation of a check still evaluating, which is read
    again next tick) and the groups already alerted beyond that cursor (`sent`, not alerted twice). A month's run
    still loading therefore delays no other run's alert."""
    records = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=BATCH,
        ascending=True,
    )
    groups: dict[str, dict] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        if not isinstance(data, dg.AssetCheckEvaluation):
            continue
        key = f"{record.run_id}:{data.asset_check_key.to_user_string()}"
        group = groups.setdefault(key, {"run": record.run_id, "first": record.storage_id, "days": [], "done": False})
        if data.partition is None:
            group["done"] = True  # the run-level result comes after every day's
        else:
            group["days"].append(data)
    for group in groups.values():
        if not group["done"]:
            run = instance.get_run_by_id(group["run"])
            group["done"] = run is None or run.is_finished
    waiting = [g["first"] for g in groups.values() if not g["done"]]
    cursor = min(waiting) - 1 if waiting else (records[-1].storage_id if records else after)
    alerts, beyond = [], set()
    for key, group in groups.items():
        if not group["done"]:
            continue
        if group["first"] > cursor:
            beyond.add(key)  # read again next tick
        if key not in sent and (alert := check_alert(instance, group["days"], group["run"])):
            alerts.append(alert)
    return alerts, cursor, frozenset(beyond)


def latest_check_event(instance: dg.DagsterInstance) -> int:
    records = instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1, ascending=False
    )
    return records[0].storage_id if records else 0


def _span(days: Sequence[str]) -> str:
    return "an unpartitioned run" if not days else days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"


def _linked(alerts: AlertResource, found: Iterable[Alert]) -> Iterable[Alert]:
    for alert in found:
        yield Alert(**{**alert.__dict__, "link": alerts.link(alert.run_id)})


# ---- the sensors
def alert_sensors() -> list[dg.SensorDefinition]:
    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        description="A sync run failed (not a check): an alert with the days, the step, the reason and what to do; "
        "an expired or revoked connection says to reconnect, then re-run from the first day.",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertResource) -> None:
        alert = run_failure_alert(context.instance, context.dagster_run, context.failure_event.message or "")
        if alert is not None:
            for linked in _linked(alerts, [alert]):
                alerts.send(linked)

    @dg.sensor(
        name="alert_on_check_failure",
        description="A day's blocking check failed (Xero differs from the source, or lines that do not add up), or "
        "its quarantine grew: an alert with the day, the asset, the check, the reason and the ids.",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
    def alert_on_check_failure(context: dg.SensorEvaluationContext, alerts: AlertResource) -> dg.SkipReason:
        if context.cursor is None:  # first tick: start from now, not from the history
            context.update_cursor(json.dumps({"after": latest_check_event(context.instance)}))
            return dg.SkipReason("watching check evaluations from now on")
        cursor = json.loads(context.cursor)
        found, last, sent = new_check_alerts(context.instance, int(cursor["after"]), frozenset(cursor.get("sent", [])))
        for alert in _linked(alerts, found):
            alerts.send(alert)  # raises if undelivered: the cursor stays, the next tick tries again
        context.update_cursor(json.dumps({"after": last, "sent": sorted(sent)}))
        return dg.SkipReason(f"{len(found)} alert(s) sent" if found else "no failed check")

    return [alert_on_run_failure, alert_on_check_failure]
