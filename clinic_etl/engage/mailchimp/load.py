"""Follow up overdue invoices through Mailchimp, planned against the state store (`engage_follow_ups`).

As of the run's last day (a month's backfill never replays a month of follow-ups to debtors; each earlier day gets its
overdue list as metadata, from what Xero owes today):

1. Xero is read for the AUTHORISED ACCREC invoices past their DueDate (paged, `Statuses` + a `where` on Type and
   DueDate), and only the invoices this sync created are kept (the sync map holds their number and InvoiceID).
2. Invoices followed up before that no longer appear are read back by id: paid, voided or deleted ones are settled.
3. An invoice is due a follow-up once it is `days_overdue` past its DueDate, then again every `follow_up_every_days`
   (with a journey step; without one the tag is the follow-up, applied once per debtor). Its debtor is its Xero
   contact's e-mail (read by ContactID); a contact without one is skipped.
4. Batch 1 upserts the debtors new to the run as members (`PUT /lists/{id}/members/{hash}` with `status_if_new` and
   never `status`, so an unsubscribed member is never re-subscribed). An unsubscribed or cleaned member is skipped
   (never tagged or sent a journey); a compliance-state answer ("Member In Compliance State", "Forgotten Email Not
   Subscribed") is skipped with that title as the reason; both for good (never retried).
5. Batch 2 sets the tag on debtors not tagged yet, triggers the journey step per invoice due, and removes the tag
   from debtors whose every followed-up invoice is settled.
6. Every result is recorded as soon as its batch answers. A failure that may pass (429, 5xx inside a batch) is
   reported and left unrecorded, to be tried again by the next run; a re-run of the same day sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from clinic_etl.engage.mailchimp.client import MailchimpClient, Result, subscriber_hash
from clinic_etl.engage.mailchimp.overdue import OverdueInvoice, amount, ours
from clinic_etl.http.errors import ApiError, NotFoundError
from clinic_etl.mapping import Mailchimp
from clinic_etl.store import FollowUp, StateStore
from clinic_etl.xero.client import XeroClient

SERVICE = "mailchimp"
PAGE_SIZE = 100
IDS_PER_QUERY = 40  # Xero's GET URLs hold about 52 GUIDs (FACTS §8)
OUTCOME_COLUMNS = ["invoice_key", "invoice_number", "action", "reason"]
GONE_STATUSES = frozenset({"unsubscribed", "cleaned"})
COMPLIANCE = ("Member In Compliance State", "Forgotten Email Not Subscribed")


@dataclass
class Plan:
    """What one run does, by invoice and by member."""

    invoices: list[OverdueInvoice]  # overdue as of the run's day, this sync's
    settled: dict[str, str] = field(default_factory=dict)  # invoice key -> why (paid, voided, ...)
    due: list[OverdueInvoice] = field(default_factory=list)  # to follow up now
    emails: dict[str, str] = field(default_factory=dict)  # invoice key -> the debtor's e-mail (kept in memory only)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # invoice key -> FNAME/LNAME (in memory only)
    outcomes: list[dict] = field(default_factory=list)

    def note(self, invoice_key: str, number: str | None, action: str, reason: str = "") -> None:
        self.outcomes.append({"invoice_key": invoice_key, "invoice_number": number, "action": action, "reason": reason})


def read_overdue(xero: XeroClient, day: date) -> list[dict]:
    """Every AUTHORISED ACCREC invoice due before `day` (paged: 100 a page)."""
    where = f'Type=="ACCREC" AND DueDate<DateTime({day.year},{day.month:02d},{day.day:02d})'
    rows: list[dict] = []
    page = 1
    while True:
        batch = xero.get("Invoices", page=page, pageSize=PAGE_SIZE, Statuses="AUTHORISED", where=where)
        found = batch.get("Invoices") or []
        rows += found
        if len(found) < PAGE_SIZE:
            return rows
        page += 1


def _by_ids(xero: XeroClient, resource: str, ids: list[str]) -> dict[str, dict]:
    key = "InvoiceID" if resource == "Invoices" else "ContactID"
    found: dict[str, dict] = {}
    ids = sorted(set(ids))
    for start in range(0, len(ids), IDS_PER_QUERY):
        for row in xero.get(resource, IDs=",".join(ids[start : start + IDS_PER_QUERY])).get(resource) or []:
            found[str(row.get(key, "")).lower()] = row
    return found


def follow_up(
    xero: XeroClient,
    mailchimp: MailchimpClient,
    store: StateStore,
    config: Mailchimp,
    audience: str,
    day: date,
) -> tuple[Plan, pd.DataFrame]:
    """Run the follow-ups as of `day`; returns the plan (the day's overdue invoices) and one outcome per action."""
    tenant = xero.tenant_id
    found = read_overdue(xero, day)
    numbers = [str(i.get("InvoiceNumber")) for i in found if i.get("InvoiceNumber")]
    plan = Plan(ours(found, store.get_records_by_number(tenant, "invoice", numbers) if numbers else {}))
    state = store.follow_ups(SERVICE, audience)
    _settle(xero, plan, state)
    _choose(plan, state, config, day)
    if plan.due:
        _emails(xero, plan)
    if plan.due or plan.settled:
        _audience(mailchimp, audience)
    sent = _send(mailchimp, store, plan, state, config, audience, day)
    for key, reason in plan.settled.items():
        row = state[key]
        store.record_follow_ups([replace(row, status="settled", reason=reason)])
        plan.note(key, row.invoice_number, "settled", reason)
    plan.outcomes += sent
    return plan, pd.DataFrame(plan.outcomes, columns=OUTCOME_COLUMNS)


def _audience(mailchimp: MailchimpClient, audience: str) -> None:
    """The audience exists (a wrong MAILCHIMP_AUDIENCE_ID stops the step before anything is sent)."""
    try:
        mailchimp.audience(audience)
    except NotFoundError as error:
        raise AudienceNotFound(f"{error}: check MAILCHIMP_AUDIENCE_ID (the audience's id, not its name)") from None


class AudienceNotFound(ApiError):
    """MAILCHIMP_AUDIENCE_ID names no audience of the account."""


def _settle(xero: XeroClient, plan: Plan, state: dict[str, FollowUp]) -> None:
    """Followed-up invoices no longer owed: paid, voided, deleted, or gone from Xero."""
    current = {i.invoice_key for i in plan.invoices}
    check = {k: r for k, r in state.items() if r.status == "overdue" and k not in current}
    if not check:
        return
    found = _by_ids(xero, "Invoices", [r.xero_id for r in check.values()])
    for key, row in check.items():
        invoice = found.get(row.xero_id.lower())
        if invoice is None:
            plan.settled[key] = "not in Xero any more"
        elif invoice.get("Status") != "AUTHORISED" or amount(invoice.get("AmountDue")) <= 0:
            plan.settled[key] = str(invoice.get("Status") or "settled").lower()


def _choose(plan: Plan, state: dict[str, FollowUp], config: Mailchimp, day: date) -> None:
    every = timedelta(days=config.follow_up_every_days)
    for invoice in plan.invoices:
        if invoice.days_overdue(day) < config.days_overdue:
            continue
        row = state.get(invoice.invoice_key)
        first = row is None or row.status == "settled"  # never followed up, or owed again after being settled
        again = (
            row is not None
            and row.status == "overdue"
            and config.journey is not None
            and bool(row.last_follow_up)
            and date.fromisoformat(str(row.last_follow_up)) + every <= day
        )
        if first or again:
            plan.due.append(invoice)


def _emails(xero: XeroClient, plan: Plan) -> None:
    contacts = _by_ids(xero, "Contacts", [i.contact_id for i in plan.due])
    for invoice in plan.due:
        contact = contacts.get(invoice.contact_id.lower()) or {}
        email = contact.get("EmailAddress")
        if isinstance(email, str) and "@" in email:
            plan.emails[invoice.invoice_key] = email.strip()
        names = {
            tag: contact[field].strip()
            for tag, field in (("FNAME", "FirstName"), ("LNAME", "LastName"))
            if isinstance(contact.get(field), str) and contact[field].strip()
        }
        if names:
            plan.names[invoice.invoice_key] = names


def _send(
    mailchimp: MailchimpClient,
    store: StateStore,
    plan: Plan,
    state: dict[str, FollowUp],
    config: Mailchimp,
    audience: str,
    day: str | date,
) -> list[dict]:
    day = str(day)
    outcomes: list[dict] = []
    skipped: list[FollowUp] = []

    def skip(invoice: OverdueInvoice, member: str | None, reason: str) -> None:
        previous = state.get(invoice.invoice_key)
        base = previous or FollowUp(SERVICE, audience, invoice.invoice_key, invoice.xero_id, "skipped")
        skipped.append(
            replace(
                base,
                status="skipped",
                member_id=member,
                reason=reason,
                invoice_number=invoice.number,
                partition_key=day,
            )
        )
        outcomes.append(
            {
                "invoice_key": invoice.invoice_key,
                "invoice_number": invoice.number,
                "action": "skipped",
                "reason": reason,
            }
        )

    tagged_before = {r.member_id for k, r in state.items() if r.status == "overdue" and k not in plan.settled}
    members: dict[str, list[OverdueInvoice]] = {}
    for invoice in plan.due:
        email = plan.emails.get(invoice.invoice_key)
        if email is None:
            skip(invoice, None, "its Xero contact has no e-mail address")
            continue
        members.setdefault(subscriber_hash(email), []).append(invoice)
    emails = {
        subscriber_hash(plan.emails[i.invoice_key]): plan.emails[i.invoice_key]
        for i in plan.due
        if i.invoice_key in plan.emails
    }
    names = (
        {
            subscriber_hash(plan.emails[i.invoice_key]): plan.names.get(i.invoice_key, {})
            for i in plan.due
            if i.invoice_key in plan.emails
        }
        if config.merge_names
        else {}
    )

    # batch 1: members new to the run (an already-tagged debtor was upserted when first tagged)
    upserts = [m for m in members if m not in tagged_before]
    operations = [_upsert(audience, m, emails[m], names.get(m, {}), config) for m in upserts]
    answers = mailchimp.run_batch(operations) if operations else {}
    ready: dict[str, list[OverdueInvoice]] = {}
    for member, invoices in members.items():
        answer = answers.get(f"member:{member}")
        reason = None if answer is None else _refusal(answer)
        if answer is not None and not answer.ok and answer.status >= 429 and reason is None:
            for invoice in invoices:
                outcomes.append(
                    {
                        "invoice_key": invoice.invoice_key,
                        "invoice_number": invoice.number,
                        "action": "failed",
                        "reason": answer.title,
                    }
                )
            continue
        if reason is not None:
            for invoice in invoices:
                skip(invoice, member, reason)
            continue
        ready[member] = invoices
    store.record_follow_ups(skipped)
    skipped.clear()

    # batch 2: tags on, journey steps, tags off
    still_tagged = {r.member_id for k, r in state.items() if r.status == "overdue" and k not in plan.settled}
    untag = sorted({state[k].member_id for k in plan.settled if state[k].member_id} - still_tagged - set(ready))
    ops = [_tags(audience, m, config.tag, "active") for m in ready if m not in tagged_before]
    if config.journey is not None:
        ops += [_trigger(config, i, emails[m]) for m, invoices in ready.items() for i in invoices]
    ops += [_tags(audience, m, config.tag, "inactive", "untag") for m in untag]
    answers = mailchimp.run_batch(ops) if ops else {}
    done: list[FollowUp] = []
    for member, invoices in ready.items():
        tag = answers.get(f"tag:{member}")
        if tag is not None and not tag.ok:
            for invoice in invoices:
                if tag.status < 429:
                    skip(invoice, member, f"the tag was refused: {tag.title}")
                else:
                    outcomes.append(
                        {
                            "invoice_key": invoice.invoice_key,
                            "invoice_number": invoice.number,
                            "action": "failed",
                            "reason": tag.title,
                        }
                    )
            continue
        if tag is not None:
            outcomes.append({"invoice_key": "", "invoice_number": None, "action": "tagged", "reason": ""})
        for invoice in invoices:
            trigger = answers.get(f"journey:{invoice.invoice_key}")
            if trigger is not None and not trigger.ok:
                if trigger.status < 429:
                    skip(invoice, member, f"the journey step was refused: {trigger.title}")
                else:
                    outcomes.append(
                        {
                            "invoice_key": invoice.invoice_key,
                            "invoice_number": invoice.number,
                            "action": "failed",
                            "reason": trigger.title,
                        }
                    )
                continue
            previous = state.get(invoice.invoice_key)
            count = previous.follow_ups if previous else 0
            base = previous or FollowUp(SERVICE, audience, invoice.invoice_key, invoice.xero_id, "overdue")
            done.append(
                replace(
                    base,
                    status="overdue",
                    member_id=member,
                    invoice_number=invoice.number,
                    follow_ups=count + 1,
                    last_follow_up=day,
                    reason=None,
                    partition_key=day,
                )
            )
            outcomes.append(
                {
                    "invoice_key": invoice.invoice_key,
                    "invoice_number": invoice.number,
                    "action": "followed_up",
                    "reason": "",
                }
            )
    for member in untag:
        answer = answers.get(f"untag:{member}")
        if answer is not None and (answer.ok or answer.status == 404):  # 404: no longer a member, nothing to remove
            outcomes.append({"invoice_key": "", "invoice_number": None, "action": "untagged", "reason": ""})
        else:  # the settled invoices stay "overdue" so the next run tries again
            for key in [k for k in plan.settled if state[k].member_id == member]:
                del plan.settled[key]
            outcomes.append(
                {
                    "invoice_key": "",
                    "invoice_number": None,
                    "action": "failed",
                    "reason": answer.title if answer else "no answer",
                }
            )
    store.record_follow_ups(done + skipped)
    return outcomes


def _refusal(answer: Result) -> str | None:
    """Why a member upsert means no follow-up for good (None: go on, or try again later)."""
    if answer.ok:
        status = (answer.body or {}).get("status")
        if status in GONE_STATUSES:
            return f"the member is {status} in Mailchimp: never re-subscribed, not followed up"
        return None
    if answer.title in COMPLIANCE:
        return f"Mailchimp: {answer.title}"
    if 400 <= answer.status < 429:
        return f"Mailchimp refused the member: {answer.title}"
    return None


def _upsert(audience: str, member: str, email: str, names: dict[str, str], config: Mailchimp) -> dict:
    body: dict = {"email_address": email, "status_if_new": config.status_if_new}
    if names:
        body["merge_fields"] = names
    return {
        "method": "PUT",
        "path": f"/lists/{audience}/members/{member}",
        "operation_id": f"member:{member}",
        "body": body,
    }


def _tags(audience: str, member: str, tag: str, status: str, prefix: str = "tag") -> dict:
    return {
        "method": "POST",
        "path": f"/lists/{audience}/members/{member}/tags",
        "operation_id": f"{prefix}:{member}",
        "body": {"tags": [{"name": tag, "status": status}], "is_syncing": False},
    }


def _trigger(config: Mailchimp, invoice: OverdueInvoice, email: str) -> dict:
    journey = config.journey
    assert journey is not None
    return {
        "method": "POST",
        "path": f"/customer-journeys/journeys/{journey.journey_id}/steps/{journey.step_id}/actions/trigger",
        "operation_id": f"journey:{invoice.invoice_key}",
        "body": {"email_address": email},
    }
