"""Every invoice of the synthetic practice (3-dp nets, money and percentage discounts, GST and GST-free lines)
becomes Xero lines whose Xero arithmetic lands on Cliniko's total_amount and tax_amount to the cent."""

from decimal import Decimal
from zoneinfo import ZoneInfo

from clinic_etl.ledger.money import cents
from clinic_etl.mapping import Mapping
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko import SANDBOX_WINDOW
from clinic_etl.sources.cliniko.extract import extract
from clinic_etl.sources.cliniko.to_ledger import to_ledger
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.lines import inclusive_tax
from clinic_etl.xero.org import XeroOrg

from .conftest import make_client

ZONE = ZoneInfo("Australia/Sydney")
ORG = XeroOrg(
    accounts={"200": {"Type": "REVENUE"}, "090": {"Type": "BANK"}},
    tax_rates={"OUTPUT": Decimal(10), "EXEMPTOUTPUT": Decimal(0)},
)


def test_every_invoice_in_the_window_reconciles_under_xero_arithmetic(practice):
    cliniko, _ = make_client(practice, requests_per_minute=100_000)  # ~300 calls: above Cliniko's 200/min
    first, last = SANDBOX_WINDOW
    checked: set[str] = set()
    window = SyncWindow(first, last, ZONE)  # the whole practice in one extract: one single-run backfill
    ledger, rejected = to_ledger(extract(cliniko, window), window)
    assert rejected.empty, rejected.to_string()
    documents, rejected = to_xero(ledger, Mapping(), ORG)
    assert rejected.empty, rejected.to_string()
    for invoice in documents["invoices"].to_dict("records"):
        if invoice["source_status"] == "deleted":
            continue
        items = invoice["LineItems"]
        total = sum(cents(i["Quantity"] * i["UnitAmount"] - i.get("DiscountAmount", 0)) for i in items)
        tax = sum(i.get("TaxAmount", inclusive_tax(i["LineAmount"], ORG.tax_rates[i["TaxType"]])) for i in items)
        assert (total, tax) == (invoice["total"], invoice["tax_total"]), invoice["invoice_key"]
        checked.add(invoice["invoice_key"])
    live = {
        f"cliniko:invoice:{i['id']}" for i in practice.invoices if not i.get("deleted_at") and not i.get("archived_at")
    }
    assert checked == live and len(live) > 700
