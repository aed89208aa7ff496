"""Overdue invoices followed up through Mailchimp, and a sandbox month with both outbound features on: every first-time
patient one GHL contact in the workflow, every overdue invoice's debtor tagged once and its journey step triggered per
invoice, opted-out and compliance-state debtors never sent (skipped with the reason, for good), a paid invoice's debtor
untagged, a re-run changing nothing (the simulators' counters prove it), follow-ups repeated only after the spacing, a
429 and a failed operation inside a batch tried again, and no name, e-mail or phone in metadata or the run's log."""

from collections import Counter
from datetime import date

from clinic_etl.engage.mailchimp.client import subscriber_hash
from clinic_etl.engage.mailchimp.overdue import amount, xero_date
from clinic_etl.mapping import load_mapping
from clinic_etl.sandbox.mailchimp import SANDBOX_AUDIENCE_ID, sandbox_debtors

from .conftest import MAILCHIMP, PARTITIONS, change, follow_ups, leaks, metadata, metadata_texts, writes

TAGS_CALL = "POST /3.0/lists/{list_id}/members/{subscriber_hash}/tags"
TRIGGER_CALL = "POST /3.0/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger"
UPSERT_CALL = "PUT /3.0/lists/{list_id}/members/{subscriber_hash}"


def overdue_debtors(outbound, as_of: str, days: int) -> dict[str, set[str]]:
    """From Xero itself: e-mail -> the numbers of its AUTHORISED invoices at least `days` past their DueDate."""
    xero = outbound.xero()
    invoices = xero.get_all("Invoices", "Invoices", Statuses="AUTHORISED")
    contacts = {c["ContactID"]: c for c in xero.get_all("Contacts", "Contacts")}
    out: dict[str, set[str]] = {}
    for i in invoices:
        due = xero_date(i.get("DueDateString") or i.get("DueDate"))
        if amount(i["AmountDue"]) > 0 and due is not None and (date.fromisoformat(as_of) - due).days >= days:
            email = contacts[i["Contact"]["ContactID"]].get("EmailAddress")
            if email:
                out.setdefault(email, set()).add(i["InvoiceNumber"])
    return out


def members(outbound) -> dict[str, dict]:
    return {m["email_address"]: m for m in outbound.chimp("GET", "/__sandbox__/members")["members"]}


def test_a_sandbox_month_with_both_features_on(editable):
    mapping = editable.mapping()
    result = editable.sync(mapping, "2026-10-01", "2026-10-31")
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.partition is None}
    assert checks["xero_matches_source"] and checks["nothing_quarantined"]
    assert checks["overdue_money_within_threshold"] is False  # a warning: over AUD 5,000 overdue late in the month

    # GoHighLevel: every first-time patient with consent is one contact, in the workflow once
    ghl = editable.ghl("GET", "/__sandbox__/contacts")["contacts"]
    enrolments = Counter(e["contactId"] for e in editable.ghl("GET", "/__sandbox__/enrolments")["enrolments"])
    assert ghl and sorted(enrolments.values()) == [1] * len(ghl) and set(enrolments) == {c["id"] for c in ghl}

    # Mailchimp: every overdue debtor tagged once, a journey step per invoice; opted-out and compliance never sent
    due = overdue_debtors(editable, "2026-10-31", MAILCHIMP["days_overdue"])
    awkward = dict(sandbox_debtors())
    assert set(awkward) <= set(due)  # the sandbox's awkward debtors are all overdue in October
    sendable = {email: numbers for email, numbers in due.items() if email not in awkward}
    found = members(editable)
    tagged = {e for e, m in found.items() if [t["name"] for t in m["tags"]] == ["overdue-invoice"]}
    assert tagged == set(sendable)
    calls = editable.chimp("GET", "/__sandbox__/stats")["calls"]
    assert calls[TAGS_CALL] == len(sendable)  # tagged once each
    triggers = editable.chimp("GET", "/__sandbox__/triggers")["triggers"]
    assert Counter(t["member"] for t in triggers) == {subscriber_hash(e): len(n) for e, n in sendable.items()}
    assert all(t["status"] == "transactional" for t in triggers)  # never an unsubscribed or cleaned member
    assert {found[e]["status"] for e, k in awkward.items() if k in ("unsubscribed", "cleaned")} == {
        "unsubscribed",
        "cleaned",
    }
    with editable.store() as store:
        rows = store.follow_ups("mailchimp", SANDBOX_AUDIENCE_ID)
    skipped = {r.reason for r in rows.values() if r.status == "skipped"}
    assert skipped == {
        "Mailchimp: Forgotten Email Not Subscribed",
        "Mailchimp: Member In Compliance State",
        "the member is unsubscribed in Mailchimp: never re-subscribed, not followed up",
        "the member is cleaned in Mailchimp: never re-subscribed, not followed up",
    }
    last = metadata(result, "mailchimp_follow_ups", "2026-10-31")
    assert last["followed_up"] == sum(len(n) for n in sendable.values()) and last["tagged"] == len(sendable)
    assert last["overdue_invoices"] >= last["followed_up"] and "CLK-" in last["overdue"]
    assert "Forgotten Email Not Subscribed" in last["not_followed_up"]
    assert metadata(result, "mailchimp_follow_ups", "2026-10-05")["overdue_invoices"] < last["overdue_invoices"]

    # no name, e-mail or phone in any metadata, check or the run's event log
    texts = metadata_texts(result) + [str(r) for r in editable.instance.all_logs(result.run_id)]
    assert not leaks(texts, editable.practice)

    # a re-run of the month changes nothing anywhere
    before = {
        "ghl": editable.ghl("GET", "/__sandbox__/stats")["calls"],
        "chimp": editable.chimp("GET", "/__sandbox__/stats")["calls"],
    }
    again = editable.sync(mapping, "2026-10-01", "2026-10-31")
    assert again.success
    assert change(before["ghl"], editable.ghl("GET", "/__sandbox__/stats")["calls"]) == {}
    assert change(before["chimp"], editable.chimp("GET", "/__sandbox__/stats")["calls"]) == {}
    assert all(metadata(again, "xero_sync", d)["writes"] == 0 for d in ("2026-10-14", "2026-10-30"))

    # an overdue invoice paid at the source: the payment reaches Xero, its debtor (no other overdue invoice) untagged
    single = next(e for e, numbers in sendable.items() if len(numbers) == 1)
    (number,) = sendable[single]
    invoice = next(i for i in editable.practice.invoices if f"CLK-{i['number']}" == number)
    invoice.update(status=20, status_description="Paid", closed_at="2026-10-31T02:00:00Z",
                   updated_at="2026-10-31T02:00:00Z")  # fmt: skip
    paid = editable.sync(mapping, "2026-10-31")
    assert paid.success and metadata(paid, "mailchimp_follow_ups", "2026-10-31")["untagged"] == 1
    assert members(editable)[single]["tags"] == []
    with editable.store() as store:
        row = store.follow_ups("mailchimp", SANDBOX_AUDIENCE_ID)[f"cliniko:invoice:{invoice['id']}"]
    assert (row.status, row.reason) == ("settled", "paid")
    after = editable.chimp("GET", "/__sandbox__/stats")["calls"]
    assert editable.sync(mapping, "2026-10-31").success
    assert change(after, editable.chimp("GET", "/__sandbox__/stats")["calls"]) == {}
    assert editable.ghl("GET", "/__sandbox__/contacts")["contacts"] == ghl  # untouched by all this


