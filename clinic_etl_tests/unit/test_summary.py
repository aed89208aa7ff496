"""Summary mode: one Xero invoice per day and business, whose Total and TotalTax in Xero (Xero's own per-line tax
arithmetic) equal the sums of the source invoices it covers, to the cent; payments per date received and account;
no patient in Xero; and the proof read back from Xero."""

from __future__ import annotations

import json
import random
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.ledger.money import allocate, cents
from clinic_etl.mapping import Mapping
from clinic_etl.sandbox.xero.schema import check, document
from clinic_etl.xero import jsonbody
from clinic_etl.xero.credit_frames import ALLOCATION_COLUMNS, CREDIT_NOTE_COLUMNS, REFUND_COLUMNS
from clinic_etl.xero.frames import CONTACT_COLUMNS, HELD_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, to_xero
from clinic_etl.xero.lines import inclusive_tax
from clinic_etl.xero.load_contacts import FIELDS as CONTACT_FIELDS
from clinic_etl.xero.load_invoices import element as invoice_element
from clinic_etl.xero.lock_dates import MOVED_COLUMNS
from clinic_etl.xero.org import XeroOrg
from clinic_etl.xero.reconcile import COLUMNS as RECONCILE_COLUMNS
from clinic_etl.xero.reconcile import summary as reconcile_summary
from clinic_etl.xero.summary import (
    COVER_COLUMNS,
    allocated_cents,
    days_to_complete,
    split_line,
    to_summary,
    xero_tax_cents,
)
from clinic_etl.xero.summary_reconcile import prove_summaries

D1, D2 = "2026-10-14", "2026-10-15"
ORG = XeroOrg(
    accounts={
        "200": {"Code": "200", "Type": "REVENUE"},
        "260": {"Code": "260", "Type": "REVENUE"},
        "090": {"Code": "090", "Type": "BANK"},
    },
    tax_rates={"OUTPUT": D("10"), "EXEMPTOUTPUT": D("0")},
    tracking={"Location": {"North", "South"}, "Practitioner": {"Dr A", "Dr B"}},
)
MAPPING = Mapping.model_validate(
    {
        "mode": "summary",
        "summary": {"businesses": {"b1": "North clinic"}},
        "accounts": {"by_item_code": {"RETAIL": "260"}},
        "tracking": [
            {"name": "Location", "by": "business", "options": {"b1": "North", "b2": "South"}},
            {"name": "Practitioner", "by": "practitioner", "options": {"p1": "Dr A", "p2": "Dr B"}},
        ],
    }
)
NAMES = ("Zoë", "Ångström", "zoe.angstrom@example.com")  # personal data: never in a summary frame


def invoice(n: int, day: str = D1, business: str | None = "b1", practitioner: str = "p1", **kw) -> dict:
    """An invoice spec: `lines` as (total, tax, rate[, item_code]); `status`; `tax_total` (default: the lines' tax
    rounded); `contact` (patient id)."""
    return {"n": n, "day": day, "business": business, "practitioner": practitioner, **kw}


def build(specs: list[dict], payments: list[tuple[str, int, str, str]] = (), credit_notes: list[dict] = ()) -> dict:
    """The ledger of `specs`; `payments`: (id, invoice n, date, amount)."""
    contacts, invoices, lines = {}, [], []
    for spec in specs:
        n, patient = spec["n"], spec.get("contact", 777000 + spec["n"])
        contacts[patient] = {
            "contact_key": f"cliniko:patient:{patient}",
            "source_id": str(patient),
            "first_name": NAMES[0],
            "last_name": f"{NAMES[1]} {patient}",
            "email": NAMES[2],
        }
        specified = spec.get("lines", [("110.00", "10.00", "10")])
        for no, line in enumerate(specified, 1):
            total, tax, rate = (D(v) for v in line[:3])
            lines.append(
                {
                    "invoice_key": f"cliniko:invoice:{n}",
                    "line_no": no,
                    "source_id": f"{n}{no}",
                    "description": spec.get("description", "Consult"),
                    "item_code": line[3] if len(line) > 3 else None,
                    "quantity": D(1),
                    "unit_price": total - tax,
                    "tax_rate": rate,
                    "tax_name": "GST" if rate else None,
                    "discount": D(0),
                    "total": total,
                    "tax": tax,
                }
            )
        invoices.append(
            {
                "invoice_key": f"cliniko:invoice:{n}",
                "source_id": str(n),
                "number": str(1000 + n),
                "issue_date": spec["day"],
                "contact_key": f"cliniko:patient:{patient}",
                "business_id": spec["business"],
                "practitioner_id": spec["practitioner"],
                "status": spec.get("status", "open"),
                "day": spec.get("synced", spec["day"]),
                "total": sum((D(line[0]) for line in specified), D(0)),
                "tax_total": D(spec["tax_total"]) if "tax_total" in spec else cents(sum(D(x[1]) for x in specified)),
                "url": None,
                "bill_to": f"{NAMES[0]} {NAMES[1]}",
            }
        )
    paid = [
        {
            "payment_key": f"cliniko:payment:{p}",
            "invoice_key": f"cliniko:invoice:{n}",
            "date": on,
            "day": on,
            "amount": D(a),
        }
        for p, n, on, a in payments
    ]
    frames = {
        "contacts": list(contacts.values()),
        "invoices": invoices,
        "lines": lines,
        "payments": paid,
        "credit_notes": list(credit_notes),
    }
    return complete({name: ledger_frame(name, rows) for name, rows in frames.items()})


