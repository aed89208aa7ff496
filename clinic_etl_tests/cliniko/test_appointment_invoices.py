"""`invoice_from: appointments`: every completed individual appointment of the run's days becomes a ledger invoice
priced from its type's billable items (concession prices for a concession patient), unless Cliniko holds an invoice
for it; cancelled, did-not-arrive, not-yet-ended and (with require_arrival) unarrived appointments are not billed; an
appointment that cannot be priced is quarantined with its reason. Through the resource, against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from clinic_etl.sandbox.cliniko import reference
from clinic_etl.sandbox.cliniko.wire import parse_utc, utc
from clinic_etl.sources.cliniko.extract import extract
from clinic_etl.sources.cliniko.to_ledger import to_ledger

from .billing import DAY, appointment, fresh_practice, local_day, through_resource, unbilled_on, window
from .conftest import make_client

D = Decimal
APPOINTMENTS = {"invoice_from": "appointments"}


def cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def expected_lines(practice, appointment_row: dict) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(type item id, unit price, line total, line tax) straight from the practice's price lists."""
    patient = next(p for p in practice.patients if p["id"] == appointment_row["patient_id"])
    items = {i["id"]: i for i in practice.billable_items}
    rates = {t["id"]: D(t["rate"]) for t in practice.taxes}
    concession = {
        (c["billable_item_id"], c["concession_type_id"]): c["price"]
        for c in practice.concession_prices
        if c["price"] is not None
    }
    out = []
    for row in practice.appointment_type_billable_items:
        if row["appointment_type_id"] != appointment_row["appointment_type_id"]:
            continue
        item = items[row["billable_item_id"]]
        unit = D(concession.get((item["id"], patient["concession_type_id"]), item["price"]))
        factor = 1 + rates.get(item["tax_id"], D(0)) / 100
        gross = unit * row["quantity"] * factor
        total = cents(gross - cents(gross * D(row["discount_percentage"] or 0) / 100))
        out.append((row["id"], unit, total, total - (total / factor).quantize(D("0.001"), ROUND_HALF_UP)))
    return out


def to_bill(practice, day: str) -> set[str]:
    """Straight from the data: the appointments that ended on `day`, not cancelled, did-not-arrive, archived or
    deleted, without a live Cliniko invoice."""
    live = {i["appointment_id"] for i in practice.invoices if not i["deleted_at"] and not i["archived_at"]}
    return {
        a["id"]
        for a in practice.individual_appointments
        if local_day(a["ends_at"]) == day
        and not (a["cancelled_at"] or a["archived_at"] or a["deleted_at"] or a["did_not_arrive"])
        and a["id"] not in live
    }


def billed(ledger) -> pd.DataFrame:
    invoices = ledger["invoices"]
    return invoices[invoices["invoice_key"].str.startswith("cliniko:appointment:")].set_index("source_id")


def test_a_day_bills_each_completed_appointment_from_its_billable_items_and_concession_prices():
    practice = fresh_practice()
    first, second = unbilled_on(practice, DAY)[:2]
    pensioner = next(p for p in practice.patients if p["concession_type_id"] == reference.PENSIONER)
    student = next(p for p in practice.patients if p["concession_type_id"] == reference.STUDENT)
    first.update(appointment_type_id="1003", patient_id=pensioner["id"])  # two items, one GST, 10 % off
    second.update(appointment_type_id="1002", patient_id=student["id"])  # a Student row without a price: the item's

    ledger, rejected, raw = through_resource(practice, window(DAY), **APPOINTMENTS)

    assert rejected.empty, rejected.to_dict("records")
    completed = to_bill(practice, DAY)
    rows = billed(ledger)
    assert set(rows.index) == completed and {first["id"], second["id"]} <= completed
    assert set(rows["status"]) == {"open"} and set(rows["issue_date"]) == set(rows["day"]) == {DAY}
    for appointment_id, row in rows.iterrows():
        source = appointment(practice, appointment_id)
        assert row["number"] == f"APT-{appointment_id}"
        assert row["contact_key"] == f"cliniko:patient:{source['patient_id']}"
        assert (row["business_id"], row["practitioner_id"]) == (source["business_id"], source["practitioner_id"])
        lines = ledger["lines"][ledger["lines"]["invoice_key"] == row["invoice_key"]].sort_values("line_no")
        want = expected_lines(practice, source)
        got = lines[["source_id", "unit_price", "total", "tax"]].itertuples(index=False, name=None)
        assert list(got) == want
        assert row["total"] == sum(t for _, _, t, _ in want)
        assert all(isinstance(v, Decimal) for v in [row["total"], row["tax_total"], *lines["total"]])
    # the pensioner's consultation at the Pensioner price (75.0, GST-free) and the Pilates class taxed and discounted
    lines = ledger["lines"][ledger["lines"]["invoice_key"] == f"cliniko:appointment:{first['id']}"]
    assert list(lines["unit_price"]) == [D("75.0"), D("36.364")]
    assert list(lines["tax_name"]) == ["GST Free", "GST"] and list(lines["discount"]) == [D("0"), D("4.00")]
    assert (rows.at[first["id"], "total"], rows.at[first["id"], "tax_total"]) == (D("111.00"), D("3.27"))
    assert rows.at[second["id"], "total"] == D("110.00")  # Student has no price for the massage: the item's own
    assert set(ledger["contacts"]["contact_key"]) >= set(rows["contact_key"])
    # the price lists were read, and the patients' concession types with them (no appointment notes or names)
    assert "patient_name" not in raw["appointments"] and "concession_type_id" in raw["patients"]


