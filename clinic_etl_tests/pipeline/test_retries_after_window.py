"""Every write is safe to retry after Xero's idempotency window: a payment reversal or a void whose reply was lost
and whose retry Xero refuses ("already deleted", "not of valid status") is read back and counted as done, and the
day converges; a re-run writes nothing."""

from .conftest import DAY, EditableCliniko, checks, metadata, money
from .test_changes import utc

LATER = "2026-10-16"


def paid_invoices(practice, day):
    return [
        i
        for i in practice.invoices
        if i["issue_date"] == day
        and str(i["status"]) == "20"
        and not i.get("deleted_at")
        and not i.get("archived_at")
        and money(i["total_amount"]) > 0
    ]


def lose_replies(sandbox, prefix: str, method: str, count: int) -> None:
    fault = {"path_prefix": prefix, "method": method, "status": 500, "count": count, "after_write": True}
    assert sandbox.admin("POST", "/__sandbox__/faults", json=fault).status_code < 300


def test_lost_replies_of_reversals_and_voids_retried_after_the_window_converge(sandbox, editable):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    assert checks(sandbox.sync(DAY, cliniko=cliniko, idempotency_ttl_s=0))["xero_matches_source"]
    deleted, reopened = paid_invoices(practice, DAY)[:2]
    deleted.update(deleted_at=utc(LATER, 16), updated_at=utc(LATER, 16))
    reopened.update(status=10, closed_at=None, updated_at=utc(LATER, 17))
    lose_replies(sandbox, "/api.xro/2.0/Payments/", "POST", 2)  # both reversals applied, both replies lost
    lose_replies(sandbox, "/api.xro/2.0/Invoices", "POST", 1)  # the void applied, its reply lost

    result = sandbox.sync(LATER, cliniko=cliniko, idempotency_ttl_s=0)
    assert result.success and checks(result)["xero_matches_source"], metadata(result, "xero_reconciliation", LATER)
    done = metadata(result, "xero_sync", LATER)
    assert done.get("payment_reversed") == 2 and done.get("invoice_voided") == 1 and done["failed"] == 0, done
    xero = {
        i["InvoiceNumber"]: i
        for i in sandbox.xero().invoices_by_number([f"CLK-{deleted['number']}", f"CLK-{reopened['number']}"])
    }
    assert xero[f"CLK-{deleted['number']}"]["Status"] == "VOIDED"
    assert xero[f"CLK-{reopened['number']}"]["Status"] == "AUTHORISED"
    assert money(xero[f"CLK-{reopened['number']}"]["AmountPaid"]) == 0
    assert sandbox.admin("GET", "/__sandbox__/faults").json().get("faults", []) == []  # every fault was hit

    again = sandbox.sync(LATER, cliniko=cliniko, idempotency_ttl_s=0)
    assert checks(again)["xero_matches_source"] and metadata(again, "xero_sync", LATER)["writes"] == 0