def awkward(count: int = 240, seed: int = 7) -> list[dict]:
    """Invoices over two days, two businesses and two practitioners, with 3-dp line taxes (net prices of 3 dp),
    taxable and GST-free lines mixed, and retail lines to another account."""
    rng = random.Random(seed)
    specs = []
    for n in range(1, count + 1):
        lines = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.7:
                net = D(rng.randint(10_000, 250_000)) / 1000  # e.g. 81.818
                total = cents(net * D("1.1"))
                lines.append((str(total), str(total - net), "10", "RETAIL" if rng.random() < 0.2 else None))
            else:
                lines.append((str(D(rng.randint(1_000, 20_000)) / 100), "0", "0"))
        specs.append(
            invoice(
                n,
                day=rng.choice([D1, D2]),
                business=rng.choice(["b1", "b2"]),
                practitioner=rng.choice(["p1", "p2"]),
                lines=lines,
            )
        )
    return specs


def xero_view(items: list[dict]) -> tuple[D, D]:
    """(Total, TotalTax) as Xero computes them for tax-inclusive lines: per line tax (TaxAmount when sent) summed."""
    total = sum((i["Quantity"] * i["UnitAmount"] for i in items), D(0))
    assert total == sum((i["LineAmount"] for i in items), D(0))
    tax = sum((i.get("TaxAmount", inclusive_tax(i["LineAmount"], ORG.tax_rates[i["TaxType"]])) for i in items), D(0))
    return total, tax


def group_of(item: dict) -> tuple:
    return item["AccountCode"], item["TaxType"], json.dumps(item.get("Tracking", []))


def test_one_invoice_per_day_and_business_to_one_contact_per_business():
    specs = [invoice(1), invoice(2), invoice(3, business="b2"), invoice(4, day=D2), invoice(5, business=None)]
    docs, rejected = to_summary(build(specs), MAPPING.model_copy(update={"tracking": []}), ORG, "Cliniko")
    assert rejected.empty
    invoices = docs["invoices"].set_index("invoice_key")
    assert list(invoices.index) == ["summary:all:2026-10-14", "summary:b1:2026-10-14", "summary:b1:2026-10-15",
                                    "summary:b2:2026-10-14"]  # fmt: skip
    assert invoices.loc["summary:b1:2026-10-14", "InvoiceNumber"] == "SUM-20261014-b1"
    assert invoices.loc["summary:b1:2026-10-14", "total"] == D("220.00")
    assert invoices.loc["summary:b1:2026-10-14", "tax_total"] == D("20.00")
    assert invoices.loc["summary:b1:2026-10-14", "contact_key"] == "summary:contact:b1"
    assert set(invoices["Status"]) == {"AUTHORISED"} and set(invoices["source_status"]) == {"open"}
    contacts = docs["contacts"].set_index("contact_key")["Name"].to_dict()
    assert contacts == {
        "summary:contact:all": "Cliniko sales - all",
        "summary:contact:b1": "Cliniko sales - North clinic",
        "summary:contact:b2": "Cliniko sales - b2",
    }
    assert docs["covers"].values.tolist() == [
        ["summary:all:2026-10-14", "cliniko:invoice:5", D1],
        ["summary:b1:2026-10-14", "cliniko:invoice:1", D1],
        ["summary:b1:2026-10-14", "cliniko:invoice:2", D1],
        ["summary:b1:2026-10-15", "cliniko:invoice:4", D2],
        ["summary:b2:2026-10-14", "cliniko:invoice:3", D1],
    ]


