"""Source lines become Xero lines whose own arithmetic (Quantity x UnitAmount - DiscountAmount, tax per line
rounded then summed) lands exactly on the source totals, including 3-dp and discounted lines."""

from decimal import Decimal as D

import pandas as pd
import pytest

from clinic_etl.ledger.money import cents
from clinic_etl.mapping import Mapping
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.lines import inclusive_tax, quantity_price
from clinic_etl.xero.org import XeroOrg

ORG = XeroOrg(
    accounts={"200": {"Code": "200", "Type": "REVENUE"}, "090": {"Code": "090", "Type": "BANK"}},
    tax_rates={"OUTPUT": D("10"), "EXEMPTOUTPUT": D("0")},
)


def xero_line_amount(item: dict) -> D:
    return cents(item["Quantity"] * item["UnitAmount"] - item.get("DiscountAmount", D(0)))


@pytest.mark.parametrize(
    ("qty", "unit", "rate", "amount"),
    [
        (D(1), D("100.0"), D(10), D("90.00")),  # money discount 20 on 110 gross -> net 81.818
        (D(3), D("33.333"), D(10), D("110.00")),  # 3-dp unit price
        (D(2), D("95.0"), D(0), D("171.00")),  # 10 % discount
        (D(1), D("81.818"), D(10), D("90.00")),
        (D(7), D("12.345"), D(10), D("95.06")),
    ],
)
def test_quantity_price_reproduces_the_amount(qty, unit, rate, amount):
    item = quantity_price(qty, unit, rate, amount)
    assert xero_line_amount(item) == amount
    assert item["Quantity"] * item["UnitAmount"] - item.get("DiscountAmount", D(0)) == amount


def ledger(lines: list[tuple[str, str, str, str, str, str]], total: str, tax: str) -> dict[str, pd.DataFrame]:
    """lines: (quantity, unit_price, rate, discount, total_incl, net)"""
    invoice = {
        "invoice_key": "cliniko:invoice:1",
        "source_id": "1",
        "number": "104",
        "issue_date": "2026-10-14",
        "contact_key": "cliniko:patient:9",
        "business_id": "1",
        "practitioner_id": None,
        "status": "open",
        "day": "2026-10-14",
        "total": D(total),
        "tax_total": D(tax),
        "url": None,
    }
    rows = [
        {
            "invoice_key": "cliniko:invoice:1",
            "line_no": n,
            "source_id": str(n),
            "description": "Consult",
            "item_code": None,
            "quantity": D(q),
            "unit_price": D(u),
            "tax_rate": D(r),
            "tax_name": "GST" if D(r) else None,
            "discount": D(d),
            "total": D(t),
            "tax": D(t) - D(net),
        }
        for n, (q, u, r, d, t, net) in enumerate(lines, 1)
    ]
    contact = {
        "contact_key": "cliniko:patient:9",
        "source_id": "9",
        "first_name": "Zoë",
        "last_name": "Ångström",
        "email": None,
    }
    return {
        "contacts": pd.DataFrame([contact]),
        "invoices": pd.DataFrame([invoice]),
        "lines": pd.DataFrame(rows),
        "payments": pd.DataFrame(columns=["payment_key", "invoice_key", "date", "day", "amount"]),
    }


def test_invoice_total_and_tax_land_on_the_source_to_the_cent():
    # three GST lines of 3-dp nets whose taxes, rounded line by line, would drift a cent from Cliniko's
    lines = [
        ("1", "30.303", "10", "0", "33.33", "30.300"),
        ("1", "30.303", "10", "0", "33.33", "30.300"),
        ("1", "30.303", "10", "0", "33.34", "30.309"),
        ("2", "50.0", "0", "10.0", "90.00", "90.000"),
    ]
    total, tax = "189.99", "9.08"  # net = round2(30.300 + 30.300 + 30.309 + 90) = 180.91
    docs, rejected = to_xero(ledger(lines, total, tax), Mapping(), ORG)
    assert rejected.empty
    items = docs["invoices"].iloc[0]["LineItems"]
    assert sum(xero_line_amount(i) for i in items) == D(total)
    xero_tax = sum(i.get("TaxAmount", inclusive_tax(i["LineAmount"], ORG.tax_rates[i["TaxType"]])) for i in items)
    assert xero_tax == D(tax)
    assert [i["TaxType"] for i in items] == ["OUTPUT", "OUTPUT", "OUTPUT", "EXEMPTOUTPUT"]
    assert all(i["AccountCode"] == "200" for i in items)


