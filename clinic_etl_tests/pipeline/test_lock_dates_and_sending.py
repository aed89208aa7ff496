"""Xero's period lock date (a record dated on or before it is held in quarantine with the reason, or moved to the first
open day by the mapping's rules.locked_period) and invoices e-mailed by Xero once (send_invoices), on a hand-made
ledger against the simulated Xero."""

from __future__ import annotations

import pytest

from clinic_etl.mapping import Mapping, Rules
from clinic_etl_tests.pipeline.handmade import DAY, ledger, loader

LOCK = "2026-10-14"  # DAY itself is locked


@pytest.fixture
def locked(sandbox):
    assert sandbox.admin("POST", "/__sandbox__/lock_date", json={"PeriodLockDate": LOCK}).status_code == 200
    return sandbox


def close(client, store):
    client.close()
    store.dispose()


def test_a_record_in_the_locked_period_is_held_with_the_reason(locked):
    run, client, store = loader(locked, strict=False)
    try:
        done = run(ledger([("1", "1", DAY, "110.00")]))
        assert "test:bill:1" not in done.get("created", []) and client.get_all("Invoices", "Invoices") == []
        reasons = run.rejected.set_index("source_id")["reason"]
        assert set(reasons.index) == {"1", "2"} and all("locked period (on or before 2026-10-14)" in r for r in reasons)
    finally:
        close(client, store)


def test_moved_to_the_first_open_day_and_recorded(locked):
    run, client, store = loader(locked, Mapping(rules=Rules(locked_period="move")))
    try:
        done = run(ledger([("1", "1", DAY, "110.00")]))
        assert {"test:bill:1", "test:bill:2", "test:allocation:1"} <= set(done["created"])
        moved = run.documents["moved"].set_index("key")
        assert set(moved.index) == {"test:bill:1", "test:bill:2", "test:allocation:1"}
        assert set(moved["from"]) == {DAY} and set(moved["to"]) == {"2026-10-15"}
        dates = {i["InvoiceNumber"]: i["DateString"][:10] for i in client.get_all("Invoices", "Invoices")}
        assert dates == {"CLK-B-1": "2026-10-15", "CLK-B-2": "2026-10-15"}
        assert set(run(ledger([("1", "1", DAY, "110.00")]))) == {"unchanged"}
    finally:
        close(client, store)


def emails_sent(sandbox) -> int:
    calls = sandbox.admin("GET", "/__sandbox__/stats").json()["calls"]
    return sum(n for c, n in calls.items() if c.startswith("POST") and c.endswith("/Email"))


def test_approved_invoices_are_emailed_once_to_contacts_with_an_address(sandbox):
    run, client, store = loader(sandbox, Mapping(send_invoices=True))
    try:
        done = run(ledger([], emails={"1": "one@example.org"}))
        assert done["sent"] == ["test:bill:1"] and done["skipped"] == ["test:bill:2"]
        assert emails_sent(sandbox) == 1
        again = run(ledger([], emails={"1": "one@example.org"}))
        assert "sent" not in again and emails_sent(sandbox) == 1
    finally:
        close(client, store)


def test_nothing_is_emailed_unless_the_mapping_says_so(sandbox):
    run, client, store = loader(sandbox)
    try:
        run(ledger([], emails={"1": "one@example.org", "2": "two@example.org"}))
        assert emails_sent(sandbox) == 0
    finally:
        close(client, store)