def test_cancelled_did_not_arrive_and_unarrived_appointments_are_not_billed():
    practice = fresh_practice()
    cancelled, missed, unmarked, kept = unbilled_on(practice, "2026-10-15")[:4]
    starts = parse_utc(cancelled["starts_at"])
    cancelled.update(cancelled_at=utc(starts - timedelta(hours=20)), cancellation_reason=40, patient_arrived=False)
    cancelled["updated_at"] = cancelled["cancelled_at"]
    marked = utc(parse_utc(missed["ends_at"]) + timedelta(minutes=30))
    missed.update(did_not_arrive=True, patient_arrived=False, updated_at=marked)
    unmarked.update(patient_arrived=False, updated_at=unmarked["created_at"])

    ledger, rejected, _ = through_resource(practice, window("2026-10-15"), **APPOINTMENTS)
    rows = billed(ledger)
    assert rejected.empty
    assert kept["id"] in rows.index and unmarked["id"] in rows.index  # arrival is not asked for by default
    assert cancelled["id"] not in rows.index  # cancelled before it started: never billable, nothing to void
    # marked did-not-arrive after it ended: listed deleted only, so that an invoice synced before is voided (the load
    # skips one never synced); never billed
    assert rows.at[missed["id"], "status"] == "deleted" and rows.at[missed["id"], "total"] == 0
    assert not ledger["lines"]["invoice_key"].eq(f"cliniko:appointment:{missed['id']}").any()

    strict, _, _ = through_resource(practice, window("2026-10-15"), **APPOINTMENTS, require_arrival=True)
    assert unmarked["id"] not in billed(strict).index and kept["id"] in billed(strict).index


def test_an_appointment_not_yet_ended_is_not_billed(practice):
    cliniko, _ = make_client(practice, requests_per_minute=100_000)
    day = window("2026-10-15")
    ends = sorted(parse_utc(a["ends_at"]) for a in unbilled_on(practice, "2026-10-15"))
    now = ends[1] + timedelta(minutes=1)  # the first two have ended, the last ones not yet
    raw = extract(cliniko, day, invoice_from="appointments", now=now)
    assert all(parse_utc(e) < now for e in raw["appointments"]["ends_at"])
    ledger, _ = to_ledger(raw, day)
    rows = billed(ledger)
    ended = {a["id"] for a in unbilled_on(practice, "2026-10-15") if parse_utc(a["ends_at"]) < now}
    later = {a["id"] for a in unbilled_on(practice, "2026-10-15")} - ended
    assert ended <= set(rows.index) and later and not later & set(rows.index)
    # and through the resource, on the real clock: an appointment ending in an hour is not billed yet
    edited = fresh_practice()
    soon, done = unbilled_on(edited, "2026-10-15")[:2]
    moment = datetime.now(UTC).replace(microsecond=0)
    soon.update(starts_at=utc(moment), ends_at=utc(moment + timedelta(hours=1)))
    done.update(starts_at=utc(moment - timedelta(hours=2)), ends_at=utc(moment - timedelta(hours=1)))
    done["updated_at"] = done["ends_at"]
    today = window(local_day(done["ends_at"]), local_day(soon["ends_at"]))
    ledger, _, _ = through_resource(edited, today, **APPOINTMENTS)
    assert done["id"] in billed(ledger).index and soon["id"] not in billed(ledger).index