def test_unknown_tax_and_unknown_account_are_rejected_with_the_fix():
    lines = [("1", "100.0", "15", "0", "115.00", "100.000")]
    _, rejected = to_xero(ledger(lines, "115.00", "15.00"), Mapping(), ORG)
    assert "add it under taxes.by_name" in rejected.iloc[0]["reason"]
    bad_account = Mapping.model_validate({"accounts": {"by_business": {"1": "999"}}})
    _, rejected = to_xero(ledger([("1", "50.0", "0", "0", "50.00", "50.000")], "50.00", "0"), bad_account, ORG)
    assert "accounts.by_business['1']" in rejected.iloc[0]["reason"]
    assert "Zoë" not in rejected.to_string()


def test_a_rejected_appointment_invoice_is_filed_under_appointment_as_the_ledger_files_it():
    frames = ledger([("1", "100.0", "15", "0", "115.00", "100.000")], "115.00", "15.00")
    for name in ("invoices", "lines"):
        frames[name] = frames[name].assign(invoice_key="cliniko:appointment:1")
    _, rejected = to_xero(frames, Mapping(), ORG)
    assert rejected[["source", "entity", "source_id"]].values.tolist() == [["cliniko", "appointment", "1"]]
    _, rejected = to_xero(ledger([("1", "100.0", "15", "0", "115.00", "100.000")], "115.00", "15.00"), Mapping(), ORG)
    assert rejected[["source", "entity", "source_id"]].values.tolist() == [["cliniko", "invoice", "1"]]


def test_two_patients_with_one_name_stay_two_contacts():
    base = ledger([("1", "50.0", "0", "0", "50.00", "50.000")], "50.00", "0")
    twin = dict(base["contacts"].iloc[0], contact_key="cliniko:patient:12", source_id="12")
    base["contacts"] = pd.concat([base["contacts"], pd.DataFrame([twin])], ignore_index=True)
    second = dict(
        base["invoices"].iloc[0], invoice_key="cliniko:invoice:2", number="105", contact_key="cliniko:patient:12"
    )
    base["invoices"] = pd.concat([base["invoices"], pd.DataFrame([second])], ignore_index=True)
    base["lines"] = pd.concat([base["lines"], base["lines"].assign(invoice_key="cliniko:invoice:2")], ignore_index=True)
    docs, _ = to_xero(base, Mapping(), ORG)
    names = list(docs["contacts"]["Name"])
    assert len(names) == 2 and len({n.casefold() for n in names}) == 2
    assert names == ["Zoë Ångström", "Zoë Ångström (12)"]


def test_accounts_and_tracking_follow_the_mapping_by_item_practitioner_and_business():
    org = XeroOrg(
        accounts={**ORG.accounts, "260": {"Type": "REVENUE"}, "270": {"Type": "REVENUE"}},
        tax_rates=ORG.tax_rates,
        tracking={"Location": {"Sydney CBD"}},
    )
    mapping = Mapping.model_validate(
        {
            "accounts": {"by_practitioner": {"7": "260"}, "by_item_code": {"RETAIL": "270"}},
            "tracking": [{"name": "Location", "by": "business", "options": {"1": "Sydney CBD"}}],
        }
    )
    base = ledger(
        [("1", "50.0", "0", "0", "50.00", "50.000"), ("1", "20.0", "0", "0", "20.00", "20.000")], "70.00", "0"
    )
    base["invoices"].loc[0, "practitioner_id"] = "7"
    base["lines"].loc[1, "item_code"] = "RETAIL"
    docs, rejected = to_xero(base, mapping, org)
    assert rejected.empty
    items = docs["invoices"].iloc[0]["LineItems"]
    assert [i["AccountCode"] for i in items] == ["260", "270"]
    assert all(i["Tracking"] == [{"Name": "Location", "Option": "Sydney CBD"}] for i in items)
    base["invoices"].loc[0, "business_id"] = "2"  # no option mapped for business 2
    _, rejected = to_xero(base, mapping, org)
    assert "no option for business 2 under tracking 'Location'" in rejected.iloc[0]["reason"]
