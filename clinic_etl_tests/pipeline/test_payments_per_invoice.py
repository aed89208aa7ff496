"""The Xero loader on a hand-made ledger (any source): several payments per invoice, a payment edited or deleted at
the source, an unchanged re-run, and creates a killed run sent but never recorded (the pending writes journal).

Against the simulated Xero, through `load_documents` exactly as the load asset calls it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.mapping import Mapping
from clinic_etl.store import PendingWrite
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.load import load_documents
from clinic_etl.xero.org import XeroOrg

DAY, NEXT = "2026-10-14", "2026-10-15"
D = Decimal


def ledger(payments: list[tuple[str, str, str, str]], *, deleted: frozenset[str] = frozenset()) -> dict:
    """Two invoices of 110.00 (10 % tax) to two contacts; `payments`: (id, invoice id, date, amount)."""
    contacts = [
        {
            "contact_key": f"test:client:{i}",
            "source_id": str(i),
            "first_name": "Client",
            "last_name": f"Number {i}",
            "email": None,
        }
        for i in (1, 2)
    ]
    invoices, lines = [], []
    for i in (1, 2):
        key = f"test:bill:{i}"
        invoices.append(
            {
                "invoice_key": key,
                "source_id": str(i),
                "number": f"B-{i}",
                "issue_date": DAY,
                "contact_key": f"test:client:{i}",
                "business_id": None,
                "practitioner_id": None,
                "status": "deleted" if str(i) in deleted else "open",
                "day": DAY,
                "total": D("110.00"),
                "tax_total": D("10.00"),
                "url": None,
            }
        )
        if str(i) not in deleted:
            lines.append(
                {
                    "invoice_key": key,
                    "line_no": 1,
                    "source_id": f"{i}1",
                    "description": "Advice",
                    "item_code": None,
                    "quantity": D("1"),
                    "unit_price": D("100.00"),
                    "tax_rate": D("10"),
                    "tax_name": "GST",
                    "discount": D("0"),
                    "total": D("110.00"),
                    "tax": D("10.00"),
                }
            )
    rows = [
        {
            "payment_key": f"test:allocation:{p}",
            "invoice_key": f"test:bill:{inv}",
            "date": on,
            "day": on,
            "amount": D(amount),
        }
        for p, inv, on, amount in payments
    ]
    frames = {"contacts": contacts, "invoices": invoices, "lines": lines, "payments": rows}
    return complete({name: ledger_frame(name, r) for name, r in frames.items()})


@pytest.fixture
def load(sandbox):
    store, client = sandbox.store(), sandbox.xero()
    org = XeroOrg.from_api(
        client.get("Accounts")["Accounts"],
        client.get("TaxRates")["TaxRates"],
        client.get("TrackingCategories")["TrackingCategories"],
    )
    runs = iter(range(1, 100))

    def run(frames: dict) -> dict[str, list[str]]:
        documents, rejected = to_xero(frames, Mapping(), org)
        assert rejected.empty, rejected.to_dict("records")
        outcome = load_documents(client, store, documents, DAY, "AUD", run_id=f"run-{next(runs)}")
        return {a: sorted(outcome.loc[outcome["action"] == a, "key"]) for a in outcome["action"].unique()}

    yield run, client, store
    client.close()
    store.dispose()


def paid_in_xero(client) -> dict[str, tuple[str, Decimal, list[tuple[str, Decimal]]]]:
    """InvoiceNumber -> (status, amount paid, live payments as (reference, amount))."""
    out = {}
    for inv in client.get_all("Invoices", "Invoices"):
        full = client.get(f"Invoices/{inv['InvoiceID']}")["Invoices"][0]
        payments = sorted((p.get("Reference", ""), D(str(p["Amount"]))) for p in full.get("Payments") or [])
        out[inv["InvoiceNumber"]] = (inv["Status"], D(str(inv["AmountPaid"])), payments)
    return out


def test_several_payments_edits_and_deletions_are_mirrored_and_a_rerun_writes_nothing(load):
    run, client, _ = load
    first = ledger([("1", "1", DAY, "50.00"), ("2", "1", DAY, "60.00"), ("3", "2", DAY, "20.00")])
    done = run(first)
    assert done["created"] == sorted(
        [
            "test:client:1",
            "test:client:2",
            "test:bill:1",
            "test:bill:2",
            "test:allocation:1",
            "test:allocation:2",
            "test:allocation:3",
        ]
    )
    assert paid_in_xero(client) == {
        "CLK-B-1": ("PAID", D("110.00"), [("Test payment 1", D("50.00")), ("Test payment 2", D("60.00"))]),
        "CLK-B-2": ("AUTHORISED", D("20.00"), [("Test payment 3", D("20.00"))]),
    }
    assert set(run(first)) == {"unchanged"}  # a re-run writes nothing

    # payment 2 deleted at the source, payment 3 edited (amount and date), a new payment on bill 2
    second = ledger([("1", "1", DAY, "50.00"), ("3", "2", NEXT, "25.00"), ("4", "2", NEXT, "5.00")])
    done = run(second)
    assert done["reversed"] == ["test:allocation:2", "test:allocation:3"]
    assert done["created"] == ["test:allocation:3", "test:allocation:4"]
    assert paid_in_xero(client) == {
        "CLK-B-1": ("AUTHORISED", D("50.00"), [("Test payment 1", D("50.00"))]),
        "CLK-B-2": ("AUTHORISED", D("30.00"), [("Test payment 3", D("25.00")), ("Test payment 4", D("5.00"))]),
    }
    assert set(run(second)) == {"unchanged"}

    # bill 2 deleted at the source: its payments come off, then it is voided
    done = run(ledger([("1", "1", DAY, "50.00")], deleted=frozenset({"2"})))
    assert done["reversed"] == ["test:allocation:3", "test:allocation:4"]
    assert done["voided"] == ["test:bill:2"]
    assert paid_in_xero(client)["CLK-B-2"] == ("VOIDED", D("0.00"), [])


def test_creates_a_killed_run_sent_but_never_recorded_are_read_back_first(load, sandbox):
    run, client, store = load
    run(ledger([]))
    invoice_id = store.get_records(client.tenant_id, "invoice", ["test:bill:1"])["test:bill:1"].xero_id
    # a killed run: noted, sent (Xero applied it), never recorded
    store.note_pending(
        [
            PendingWrite(
                client.tenant_id, "payment", "test:allocation:9", "Test payment 9", "test:bill:1", DAY, "killed-run"
            )
        ]
    )
    client.write_batches(
        "PUT",
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": "090"},
                "Date": DAY,
                "Amount": D("40.00"),
                "Reference": "Test payment 9",
            },
        ],
    )
    store.note_pending(
        [
            PendingWrite(
                client.tenant_id, "payment", "test:allocation:10", "Test payment 10", "test:bill:1", DAY, "killed-run"
            )
        ]
    )  # noted, never sent

    # meanwhile the source deleted payment 9: the re-run finds it, records it, and takes it off
    done = run(ledger([]))
    assert done["adopted"] == ["test:allocation:9"]
    assert done["reversed"] == ["test:allocation:9"]
    assert paid_in_xero(client)["CLK-B-1"] == ("AUTHORISED", D("0.00"), [])
    assert store.pending(client.tenant_id) == []
    assert set(run(ledger([]))) == {"unchanged"}


def test_an_invoice_created_but_never_recorded_and_then_edited_is_updated(load, sandbox):
    run, client, store = load
    frames = ledger([])
    run(frames)
    # forget bill 2's record as a kill between Xero's write and the record would have, and note it pending
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM sync_map WHERE source_key = 'test:bill:2'")
    store.note_pending([PendingWrite(client.tenant_id, "invoice", "test:bill:2", "CLK-B-2", None, DAY, "killed")])
    edited = ledger([])
    edited["lines"].loc[edited["lines"]["invoice_key"] == "test:bill:2", "description"] = "Advice (amended)"
    done = run(edited)
    assert done["adopted"] == ["test:bill:2"] and done["updated"] == ["test:bill:2"]
    lines = client.invoices_by_number(["CLK-B-2"])[0]["LineItems"]
    assert [li["Description"] for li in lines] == ["Advice (amended)"]
    assert set(run(edited)) == {"unchanged"}