def test_an_appointment_invoiced_in_cliniko_yields_that_invoice_and_no_appointment_invoice():
    practice = fresh_practice()
    live = {i["appointment_id"]: i for i in practice.invoices if not i["deleted_at"] and not i["archived_at"]}
    backed = next(a for a in practice.individual_appointments if local_day(a["ends_at"]) == DAY and a["id"] in live)
    invoice = live[backed["id"]]
    # and one invoiced in Cliniko only a week later (issued outside the window): found by its appointment_id
    late = unbilled_on(practice, DAY)[0]
    raised = parse_utc(late["ends_at"]) + timedelta(days=7)
    practice.invoices.append(
        {
            **invoice,
            "id": "99001",
            "number": 99001,
            "appointment_id": late["id"],
            "patient_id": late["patient_id"],
            "issue_date": local_day(utc(raised)),
            "created_at": utc(raised),
            "updated_at": utc(raised),
            "closed_at": None,
            "status": 10,
        }
    )
    for n, item in enumerate(practice.items_of(invoice["id"]), start=1):
        practice.invoice_items.append({**item, "id": str(99100 + n), "invoice_id": "99001"})

    ledger, rejected, raw = through_resource(practice, window(DAY), **APPOINTMENTS)
    assert rejected.empty
    keys = set(ledger["invoices"]["invoice_key"])
    assert f"cliniko:invoice:{invoice['id']}" in keys and f"cliniko:appointment:{backed['id']}" not in keys
    assert "cliniko:invoice:99001" not in keys  # issued on a later day: synced on its own day
    assert late["id"] in set(raw["appointment_invoices"]["appointment_id"])
    # invoiced in Cliniko on a later day than it ended: listed deleted (an appointment invoice synced on its own
    # day is voided), never billed
    assert billed(ledger).at[late["id"], "status"] == "deleted"

    later, _, _ = through_resource(practice, window(local_day(utc(raised))), **APPOINTMENTS)
    rows = later["invoices"].set_index("invoice_key")
    assert rows.at["cliniko:invoice:99001", "status"] == "open"
    assert rows.at[f"cliniko:appointment:{late['id']}", "status"] == "deleted"


@pytest.mark.parametrize(
    ("type_id", "reason"),
    [
        ("1005", "appointment type 1005 bills nothing (no billable items)"),
        ("1999", "its appointment type 1999 was not returned by Cliniko"),
        (None, "it has no appointment type"),
    ],
)
def test_an_appointment_that_cannot_be_priced_is_quarantined_with_its_reason(type_id, reason):
    practice = fresh_practice()
    target = unbilled_on(practice, DAY)[0]
    target["appointment_type_id"] = type_id
    ledger, rejected, _ = through_resource(practice, window(DAY), **APPOINTMENTS)
    assert target["id"] not in billed(ledger).index
    assert rejected.to_dict("records") == [
        {
            "source": "cliniko",
            "entity": "appointment",
            "source_id": target["id"],
            "day": DAY,
            "reason": f"appointment {target['id']}: {reason}",
        }
    ]
    assert len(billed(ledger)) >= 1  # the rest of the day goes on


def test_a_bad_billable_item_quarantines_the_appointments_that_bill_it_without_personal_data():
    practice = fresh_practice()
    target = unbilled_on(practice, DAY)[0]
    type_id = target["appointment_type_id"]
    item_id = next(
        r["billable_item_id"] for r in practice.appointment_type_billable_items if r["appointment_type_id"] == type_id
    )
    next(i for i in practice.billable_items if i["id"] == item_id)["price"] = "ten dollars"
    ledger, rejected, _ = through_resource(practice, window(DAY), **APPOINTMENTS)
    billed_with = {a for a in to_bill(practice, DAY) if appointment(practice, a)["appointment_type_id"] == type_id}
    assert set(rejected["source_id"]) == billed_with and set(rejected["entity"]) == {"appointment"}
    assert all(
        f"its billable item {item_id} was rejected (price is not a decimal number" in r for r in rejected["reason"]
    )
    assert not set(billed_with) & set(billed(ledger).index)


