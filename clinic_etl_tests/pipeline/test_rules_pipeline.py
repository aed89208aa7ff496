"""The mapping's rules on a sandbox day: invoices billed to an insurer stay out of Xero, each listed as excluded
with its rule and amount (accounted for, never silent), and the day still reconciles."""

from __future__ import annotations

import re

from clinic_etl.sandbox.cliniko import names
from clinic_etl_tests.pipeline.conftest import DAY, checks, metadata

PATTERN = "|".join(re.escape(n) for n in names.INSURERS)


def test_invoices_billed_to_an_insurer_are_excluded_and_the_day_reconciles(sandbox, tmp_path, practice):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"rules:\n  skip_bill_to: '{PATTERN}'\n")
    result = sandbox.sync(DAY, mapping=str(mapping))
    assert checks(result)["xero_matches_source"], metadata(result, "xero_reconciliation")
    figures = metadata(result, "xero_documents", DAY)
    by_rule = figures["excluded_by_rule"]
    insured = [i for i in practice.invoices if i["issue_date"] == DAY and re.search(PATTERN, i.get("invoice_to") or "")]
    assert insured and by_rule["bill_to"]["records"] == len(insured)
    numbers = {i["InvoiceNumber"] for i in sandbox.xero().get_all("Invoices", "Invoices")}
    assert not {f"CLK-{i['number']}" for i in insured} & numbers
    assert {f"cliniko:invoice:{i['id']}" for i in insured[:20]} <= set(by_rule["bill_to"]["ids"])
