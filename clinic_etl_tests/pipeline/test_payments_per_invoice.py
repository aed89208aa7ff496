"""The Xero loader on a hand-made ledger (any source): several payments per invoice, a payment edited or deleted at
the source, an unchanged re-run, and creates a killed run sent but never recorded (the pending writes journal).

Against the simulated Xero, through `load_documents` exactly as the load asset calls it."""

from __future__ import annotations

import pytest

from clinic_etl.mapping import Mapping, Rules
from clinic_etl.store import PendingWrite
from clinic_etl_tests.pipeline.handmade import DAY, NEXT, D, ledger, loader, paid_in_xero


@pytest.fixture
def load(handmade):
    return handmade


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


def test_with_payment_sync_off_xero_payments_are_left_as_they_are(load, sandbox):
    run, client, store = load
    run(ledger([("1", "1", DAY, "110.00")]))
    off, off_client, off_store = loader(sandbox, Mapping(rules=Rules(sync_payments=False)))
    try:
        done = off(ledger([("2", "1", DAY, "60.00")]))  # the source changed; the finance team said hands off
        assert set(done) == {"unchanged"} and "test:allocation:1" not in done["unchanged"]
        assert paid_in_xero(client)["CLK-B-1"] == ("PAID", D("110.00"), [("Test payment 1", D("110.00"))])
    finally:
        off_client.close()
        off_store.dispose()