def test_invoice_mode_reads_no_appointment_and_makes_no_appointment_invoice(practice):
    cliniko, _ = make_client(practice)
    raw = extract(cliniko, window(DAY))
    assert set(raw) == {"invoices", "invoice_items", "patients", "businesses", "practitioners", "taxes"}
    assert list(raw["patients"].columns) == ["id", "first_name", "last_name", "email", "archived_at", "deleted_at"]
    ledger, _, _ = through_resource(fresh_practice(), window(DAY))
    assert billed(ledger).empty


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def test_pricing_by_hand_the_deprecated_single_item_a_money_discount_and_an_unknown_tax():
    """Cliniko's documented item (FACTS §7): 100.0 + 10 % GST less a 20.0 money discount is 90.0, net 81.818."""
    booked = {"cancelled_at": None, "archived_at": None, "deleted_at": None, "did_not_arrive": "False"}
    visit = {**booked, "ends_at": "2026-10-14T01:00:00Z", "updated_at": "2026-10-14T01:00:00Z"}
    visit |= {"patient_arrived": "True", "patient_id": "9", "business_id": "1", "practitioner_id": "2"}
    raw = {
        "invoices": frame([]),
        "invoice_items": frame([]),
        "patients": frame(
            [
                {
                    "id": "9",
                    "first_name": "A",
                    "last_name": "B",
                    "email": None,
                    "archived_at": None,
                    "deleted_at": None,
                    "concession_type_id": None,
                }
            ]
        ),  # fmt: skip
        "taxes": frame([{"id": "1", "name": "GST", "rate": "10.0"}]),
        "appointments": frame(
            [
                {**visit, "id": "71", "appointment_type_id": "7"},
                {**visit, "id": "72", "appointment_type_id": "8"},
                {**visit, "id": "73", "appointment_type_id": "9"},
            ]
        ),
        "appointment_invoices": frame([]),
        "appointment_types": frame(
            [
                {"id": "7", "billable_item_id": "50", "archived_at": None},  # no type items: its one (deprecated) link
                {"id": "8", "billable_item_id": None, "archived_at": None},
                {"id": "9", "billable_item_id": "51", "archived_at": None},
            ]
        ),
        "appointment_type_billable_items": frame(
            [
                {
                    "id": "1",
                    "appointment_type_id": "8",
                    "billable_item_id": "51",
                    "quantity": "2",
                    "discount_percentage": None,
                    "discounted_amount": None,
                    "is_monetary_discount": "False",
                },
                {
                    "id": "2",
                    "appointment_type_id": "9",
                    "billable_item_id": "50",
                    "quantity": "1",
                    "discount_percentage": "18.1818",
                    "discounted_amount": "20.0",
                    "is_monetary_discount": "True",
                },
            ]  # fmt: skip
        ),
        "billable_items": frame(
            [
                {
                    "id": "50",
                    "item_code": "C1",
                    "name": "Consult",
                    "price": "100.0",
                    "tax_id": "1",
                    "archived_at": None,
                },
                {"id": "51", "item_code": "X", "name": "Other", "price": "50.0", "tax_id": "3", "archived_at": None},
            ]
        ),
        "concession_prices": frame([]),
    }
    ledger, rejected = to_ledger(raw, window(DAY))
    rows = billed(ledger)
    assert (rows.at["71", "total"], rows.at["71", "tax_total"]) == (D("110.00"), D("10.00"))
    assert (rows.at["73", "total"], rows.at["73", "tax_total"]) == (D("90.00"), D("8.18"))
    line = ledger["lines"][ledger["lines"]["invoice_key"] == "cliniko:appointment:73"].iloc[0]
    assert (line["discount"], line["total"], line["tax"], line["source_id"]) == (D("20.0"), D("90.00"), D("8.182"), "2")
    fallback = ledger["lines"][ledger["lines"]["invoice_key"] == "cliniko:appointment:71"].iloc[0]
    assert (fallback["source_id"], fallback["quantity"], fallback["item_code"]) == ("item-50", D("1"), "C1")
    assert "72" not in rows.index
    assert rejected[["entity", "source_id", "reason"]].to_dict("records") == [
        {
            "entity": "appointment",
            "source_id": "72",
            "reason": "appointment 72: its billable item 51 links tax 3, which Cliniko did not return",
        }
    ]