def test_the_frames_and_columns_are_the_detailed_modes_plus_covers():
    docs, _ = to_summary(build([invoice(1)], [("1", 1, D1, "110.00")]), MAPPING, ORG, "Cliniko")
    detailed, _ = to_xero(build([invoice(1)], [("1", 1, D1, "110.00")]), MAPPING, ORG)
    assert set(docs) - set(detailed) == {"covers"}
    assert set(detailed) - set(docs) <= {"archived_contacts"}  # summary mode has no patient contact to archive
    for name in set(detailed) & set(docs):
        assert list(docs[name].columns) == list(detailed[name].columns), name
    assert list(docs["contacts"].columns) == CONTACT_COLUMNS and list(docs["invoices"].columns) == INVOICE_COLUMNS
    assert list(docs["payments"].columns) == PAYMENT_COLUMNS and list(docs["held"].columns) == HELD_COLUMNS
    assert list(docs["moved"].columns) == MOVED_COLUMNS and list(docs["covers"].columns) == COVER_COLUMNS
    assert list(docs["credit_notes"].columns) == CREDIT_NOTE_COLUMNS
    assert list(docs["credit_allocations"].columns) == ALLOCATION_COLUMNS
    assert list(docs["refunds"].columns) == REFUND_COLUMNS


def test_totals_and_tax_in_xero_equal_the_source_sums_to_the_cent_on_awkward_cents():
    ledger = build(awkward())
    docs, rejected = to_summary(ledger, MAPPING, ORG, "Cliniko")
    assert rejected.empty and len(docs["invoices"]) == 4
    source = ledger["invoices"].assign(summary=lambda f: "summary:" + f["business_id"] + ":" + f["issue_date"])
    split = False
    for row in docs["invoices"].to_dict("records"):
        mine = source[source["summary"] == row["invoice_key"]]
        total, tax = xero_view(row["LineItems"])
        assert total == row["total"] == sum(mine["total"], D(0))
        assert tax == row["tax_total"] == sum(mine["tax_total"], D(0))
        for item in row["LineItems"]:  # Xero takes a TaxAmount one cent off its own rounding, no more
            own = inclusive_tax(item["LineAmount"], ORG.tax_rates[item["TaxType"]])
            assert abs(item.get("TaxAmount", own) - own) <= D("0.01")
            split |= "part 1 of" in item["Description"]
    assert split  # some groups drift by more than a cent: they are split into lines


def test_each_line_group_holds_what_the_detailed_mode_books_to_it():
    ledger = build(awkward(120, seed=3))
    docs, _ = to_summary(ledger, MAPPING, ORG, "Cliniko")
    detailed, rejected = to_xero(ledger, MAPPING, ORG)
    assert rejected.empty
    keys = ledger["invoices"].set_index("invoice_key")
    expected: dict[tuple, list[D]] = {}
    for row in detailed["invoices"].to_dict("records"):
        source = keys.loc[row["invoice_key"]]
        for item in row["LineItems"]:
            key = (f"summary:{source['business_id']}:{source['issue_date']}", *group_of(item))
            sums = expected.setdefault(key, [D(0), D(0)])
            sums[0] += item["LineAmount"]
            sums[1] += item.get("TaxAmount", inclusive_tax(item["LineAmount"], ORG.tax_rates[item["TaxType"]]))
    found: dict[tuple, list[D]] = {}
    for row in docs["invoices"].to_dict("records"):
        groups = [group_of(i) for i in row["LineItems"]]
        assert groups == sorted(groups)  # lines in (account, tax type, tracking) order, a group's parts together
        for item in row["LineItems"]:
            sums = found.setdefault((row["invoice_key"], *group_of(item)), [D(0), D(0)])
            sums[0] += item["LineAmount"]
            sums[1] += xero_view([item])[1]
    assert found == expected
    accounts = {(k[1], k[2]) for k in found}
    assert accounts == {("200", "OUTPUT"), ("260", "OUTPUT"), ("200", "EXEMPTOUTPUT")}
    trackings = {k[3] for k in found if k[0] == "summary:b1:2026-10-14"}
    assert trackings == {
        json.dumps([{"Name": "Location", "Option": "North"}, {"Name": "Practitioner", "Option": o}])
        for o in ("Dr A", "Dr B")
    }


