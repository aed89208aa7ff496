"""Two Xero organisations through the whole sync: each business's invoices, payments and contacts go to its own
organisation (a patient of both businesses is a contact in each), each organisation reconciles to the source's totals
for its businesses, a re-run writes nothing, and an invoice made by hand under a tenant's prefix fails the proof."""

from collections import defaultdict
from decimal import Decimal

from clinic_etl.sandbox.xero import SANDBOX_SECOND_TENANT_ID, SANDBOX_TENANT_ID
from clinic_etl.store import StateStore
from clinic_etl.xero.same_document import xero_day

from .conftest import DAY, checks, metadata, money

SURRY_HILLS = "514810976554457178"  # the sandbox practice's first business; the others go to the second organisation


def two_tenants(tmp_path) -> str:
    path = tmp_path / "tenants.yaml"
    path.write_text(
        "tenants:\n"
        f"  - {{name: sydney, tenant_id: '{SANDBOX_TENANT_ID}', businesses: ['{SURRY_HILLS}']}}\n"
        f"  - {{name: others, tenant_id: '{SANDBOX_SECOND_TENANT_ID}', invoice_number_prefix: 'OTH-'}}\n",
        encoding="utf-8",
    )
    return str(path)


def live(practice, day: str) -> list[dict]:
    return [
        i for i in practice.invoices if i["issue_date"] == day and not i.get("deleted_at") and not i.get("archived_at")
    ]


def test_each_business_is_booked_to_its_organisation_and_each_reconciles(sandbox, practice, tmp_path):
    mapping = two_tenants(tmp_path)
    result = sandbox.sync(DAY, mapping=mapping, organisations=2)
    assert result.success, metadata(result, "xero_reconciliation")
    assert checks(result)["xero_matches_source"] and metadata(result, "xero_reconciliation", DAY)["reconciled"]

    expected: dict[str, dict[str, Decimal]] = defaultdict(dict)
    patients: dict[str, set] = defaultdict(set)
    for invoice in live(practice, DAY):
        tenant = SANDBOX_TENANT_ID if str(invoice["business_id"]) == SURRY_HILLS else SANDBOX_SECOND_TENANT_ID
        prefix = "CLK-" if tenant == SANDBOX_TENANT_ID else "OTH-"
        expected[tenant][f"{prefix}{invoice['number']}"] = money(invoice["total_amount"])
        patients[tenant].add(f"cliniko:patient:{invoice['patient_id']}")
    assert expected[SANDBOX_TENANT_ID] and expected[SANDBOX_SECOND_TENANT_ID]  # the day has both businesses
    for tenant, invoices in expected.items():
        xero = sandbox.xero(tenant)
        found = {
            i["InvoiceNumber"]: i
            for i in xero.get_all("Invoices", "Invoices")
            if i["Status"] != "VOIDED" and xero_day(i) == DAY  # (earlier days' invoices changed on DAY are there too)
        }
        assert {n: money(i["Total"]) for n, i in found.items()} == {n: t for n, t in invoices.items() if t}
        numbers = {c.get("ContactNumber") for c in xero.get_all("Contacts", "Contacts")}
        assert patients[tenant] <= numbers
    both = patients[SANDBOX_TENANT_ID] & patients[SANDBOX_SECOND_TENANT_ID]
    store = StateStore.open(sandbox.db_url)
    for tenant in (SANDBOX_TENANT_ID, SANDBOX_SECOND_TENANT_ID):  # the state store's records are per organisation
        numbers = {r.xero_number for r in store.get_records(tenant, "invoice").values()}
        other = SANDBOX_SECOND_TENANT_ID if tenant == SANDBOX_TENANT_ID else SANDBOX_TENANT_ID
        assert set(expected[tenant]) <= numbers and not numbers & set(expected[other])
        assert len(store.get_records(tenant, "contact", list(both))) == len(both)
    per_tenant = metadata(result, "xero_sync")["run_by_tenant"]
    assert set(per_tenant) == {"sydney", "others"} and all(p["invoice_created"] > 0 for p in per_tenant.values())

    again = sandbox.sync(DAY, mapping=mapping, organisations=2)
    assert again.success and metadata(again, "xero_sync")["writes"] == 0


def test_an_invoice_made_by_hand_under_a_tenants_prefix_fails_that_days_proof(sandbox, tmp_path):
    mapping = two_tenants(tmp_path)
    assert sandbox.sync(DAY, mapping=mapping, organisations=2).success
    xero = sandbox.xero(SANDBOX_SECOND_TENANT_ID)
    contact = xero.get_all("Contacts", "Contacts")[0]
    made = xero.write(
        "PUT",
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "InvoiceNumber": "OTH-999999",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "Date": DAY,
                    "DueDate": DAY,
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "Inclusive",
                    "LineItems": [{"Description": "By hand", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200"}],
                }
            ]
        },
    )
    assert made["Invoices"][0]["InvoiceNumber"] == "OTH-999999"
    proof = sandbox.sync(DAY, mapping=mapping, organisations=2)
    assert not proof.success and checks(proof)["xero_matches_source"] is False
    problems = metadata(proof, "xero_reconciliation", DAY)["differences"]
    rows = [r.data for r in problems.records]
    assert [(r["number"], r["problem"]) for r in rows] == [("OTH-999999", "in Xero with no source invoice")]
