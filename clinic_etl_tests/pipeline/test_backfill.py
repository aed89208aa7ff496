"""A range of days is one run (a single-run backfill): one extract, Xero batches across days, each day's figures
and reconciliation on its own partition; the same days re-run write nothing."""

from decimal import Decimal

from .conftest import checks, metadata, money

FIRST, LAST = "2026-10-05", "2026-10-18"


def days(first: str, last: str) -> list[str]:
    import datetime as dt

    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(n)).isoformat() for n in range((end - start).days + 1)]


def test_fourteen_days_in_one_run_reconcile_day_by_day_and_rerun_writes_nothing(sandbox, practice):
    result = sandbox.sync(FIRST, until=LAST)
    assert result.success and all(checks(result).values()), checks(result)
    assert len(sandbox.instance.get_runs()) == 1
    for asset in ("source_records", "practice_ledger", "xero_documents", "xero_sync", "xero_reconciliation"):
        assert sorted(m.partition for m in result.asset_materializations_for_node(asset)) == days(FIRST, LAST)
    issued = {d: [i for i in practice.invoices if i["issue_date"] == d] for d in days(FIRST, LAST)}
    for day in days(FIRST, LAST):
        rec = metadata(result, "xero_reconciliation", day)
        live = [i for i in issued[day] if not i.get("deleted_at") and not i.get("archived_at")]
        assert rec["reconciled"] is True and rec["mismatches"] == 0, (day, rec)
        assert money(rec["source_total"]) == money(rec["xero_total"]) >= sum(Decimal(i["total_amount"]) for i in live)
        assert metadata(result, "practice_ledger", day)["invoices"] >= len(issued[day])
    written = sum(metadata(result, "xero_sync", d)["writes"] for d in days(FIRST, LAST))
    xero = {i["InvoiceNumber"]: i for i in sandbox.xero().get_all("Invoices", "Invoices")}
    for invoice in (i for d in issued.values() for i in d if not i.get("deleted_at") and not i.get("archived_at")):
        found = xero[f"CLK-{invoice['number']}"]
        assert money(found["Total"]) == Decimal(invoice["total_amount"]), invoice["id"]
    # the writes went in batches across days: far fewer Xero calls than records written
    calls = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    writes = sum(n for c, n in calls.items() if "api.xro" in c and not c.startswith("GET"))
    assert written > 500 and writes * 20 < written, (writes, written)
    # the proof reads the window's invoices back by date, up to 1000 a page, not 40 numbers a GET
    reads = result.asset_materializations_for_node("xero_reconciliation")
    run_figures = next(m for m in reads if m.partition is None or "run_api_calls" in m.metadata)
    assert run_figures.metadata["run_api_calls"].value <= 3, run_figures.metadata["run_api_calls"]
    assert not [c for c in calls if c.startswith("GET") and "TrackingCategories" in c]  # the mapping names none

    again = sandbox.sync(FIRST, until=LAST)
    assert again.success and checks(again)["xero_matches_source"]
    assert all(metadata(again, "xero_sync", d)["writes"] == 0 for d in days(FIRST, LAST))
    after = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    assert {c: n for c, n in after.items() if "api.xro" in c and not c.startswith("GET")} == {
        c: n for c, n in calls.items() if "api.xro" in c and not c.startswith("GET")
    }


def test_a_first_backfill_reads_its_invoices_back_in_one_call(sandbox, practice):
    """From the practice's first day nothing is dated before the window, and the invoices deleted at the source
    before they were ever written (three of them here) are not asked for by number: Xero cannot hold them."""
    first, last = "2026-09-28", "2026-10-06"
    deleted = [i for i in practice.invoices if i.get("deleted_at") and first <= i["issue_date"] <= last]
    assert len(deleted) == 3
    result = sandbox.sync(first, until=last)
    assert result.success and checks(result)["xero_matches_source"]
    reads = result.asset_materializations_for_node("xero_reconciliation")
    run_figures = next(m for m in reads if m.partition is None or "run_api_calls" in m.metadata)
    assert run_figures.metadata["run_api_calls"].value == 1, run_figures.metadata["run_api_calls"]


def test_a_day_of_the_range_rerun_alone_writes_nothing(sandbox):
    assert sandbox.sync(FIRST, until="2026-10-08").success
    again = sandbox.sync("2026-10-07")
    assert checks(again)["xero_matches_source"] and metadata(again, "xero_sync", "2026-10-07")["writes"] == 0