def test_follow_ups_repeat_after_the_spacing_and_failures_inside_a_batch_are_tried_again(outbound):
    mapping = outbound.mapping(gohighlevel=None)
    chimp_only = [follow_ups.build(PARTITIONS, load_mapping(mapping).mailchimp)]  # the follow-ups alone
    # a 429 without a body on the batch endpoint, and one journey trigger failing inside the second batch
    outbound.chimp("POST", "/__sandbox__/faults", json={"path_prefix": "/3.0/batches", "method": "POST",
                                                        "status": 429, "body": False})  # fmt: skip
    outbound.chimp("POST", "/__sandbox__/faults", json={"path_prefix": "/3.0/customer-journeys/", "status": 500})
    first = outbound.sync(mapping, "2026-10-01", "2026-10-14")
    assert first.success
    figures = metadata(first, "mailchimp_follow_ups", "2026-10-14")
    assert figures["failed"] == 1 and figures["followed_up"] >= 10
    with outbound.store() as store:
        rows = store.follow_ups("mailchimp", SANDBOX_AUDIENCE_ID)
    followed = {k for k, r in rows.items() if r.status == "overdue"}
    assert {r.last_follow_up for k, r in rows.items() if k in followed} == {"2026-10-14"}
    triggers = len(outbound.chimp("GET", "/__sandbox__/triggers")["triggers"])

    # six days on: the failed one and the invoices newly 7 days overdue go; none of the 14 Oct ones again
    sixth = outbound.run(chimp_only, mapping, "2026-10-20")
    assert sixth.success
    with outbound.store() as store:
        rows = store.follow_ups("mailchimp", SANDBOX_AUDIENCE_ID)
    assert all(rows[k].follow_ups == 1 and rows[k].last_follow_up == "2026-10-14" for k in followed)
    now_followed = {k for k, r in rows.items() if r.status == "overdue"} - followed
    assert now_followed and all(rows[k].last_follow_up == "2026-10-20" for k in now_followed)
    assert metadata(sixth, "mailchimp_follow_ups", "2026-10-20")["tagged"] < len(now_followed) + 1
    second = len(outbound.chimp("GET", "/__sandbox__/triggers")["triggers"])
    assert second - triggers == len(now_followed)

    # fourteen days after the first: those still overdue get their second follow-up, the others are not touched
    fortnight = outbound.run(chimp_only, mapping, "2026-10-28")
    assert fortnight.success
    with outbound.store() as store:
        rows = store.follow_ups("mailchimp", SANDBOX_AUDIENCE_ID)
    assert all(rows[k].follow_ups == 2 and rows[k].last_follow_up == "2026-10-28" for k in followed)
    assert all(rows[k].follow_ups == 1 for k in now_followed)
    calls = outbound.chimp("GET", "/__sandbox__/stats")["calls"]
    assert writes(calls)[TAGS_CALL] == len({r.member_id for r in rows.values() if r.status == "overdue"})
