"""The whole daily sync, in-process, Cliniko simulator -> Xero simulator: exact totals, idempotent re-runs,
payments on later days, deletions, and recovery from a crash after Xero's write."""

from decimal import Decimal

from .conftest import DAY, checks, metadata, money


def live_invoices(practice, day):
    return [
        i for i in practice.invoices if i["issue_date"] == day and not i.get("deleted_at") and not i.get("archived_at")
    ]


def test_a_day_syncs_and_every_xero_total_equals_cliniko_to_the_cent(sandbox, practice):
    result = sandbox.sync()
    assert result.success
    assert checks(result) == {
        "lines_add_up_to_source_totals": True,
        "xero_matches_source": True,
        "nothing_quarantined": True,
    }
    issued = live_invoices(practice, DAY)
    xero = {i["InvoiceNumber"]: i for i in sandbox.xero().invoices_by_number([f"CLK-{i['number']}" for i in issued])}
    assert len(xero) == len(issued) > 10
    for invoice in issued:
        found = xero[f"CLK-{invoice['number']}"]
        assert money(found["Total"]) == Decimal(invoice["total_amount"]), invoice["id"]
        assert money(found["TotalTax"]) == Decimal(invoice["tax_amount"]), invoice["id"]
        paid_by_now = invoice["status"] in (20, "20") and invoice.get("closed_at")
        assert found["Status"] == ("PAID" if paid_by_now else "AUTHORISED")
    rec = metadata(result, "xero_reconciliation")
    assert rec["mismatches"] == 0 and money(rec["difference"]) == 0


def test_a_second_run_of_the_same_day_writes_nothing(sandbox):
    first = sandbox.sync()
    assert first.success and metadata(first, "xero_sync")["writes"] > 0
    before = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    second = sandbox.sync()
    assert second.success and checks(second)["xero_matches_source"]
    assert metadata(second, "xero_sync")["writes"] == 0
    after = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    writes = {c: after[c] - before.get(c, 0) for c in after if "api.xro" in c and not c.startswith("GET")}
    assert not any(writes.values()), writes
