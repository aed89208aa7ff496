"""Source keys, not numbers, identify documents (issue 6.1): two source invoices with one number never merge into
one Xero invoice; the one that holds the number keeps it, the other waits in quarantine with a reason; the day is
incomplete (money held back), never a mismatch, and re-runs write nothing."""

from .conftest import DAY, EditableCliniko, checks, held_back, metadata, money

LATER = "2026-10-15"


def live(practice, day):
    return [
        i
        for i in practice.invoices
        if i["issue_date"] == day and not i.get("deleted_at") and not i.get("archived_at") and money(i["total_amount"])
    ]


def test_two_invoices_of_one_day_with_one_number_are_never_merged(sandbox, editable):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    first, second = sorted(live(practice, DAY), key=lambda i: int(i["id"]))[:2]
    assert money(first["total_amount"]) != money(second["total_amount"]) or first["patient_id"] != second["patient_id"]
    second["number"] = first["number"]

    result = sandbox.sync(DAY, cliniko=cliniko)
    assert held_back(result), [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    rec = metadata(result, "xero_reconciliation", DAY)
    assert rec["mismatches"] == 0 and rec["held"] == 1 and rec["reconciled"] is False
    assert money(rec["held_total"]) == money(second["total_amount"]) and money(rec["difference"]) == 0
    found = sandbox.xero().invoices_by_number([f"CLK-{first['number']}"])
    assert len(found) == 1 and money(found[0]["Total"]) == money(first["total_amount"])
    held = {q.source_id: q.reason for q in sandbox.store().open_quarantine(DAY)}
    reason = held[f"cliniko:invoice:{second['id']}"]
    assert f"cliniko:invoice:{first['id']}" in reason and "unique" in reason

    again = sandbox.sync(DAY, cliniko=cliniko)
    assert held_back(again) and metadata(again, "xero_sync", DAY)["writes"] == 0

    second["number"] = str(int(first["number"]) + 900000)  # renumbered in the source: it syncs, the hold lifts
    fixed = sandbox.sync(DAY, cliniko=cliniko)
    assert checks(fixed)["xero_matches_source"] and metadata(fixed, "xero_reconciliation", DAY)["reconciled"] is True
    assert sandbox.store().open_quarantine(DAY) == []


def test_a_later_invoice_reusing_a_synced_number_waits_and_the_first_stays_as_it_was(sandbox, editable):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    owner = live(practice, DAY)[0]
    assert checks(sandbox.sync(DAY, cliniko=cliniko))["xero_matches_source"]
    reuser = live(practice, LATER)[0]
    reuser["number"] = owner["number"]

    result = sandbox.sync(LATER, cliniko=cliniko)
    assert held_back(result)
    rec = metadata(result, "xero_reconciliation", LATER)
    assert rec["mismatches"] == 0 and rec["held"] == 1
    found = sandbox.xero().invoices_by_number([f"CLK-{owner['number']}"])
    assert len(found) == 1 and money(found[0]["Total"]) == money(owner["total_amount"])
    again = sandbox.sync(DAY, cliniko=cliniko)
    assert checks(again)["xero_matches_source"] and metadata(again, "xero_sync", DAY)["writes"] == 0