def test_lines_are_grouped_per_account_tax_type_and_tracking():
    specs = [
        invoice(1, lines=[("110.00", "10.00", "10"), ("50.00", "0", "0")]),
        invoice(2, lines=[("33.00", "3.00", "10", "RETAIL")]),
        invoice(3, practitioner="p2", lines=[("110.00", "10.00", "10")]),
        invoice(4, lines=[("220.00", "20.00", "10"), ("25.00", "0", "0")]),
    ]
    docs, _ = to_summary(build(specs), MAPPING, ORG, "Cliniko")
    items = docs["invoices"].iloc[0]["LineItems"]
    north = {"Name": "Location", "Option": "North"}
    got = [
        (i["AccountCode"], i["TaxType"], i["Tracking"][1]["Option"], i["LineAmount"], i.get("TaxAmount")) for i in items
    ]
    assert got == [
        ("200", "EXEMPTOUTPUT", "Dr A", D("75.00"), None),
        ("200", "OUTPUT", "Dr A", D("330.00"), None),
        ("200", "OUTPUT", "Dr B", D("110.00"), None),
        ("260", "OUTPUT", "Dr A", D("33.00"), None),
    ]
    assert all(i["Tracking"][0] == north for i in items)
    assert items[1]["Description"] == "2026-10-14 business b1, invoices: 2, lines: 2"


def _cells(frames: dict[str, pd.DataFrame]) -> str:
    return "\n".join(repr(v) for frame in frames.values() for v in frame.to_numpy().ravel())


def test_no_patient_name_email_or_id_reaches_any_frame():
    specs = awkward(30) + [invoice(900, status="draft"), invoice(901, status="deleted")]
    ledger = build(specs, [("1", 1, D1, "10.00")], credit_notes=[credit_note("5", 777001)])
    docs, rejected = to_summary(ledger, MAPPING, ORG, "Cliniko")
    bad = MAPPING.model_copy(update={"accounts": MAPPING.accounts.model_copy(update={"by_business": {"b2": "999"}})})
    docs_bad, rejected_bad = to_summary(ledger, bad, ORG, "Cliniko")
    text = _cells(docs) + _cells(docs_bad) + rejected.to_string() + rejected_bad.to_string()
    assert not rejected_bad.empty
    for personal in (*NAMES, "patient", "777001", "777030", "777900"):
        assert personal not in text
    assert "cliniko:invoice:1" in text  # ids of invoices are fine


def test_deleted_drafts_and_rule_excluded_invoices_are_not_summed():
    specs = [
        invoice(1),
        invoice(2, status="deleted"),
        invoice(3, lines=[("55.00", "0", "0", "WC")]),
        invoice(4, status="draft"),
        invoice(5, business="b2", status="deleted"),
        invoice(6, status="paid"),
    ]
    mapping = MAPPING.model_copy(update={"rules": MAPPING.rules.model_copy(update={"skip_item_codes": ["WC"]})})
    docs, rejected = to_summary(build(specs, [("1", 2, D1, "110.00")]), mapping, ORG, "Cliniko")
    assert rejected.empty
    invoices = docs["invoices"].set_index("invoice_key")
    live = invoices.loc["summary:b1:2026-10-14"]
    assert live["total"] == D("220.00") and xero_view(live["LineItems"]) == (D("220.00"), D("20.00"))
    assert sorted(docs["covers"]["source_key"]) == ["cliniko:invoice:1", "cliniko:invoice:6"]
    gone = invoices.loc["summary:b2:2026-10-14"]  # a day and business left with a deleted invoice only: voided
    assert gone["source_status"] == "deleted" and gone["LineItems"] == []
    excluded = dict(zip(docs["excluded"]["record_key"], docs["excluded"]["rule"], strict=True))
    assert excluded == {"cliniko:invoice:3": "item_code", "cliniko:invoice:4": "summary_drafts"}
    assert docs["payments"].empty  # the deleted invoice's payment is not summed


