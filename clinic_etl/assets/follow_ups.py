"""Overdue invoices followed up through Mailchimp, after the day's Xero sync: each day's list of this sync's invoices
past their DueDate (invoice numbers, amounts, days overdue: no names), and as of the run's last day the debtors tagged,
the journey steps triggered and the paid debtors untagged. A warning check fails a day whose overdue money passes
`mailchimp.alert_overdue_total` (the alert sensors report failed checks)."""

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd

from clinic_etl.assets.common import RETRY, SINGLE_RUN, add_day_metadata, day_checks
from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.engage.mailchimp.load import Plan, follow_up
from clinic_etl.engage.mailchimp.overdue import as_of, overdue_table
from clinic_etl.mapping import Mailchimp
from clinic_etl.partitions import SyncWindow
from clinic_etl.resources import MappingResource, StateStoreResource, XeroResource
from clinic_etl.resources.mailchimp import MailchimpResource

FOLLOW_UPS = "mailchimp_follow_ups"
THRESHOLD = "overdue_money_within_threshold"
ACTIONS = ("followed_up", "tagged", "untagged", "settled", "skipped", "failed")
WRITES = ("followed_up", "tagged", "untagged")


def figures(plan: Plan, outcomes: pd.DataFrame, day: str, last: str) -> dict[str, object]:
    overdue = as_of(plan.invoices, date.fromisoformat(day))
    out: dict[str, object] = {
        "overdue_invoices": len(overdue),
        "overdue_total": str(sum((i.amount_due for i in overdue), Decimal("0.00"))),
        "overdue": overdue_table(overdue, date.fromisoformat(day)),
    }
    if day == last:  # what was sent, as of the run's last day
        counts = outcomes["action"].value_counts()
        out |= {action: int(counts.get(action, 0)) for action in ACTIONS}
        held = outcomes[outcomes["action"].isin(("skipped", "failed"))]
        if len(held):
            out["not_followed_up"] = dg.MetadataValue.md(
                "| invoice | outcome | reason |\n|---|---|---|\n"
                + "\n".join(f"| {r.invoice_number} | {r.action} | {r.reason} |" for r in held.head(50).itertuples())
            )
    return out


def build(partitions: dg.PartitionsDefinition, config: Mailchimp) -> dg.AssetsDefinition:
    threshold = config.alert_overdue_total
    checks = (
        [dg.AssetCheckSpec(THRESHOLD, asset=FOLLOW_UPS, description=f"Overdue money is at most {threshold} each day.")]
        if threshold is not None
        else []
    )

    @dg.asset(
        name=FOLLOW_UPS,
        deps=["xero_sync"],
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        group_name="engage",
        kinds={"mailchimp", "xero"},
        pool="xero_api",
        retry_policy=RETRY,
        check_specs=checks,
    )
    def mailchimp_follow_ups(
        context: dg.AssetExecutionContext,
        xero: XeroResource,
        mailchimp: MailchimpResource,
        state_store: StateStoreResource,
        mapping: MappingResource,
    ):
        """Each day's overdue invoices of this sync, and the follow-ups sent as of the run's last day, by number."""
        with retry_only_what_can_succeed():
            settings = mapping.load().mailchimp
            if settings is None:
                raise dg.Failure("mailchimp needs the mapping's mailchimp section", allow_retries=False)
            window = SyncWindow.of(context)
            store = state_store.store()
            client, chimp = xero.client(store), mailchimp.client()
            before = (client.calls, chimp.calls)
            plan, outcomes = follow_up(client, chimp, store, settings, mailchimp.audience_id, window.last)
            last = window.last.isoformat()
            days = {day: figures(plan, outcomes, day, last) for day in window.days}
            add_day_metadata(context, window, days)
            yield dg.MaterializeResult(
                metadata={
                    "as_of": last,
                    "run_mailchimp_writes": int(outcomes["action"].isin(WRITES).sum()),
                    "run_mailchimp_calls": chimp.calls - before[1],
                    "run_xero_calls": client.calls - before[0],
                }
            )
            if threshold is not None:
                per_day = {
                    day: (
                        Decimal(str(f["overdue_total"])) <= threshold,
                        {"overdue_total": f["overdue_total"], "threshold": str(threshold)},
                    )
                    for day, f in days.items()
                }
                yield from day_checks(FOLLOW_UPS, THRESHOLD, per_day, severity=dg.AssetCheckSeverity.WARN)

    return mailchimp_follow_ups
