"""Summary mode through the whole sync: one invoice per day and business to a summary customer, no patient in Xero,
each day's totals equal to the source's to the cent; a re-run writes nothing; a late payment and a late deletion
re-issue only their day's summary; switching modes on synced days is refused."""

from collections import defaultdict
from decimal import Decimal

from .conftest import DAY, EditableCliniko, checks, held_back, metadata, money
from .test_changes import open_invoices, utc

WEEK_END = "2026-10-16"
LATER = "2026-10-20"


def summary_mapping(tmp_path, mode: str = "summary") -> str:
    path = tmp_path / f"{mode}.yaml"
    path.write_text(f"mode: {mode}\nsummary: {{number_prefix: 'SUM-'}}\n", encoding="utf-8")
    return str(path)


def source_totals(practice, days: set[str]) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for i in practice.invoices:
        if i["issue_date"] in days and not i.get("deleted_at") and not i.get("archived_at"):
            out[(i["issue_date"].replace("-", ""), business_of(i))] += money(i["total_amount"])
    return {k: v for k, v in out.items() if v}


def xero_summaries(sandbox) -> dict[str, dict]:
    return {i["InvoiceNumber"]: i for i in sandbox.xero().get_all("Invoices", "Invoices") if i["Status"] != "VOIDED"}


def test_a_summarised_week_reconciles_to_the_cent_and_late_changes_reissue_only_their_day(sandbox, editable, tmp_path):
    slot, practice = editable
    cliniko = EditableCliniko(slot=slot)
    mapping = summary_mapping(tmp_path)
    result = sandbox.sync(DAY, until=WEEK_END, cliniko=cliniko, mapping=mapping)
    assert result.success and checks(result)["xero_matches_source"], metadata(result, "xero_reconciliation")

    days = {"2026-10-14", "2026-10-15", "2026-10-16"}
    found = xero_summaries(sandbox)
    # one invoice per day and business of the week; an earlier day touched by a change in the week (a late payment)
    # is summarised whole too; every summary's total is its day and business's, to the cent
    everything = source_totals(practice, {i["issue_date"] for i in practice.invoices})
    assert {f"SUM-{d}-{b}" for d, b in source_totals(practice, days)} <= set(found)
    for number, invoice in found.items():
        _, day, business = number.split("-")
        assert money(invoice["Total"]) == everything[(day, business)], number
    contacts = sandbox.xero().get_all("Contacts", "Contacts")
    assert contacts and all(str(c.get("ContactNumber", "")).startswith("summary:") for c in contacts)
    assert not any("cliniko:patient" in str(c) for c in contacts)  # no patient in Xero
    covers = metadata(result, "xero_documents", DAY)["summaries"]
    assert sum(len(ids) for ids in covers.values()) >= 1 and all(k.startswith("SUM-") for k in covers)
    for day in days:
        assert money(metadata(result, "xero_reconciliation", day)["difference"]) == 0

    again = sandbox.sync(DAY, until=WEEK_END, cliniko=cliniko, mapping=mapping)
    assert again.success and metadata(again, "xero_sync")["writes"] == 0

    paid_later, deleted_later = open_invoices(practice, DAY)[:2]
    paid_later.update(status=20, status_description="Paid", closed_at=utc(LATER, 15), updated_at=utc(LATER, 15))
    deleted_later.update(deleted_at=utc(LATER, 16), updated_at=utc(LATER, 16))
    before = xero_summaries(sandbox)
    late = sandbox.sync(LATER, cliniko=cliniko, mapping=mapping)
    assert late.success and checks(late)["xero_matches_source"], metadata(late, "xero_reconciliation")
    after = xero_summaries(sandbox)
    changed = {n for n in after if n in before and after[n]["Total"] != before[n]["Total"]}
    assert changed == {f"SUM-{DAY.replace('-', '')}-{b}" for b in {business_of(deleted_later)}}
    everything = source_totals(practice, {i["issue_date"] for i in practice.invoices})
    for number, invoice in after.items():
        _, day, business = number.split("-")
        assert money(invoice["Total"]) == everything[(day, business)], number
    paid_summary = after[f"SUM-{DAY.replace('-', '')}-{business_of(paid_later)}"]
    assert money(paid_summary["AmountPaid"]) >= money(paid_later["total_amount"])


def business_of(invoice) -> str:
    return str(invoice["business_id"])


def test_switching_a_synced_day_to_the_other_mode_is_refused_with_a_clear_error(sandbox, tmp_path):
    assert sandbox.sync(DAY).success  # detailed
    refused = sandbox.sync(DAY, mapping=summary_mapping(tmp_path))
    failed = [e for e in refused.all_events if e.is_step_failure]
    assert [e.step_key for e in failed] == ["xero_documents"]
    message = failed[0].step_failure_data.error.message
    assert "mode is summary" in message and f"synced in detailed mode ({DAY} to {DAY})" in message
    assert not held_back(refused)