def test_payments_go_to_the_summary_of_their_invoices_issue_day_per_date_received_and_account():
    specs = [
        invoice(1),
        invoice(2, lines=[("55.00", "0", "0")]),
        invoice(3, day=D2),
        invoice(4, business="b2"),
    ]
    payments = [
        ("1", 1, D1, "110.00"),
        ("2", 2, D1, "20.00"),
        ("3", 2, D2, "35.00"),  # paid the next day: the issue day's summary, dated when received
        ("4", 3, D2, "110.00"),
        ("5", 4, D2, "50.00"),
    ]
    ledger = build(specs, payments)
    docs, rejected = to_summary(ledger, MAPPING, ORG, "Cliniko")
    assert rejected.empty
    got = docs["payments"][["payment_key", "invoice_key", "InvoiceNumber", "Date", "Amount", "AccountCode"]]
    assert got.values.tolist() == [
        ["summary:b1:2026-10-14:090:2026-10-14", "summary:b1:2026-10-14", "SUM-20261014-b1", D1, D("130.00"), "090"],
        ["summary:b1:2026-10-14:090:2026-10-15", "summary:b1:2026-10-14", "SUM-20261014-b1", D2, D("35.00"), "090"],
        ["summary:b1:2026-10-15:090:2026-10-15", "summary:b1:2026-10-15", "SUM-20261015-b1", D2, D("110.00"), "090"],
        ["summary:b2:2026-10-14:090:2026-10-15", "summary:b2:2026-10-14", "SUM-20261014-b2", D2, D("50.00"), "090"],
    ]
    assert list(docs["payments"]["Reference"])[0] == "SUM-20261014-b1 payments received 2026-10-14, payments: 2"
    covers = docs["covers"].set_index("source_key")["invoice_key"]
    source = ledger["payments"].assign(summary=lambda f: f["invoice_key"].map(covers))
    for key, amount in docs["payments"].groupby("invoice_key")["Amount"].sum().items():
        assert amount == sum(source.loc[source["summary"] == key, "amount"], D(0))
    assert len(docs["payments"]["Reference"].unique()) == len(docs["payments"])  # found again on its invoice


def test_payments_held_like_the_detailed_mode():
    ledger = build([invoice(1)], [("1", 1, D1, "110.00")])
    off = MAPPING.model_copy(update={"rules": MAPPING.rules.model_copy(update={"sync_payments": False})})
    docs, rejected = to_summary(ledger, off, ORG, "Cliniko")
    assert docs["payments"].empty and len(docs["held_payments"]) == 1 and docs["held_payments"].attrs["all"]
    no_bank = XeroOrg(accounts={k: v for k, v in ORG.accounts.items() if k != "090"}, tax_rates=ORG.tax_rates,
                      tracking=ORG.tracking)  # fmt: skip
    docs, rejected = to_summary(ledger, MAPPING, no_bank, "Cliniko")
    assert docs["payments"].empty and len(docs["held_payments"]) == 1
    assert rejected["reason"].str.contains("accounts.payments").all()


def test_numbering_and_content_hash_are_deterministic_and_change_only_for_the_edited_day():
    specs = awkward(60, seed=11)
    payments = [(str(n), n, D2, "5.00") for n in range(1, 61, 7)]
    first, _ = to_summary(build(specs, payments), MAPPING, ORG, "Cliniko")
    again, _ = to_summary(build(list(reversed(specs)), list(reversed(payments))), MAPPING, ORG, "Cliniko")
    pd.testing.assert_frame_equal(first["invoices"], again["invoices"])
    pd.testing.assert_frame_equal(first["payments"], again["payments"])
    assert list(first["contacts"]["content_hash"]) == list(again["contacts"]["content_hash"])
    hashes = first["invoices"].set_index("invoice_key")["content_hash"]

    def rehash(changed: list[dict], paid=payments) -> pd.Series:
        docs, _ = to_summary(build(changed, paid), MAPPING, ORG, "Cliniko")
        return docs["invoices"].set_index("invoice_key")["content_hash"]

    target = next(s for s in specs if s["day"] == D2 and s["business"] == "b1")
    edited = [dict(s, lines=[*s["lines"], ("11.00", "1.00", "10")]) if s is target else s for s in specs]
    after = rehash(edited)
    assert [k for k in hashes.index if hashes[k] != after[k]] == ["summary:b1:2026-10-15"]
    worded = [dict(s, description="Another description") if s is target else s for s in specs]
    assert rehash(worded).equals(hashes)  # nothing the summary says changed
    assert rehash(specs, [*payments, ("99", target["n"], D2, "1.00")]).equals(hashes)  # payments are their own


def test_an_unknown_account_rejects_the_invoice_with_the_key_to_fix_and_the_rest_goes_on():
    specs = [invoice(1), invoice(2, business="b2"), invoice(3, business="b2", day=D2)]
    bad = MAPPING.model_copy(update={"accounts": MAPPING.accounts.model_copy(update={"by_business": {"b2": "999"}})})
    ledger = build(specs, [("1", 2, D1, "110.00")])
    docs, rejected = to_summary(ledger, bad, ORG, "Cliniko")
    assert sorted(rejected["source_id"]) == ["2", "3"] and set(rejected["entity"]) == {"invoice"}
    assert rejected["reason"].str.contains(r"accounts.by_business\['b2'\]").all()
    _, detailed = to_xero(ledger, bad, ORG)  # the detailed mode's own reasons
    assert sorted(rejected["reason"]) == sorted(detailed["reason"])
    assert list(docs["invoices"]["invoice_key"]) == ["summary:b1:2026-10-14"]
    assert sorted(docs["held"]["invoice_key"]) == ["cliniko:invoice:2", "cliniko:invoice:3"]
    assert docs["payments"].empty  # the held invoice's payment waits with it
    unknown_tracking = MAPPING.model_copy(update={"tracking": MAPPING.tracking[:1]})
    _, rejected = to_summary(build([invoice(1, business="b3")]), unknown_tracking, ORG, "Cliniko")
    assert "no option for business b3 under tracking 'Location'" in rejected.iloc[0]["reason"]


def test_locked_period_holds_or_moves_the_summary():
    locked = XeroOrg(
        accounts=ORG.accounts, tax_rates=ORG.tax_rates, tracking=ORG.tracking, lock_date=pd.Timestamp(D1).date()
    )
    ledger = build([invoice(1), invoice(2, day=D2)], [("1", 1, D1, "110.00")])
    docs, rejected = to_summary(ledger, MAPPING, locked, "Cliniko")
    assert list(docs["invoices"]["invoice_key"]) == ["summary:b1:2026-10-15"]
    assert list(docs["held"]["invoice_key"]) == ["cliniko:invoice:1"]
    assert "locked period" in rejected.iloc[0]["reason"] and rejected.iloc[0]["source_id"] == "1"
    move = MAPPING.model_copy(update={"rules": MAPPING.rules.model_copy(update={"locked_period": "move"})})
    docs, rejected = to_summary(ledger, move, locked, "Cliniko")
    assert rejected.empty
    first = docs["invoices"].iloc[0]
    assert first["InvoiceNumber"] == "SUM-20261014-b1" and first["Date"] == D2
    assert docs["payments"].iloc[0]["Date"] == D2
    assert sorted(docs["moved"]["key"]) == ["summary:b1:2026-10-14", "summary:b1:2026-10-14:090:2026-10-15"]


def credit_note(n: str, patient: int, status: str = "open") -> dict:
    return {
        "credit_note_key": f"clio:credit_memo:{n}",
        "source_id": n,
        "number": f"CM-{n}",
        "issue_date": D1,
        "contact_key": f"cliniko:patient:{patient}",
        "status": status,
        "day": D1,
        "description": "Credit",
        "kind": "credit",
        "total": D("10.00"),
        "tax_total": D("0"),
    }


def test_credit_notes_are_rejected_with_a_reason_never_dropped_silently():
    ledger = build([invoice(1)], credit_notes=[credit_note("5", 777001), credit_note("6", 777001, "deleted")])
    docs, rejected = to_summary(ledger, MAPPING, ORG, "Cliniko")
    assert rejected[["source", "entity", "source_id"]].values.tolist() == [["clio", "credit_note", "5"]]
    assert "summary mode" in rejected.iloc[0]["reason"]
    assert docs["credit_notes"].empty and len(docs["invoices"]) == 1


def xero_answers(docs: dict[str, pd.DataFrame]) -> list[dict]:
    """What GET /Invoices answers for the summaries once loaded: Xero's own arithmetic on the lines sent."""
    paid = docs["payments"].groupby("invoice_key")["Amount"].sum()
    out = []
    for row in docs["invoices"].to_dict("records"):
        total, tax = xero_view(row["LineItems"])
        amount_paid = paid.get(row["invoice_key"], D(0))
        out.append(
            {
                "InvoiceNumber": row["InvoiceNumber"],
                "Total": float(total),
                "TotalTax": float(tax),
                "AmountPaid": float(amount_paid),
                "AmountCredited": 0.0,
                "Status": "PAID" if amount_paid == total else "AUTHORISED",
            }
        )
    return out


def test_prove_summaries_passes_a_loaded_day_and_flags_a_cent_of_difference():
    specs = awkward(80, seed=5)
    ledger = build(specs, [(str(n), n, D2, "20.00") for n in range(1, 81, 3)])
    bad = MAPPING.model_copy(update={"accounts": MAPPING.accounts.model_copy(update={"by_item_code": {"RETAIL": "9"}})})
    docs, rejected = to_summary(ledger, bad, ORG, "Cliniko")
    assert not rejected.empty and len(docs["held"])  # some invoices held: accounted for, not compared
    answers = xero_answers(docs)
    result = prove_summaries(docs, ledger, bad, answers)
    assert list(result.columns) == RECONCILE_COLUMNS
    assert result["ok"].all(), result.loc[~result["ok"], "problem"].tolist()
    assert len(result) == len(docs["invoices"]) + len(docs["held"])
    figures = reconcile_summary(result)
    assert figures["difference"] == "0.00" and figures["mismatches"] == 0
    answers[1]["Total"] = float(D(str(answers[1]["Total"])) + D("0.01"))
    result = prove_summaries(docs, ledger, bad, answers)
    wrong = result[~result["ok"]]
    assert list(wrong["InvoiceNumber"]) == [answers[1]["InvoiceNumber"]]
    assert "total" in wrong.iloc[0]["problem"] and "in Xero vs" in wrong.iloc[0]["problem"]
    assert reconcile_summary(result)["difference"] == "0.01"


def test_prove_summaries_sums_the_covered_source_invoices_not_the_plan():
    ledger = build([invoice(1), invoice(2)])
    docs, _ = to_summary(ledger, MAPPING, ORG, "Cliniko")
    answers = xero_answers(docs)
    docs["covers"] = docs["covers"].iloc[:1]  # a summary that stands for less than its plan says
    result = prove_summaries(docs, ledger, MAPPING, answers)
    assert not result.iloc[0]["ok"] and "summed from the source invoices it covers" in result.iloc[0]["problem"]


def _deref(schema: dict, schemas: dict) -> dict:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def unknown_fields(value: object, schema: dict, schemas: dict, path: str = "") -> list[str]:
    """Property names of `value` that the schema does not define, anywhere in it."""
    schema = _deref(schema, schemas)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        out = [f"{path}{k}" for k in value if k not in properties]
        for k, v in value.items():
            if k in properties:
                out += unknown_fields(v, properties[k], schemas, f"{path}{k}.")
        return out
    if isinstance(value, list):
        return [p for v in value for p in unknown_fields(v, schema.get("items", {}), schemas, path)]
    return []


SPEC = Path("/work/shared/reference/xero/xero_accounting.yaml")


def payloads() -> dict[str, list[dict]]:
    """The request bodies the loaders would send for a summary run (invoices, payments, contacts)."""
    ledger = build(awkward(40), [(str(n), n, D2, "5.00") for n in range(1, 41, 4)])
    docs, _ = to_summary(ledger, MAPPING, ORG, "Cliniko")
    contact_id = "00000000-0000-0000-0000-000000000001"
    invoices = [invoice_element(r, contact_id, "AUD") for r in docs["invoices"].to_dict("records")]
    payments = [  # as load_payments builds them
        {
            "Invoice": {"InvoiceID": "00000000-0000-0000-0000-000000000002"},
            "Account": {"Code": r["AccountCode"]},
            "Date": r["Date"],
            "Amount": r["Amount"],
            "Reference": r["Reference"],
        }
        for r in docs["payments"].to_dict("records")
    ]
    contacts = [
        {"ContactNumber": r["contact_key"], **{f: r[f] for f in CONTACT_FIELDS if isinstance(r[f], str)}}
        for r in docs["contacts"].to_dict("records")
    ]
    bodies = {"Invoices": invoices, "Payments": payments, "Contacts": contacts}
    assert all(bodies.values())
    return {name: json.loads(jsonbody.dumps({name: elements})) for name, elements in bodies.items()}


def test_every_payload_field_is_in_xeros_openapi_schema():
    schemas = document()["components"]["schemas"]  # Xero's spec (v16.1.0), as the sandbox ships it
    for name, body in payloads().items():
        assert unknown_fields(body, {"$ref": f"#/components/schemas/{name}"}, schemas) == [], name
        assert check(body, name, name) == (None, {}), name  # types, enums, formats and lengths


@pytest.mark.skipif(not SPEC.exists(), reason="the shared copy of Xero's OpenAPI spec is not on this machine")
def test_every_payload_field_is_in_the_shared_openapi_spec():
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schemas = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)["components"]["schemas"]  # noqa: S506
    for name, body in payloads().items():
        assert unknown_fields(body, {"$ref": f"#/components/schemas/{name}"}, schemas) == [], name


@pytest.mark.parametrize("rate", [D("10"), D("15"), D("0"), D("12.5")])
def test_split_lines_add_up_and_stay_within_a_cent_of_xeros_tax(rate):
    rng = random.Random(int(rate * 10))
    for _ in range(400):
        amount = rng.randint(-5_000, 2_000_000)
        drift = rng.randint(-40, 40) if rate else 0
        tax = xero_tax_cents(amount, rate) + drift
        parts = split_line(amount, tax, rate)
        assert sum(a for a, _, _ in parts) == amount and sum(t for _, t, _ in parts) == tax
        assert all(own == xero_tax_cents(a, rate) and abs(t - own) <= 1 for a, t, own in parts)
        assert len(parts) == 1 or abs(drift) > 1


def test_allocated_cents_is_the_detailed_modes_allocate_for_every_invoice_at_once():
    rng = random.Random(1)
    keys, parts, targets = [], [], {}
    for n in range(300):
        values = [D(rng.randint(-2_000, 90_000)) / 1000 for _ in range(rng.randint(1, 5))]
        targets[str(n)] = cents(sum(values, D(0))) + D(rng.randint(-3, 3)) / 100
        keys += [str(n)] * len(values)
        parts += values
    got = allocated_cents(pd.Series(keys), pd.Series(parts, dtype=object), pd.Series(targets))
    expected = []
    for key in targets:
        expected += allocate(targets[key], [p for k, p in zip(keys, parts, strict=True) if k == key])
    assert [D(int(c)).scaleb(-2) for c in got] == expected


def test_days_to_complete_names_the_issue_days_outside_the_run():
    ledger = build([invoice(1, day="2026-10-01", synced=D2), invoice(2, day=D2)])
    assert days_to_complete(ledger, [D2]) == ["2026-10-01"]
    docs, _ = to_summary(ledger, MAPPING, ORG, "Cliniko")
    assert docs["invoices"].set_index("invoice_key")["day"].to_dict() == {
        "summary:b1:2026-10-01": D2,  # synced on the run's day, numbered by its issue day
        "summary:b1:2026-10-15": D2,
    }


def test_summaries_load_into_the_simulated_xero_prove_to_the_cent_and_a_late_edit_reissues_only_its_day(tmp_path):
    """Through the real loader into the sandbox Xero (its own tax arithmetic and TaxAmount rules), then read back."""
    from clinic_etl.sandbox.transport import InProcessTransport
    from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
    from clinic_etl.sandbox.xero import create_app as xero_app
    from clinic_etl.store import StateStore
    from clinic_etl.xero.auth import XeroAuth
    from clinic_etl.xero.client import XeroClient
    from clinic_etl.xero.load import load_documents
    from clinic_etl_tests.pipeline.handmade import org_of

    transport = InProcessTransport(xero_app(str(tmp_path / "xero.sqlite")))
    auth = XeroAuth("http://xero.sandbox", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store=None, transport=transport)
    client = XeroClient("http://xero.sandbox", auth, transport=transport)
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    org = org_of(client)
    mapping = Mapping.model_validate({"mode": "summary", "summary": {"businesses": {"b1": "North clinic"}}})
    specs = awkward(150)
    payments = [(str(n), n, D2, "20.00") for n in range(1, 151, 3)]

    def run(changed: list[dict], run_id: str) -> dict[tuple[str, str], int]:
        ledger = build(changed, payments)
        docs, rejected = to_summary(ledger, mapping, org, "Cliniko")
        assert rejected.empty
        outcome = load_documents(client, store, docs, D1, "AUD", run_id=run_id)
        proof = prove_summaries(
            docs, ledger, mapping, client.invoices_by_number(list(docs["invoices"]["InvoiceNumber"]))
        )
        assert proof["ok"].all() and len(proof) == 4, proof.loc[~proof["ok"], "problem"].tolist()
        return outcome.groupby(["entity", "action"]).size().to_dict()

    assert run(specs, "r1") == {("contact", "created"): 2, ("invoice", "created"): 4, ("payment", "created"): 4}
    assert run(specs, "r2") == {("contact", "unchanged"): 2, ("invoice", "unchanged"): 4, ("payment", "unchanged"): 4}
    target = next(s for s in specs if s["day"] == D2 and s["business"] == "b1" and s["n"] % 3 == 1)  # a paid one
    edited = [dict(s, lines=[*s["lines"], ("11.00", "1.00", "10")]) if s is target else s for s in specs]
    changed = {k: v for k, v in run(edited, "r3").items() if k[1] != "unchanged"}
    assert changed == {("invoice", "updated"): 1, ("payment", "reversed"): 1, ("payment", "created"): 1}
