"""Xero sandbox: Idempotency-Key, rate limits shared through the state file, injected faults, stats,
GET paging and filters, and the shipped schema extract."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from clinic_etl.sandbox.xero import create_app

from .xero_client import FakeClock, SandboxClient, accrec


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path, clock) -> SandboxClient:
    return SandboxClient(create_app(tmp_path / "xero.db", clock=clock, calls_per_minute=10_000))


def contacts_named(client: SandboxClient, name: str) -> list[dict]:
    return client.get("Contacts", params={"where": f'Name=="{name}"'}).json()["Contacts"]


def test_idempotency_key_replays_and_refuses_a_different_request(client, clock):
    body = {"Contacts": [{"Name": "Keyed Patient"}]}
    first = client.put("Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    second = client.put("Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(contacts_named(client, "Keyed Patient")) == 1
    other = client.put("Contacts", json={"Contacts": [{"Name": "Someone Else"}]}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 400
    assert other.json()["Message"] == "Idempotency Key: k-1 is used with a different request."
    assert contacts_named(client, "Someone Else") == []
    post = client.post("Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert post.status_code == 400  # same body, different method
    # errors are cached too
    bad = {"Contacts": [{"Name": "Keyed Patient"}]}
    e1 = client.put("Contacts", json=bad, headers={"Idempotency-Key": "k-2"})
    e2 = client.put("Contacts", json=bad, headers={"Idempotency-Key": "k-2"})
    assert e1.status_code == e2.status_code == 400 and e1.content == e2.content
    # keys expire (about 6 minutes)
    clock.advance(361)
    late = client.put("Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert late.status_code == 400 and "already assigned" in late.text
    assert client.put("Contacts", json=body, headers={"Idempotency-Key": "k" * 129}).status_code == 400


def test_minute_limit_is_shared_by_two_apps_on_one_state_file(tmp_path, clock):
    path = tmp_path / "shared.db"
    one = SandboxClient(create_app(path, clock=clock, calls_per_minute=5))
    two = SandboxClient(create_app(path, clock=clock, calls_per_minute=5))
    remaining = [one.get("Organisation").headers["X-MinLimit-Remaining"] for _ in range(3)]
    remaining += [two.get("Organisation").headers["X-MinLimit-Remaining"] for _ in range(2)]
    assert remaining == ["4", "3", "2", "1", "0"]
    clock.advance(20)
    limited = one.get("Organisation")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert int(limited.headers["Retry-After"]) == 40
    assert "X-DayLimit-Remaining" in limited.headers and "X-AppMinLimit-Remaining" in limited.headers
    assert two.get("Organisation").status_code == 429
    clock.advance(40)
    assert one.get("Organisation").status_code == 200


def test_two_apps_on_one_state_file_share_one_organisation(tmp_path):
    one = SandboxClient(create_app(tmp_path / "shared.db"))
    two = SandboxClient(create_app(tmp_path / "shared.db"))
    created = one.put("Contacts", json={"Contacts": [{"Name": "Shared Patient"}]}).json()["Contacts"][0]
    assert two.get(f"Contacts/{created['ContactID']}").json()["Contacts"][0]["Name"] == "Shared Patient"
    assert two.put("Contacts", json={"Contacts": [{"Name": "shared patient"}]}).status_code == 400


def test_day_limit(tmp_path, clock):
    client = SandboxClient(create_app(tmp_path / "x.db", clock=clock, calls_per_day=3))
    assert all(client.get("TaxRates").status_code == 200 for _ in range(3))
    clock.advance(1000)
    limited = client.get("TaxRates")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert int(limited.headers["Retry-After"]) == 86400 - 1000


def test_faults_after_write_and_before_write(client):
    contact = client.put("Contacts", json={"Contacts": [{"Name": "Faulty"}]}).json()["Contacts"][0]["ContactID"]
    fault = {
        "path_prefix": "/api.xro/2.0/Invoices",
        "method": "PUT",
        "status": 500,
        "count": 1,
        "after_write": True,
    }
    assert client.request("POST", "/__sandbox__/faults", json=fault).status_code == 200
    body = {"Invoices": [accrec(contact, InvoiceNumber="INV-777")]}
    crashed = client.put("Invoices", json=body, headers={"Idempotency-Key": "inv-777"})
    assert crashed.status_code == 500
    found = client.get("Invoices", params={"InvoiceNumbers": "INV-777"}).json()["Invoices"]
    assert len(found) == 1
    retry = client.put("Invoices", json=body, headers={"Idempotency-Key": "inv-777"})
    assert retry.status_code == 200 and retry.json()["Invoices"][0]["InvoiceID"] == found[0]["InvoiceID"]

    client.request("POST", "/__sandbox__/faults", json={"path_prefix": "/api.xro/2.0/Invoices", "status": 503})
    body = {"Invoices": [accrec(contact, InvoiceNumber="INV-778")]}
    assert client.put("Invoices", json=body).status_code == 503
    assert client.get("Invoices", params={"InvoiceNumbers": "INV-778"}).json()["Invoices"] == []
    assert client.put("Invoices", json=body).status_code == 200

    client.request(
        "POST",
        "/__sandbox__/faults",
        json={"path_prefix": "/api.xro/2.0/Contacts", "status": 429, "count": 2, "retry_after": 7},
    )
    throttled = [client.get("Contacts") for _ in range(3)]
    assert [r.status_code for r in throttled] == [429, 429, 200]
    assert throttled[0].headers["Retry-After"] == "7"
    assert client.request("POST", "/__sandbox__/faults", json={"status": 500}).status_code == 400


def test_stats_count_calls_by_method_and_path(client):
    client.headers()  # fetch the access token first
    client.request("DELETE", "/__sandbox__/stats")
    contact = client.put("Contacts", json={"Contacts": [{"Name": "Counted"}]}).json()["Contacts"][0]["ContactID"]
    client.get(f"Contacts/{contact}")
    client.get("Contacts/PT-404")
    stats = client.request("GET", "/__sandbox__/stats").json()
    assert stats["calls"]["PUT /api.xro/2.0/Contacts"] == 1
    assert stats["calls"]["GET /api.xro/2.0/Contacts/{id}"] == 2
    assert stats["by_method"]["GET"] == 2 and stats["total"] == 3


def test_paging_and_filters(client, clock):
    jane = client.put("Contacts", json={"Contacts": [{"Name": "Jane"}]}).json()["Contacts"][0]["ContactID"]
    bob = client.put("Contacts", json={"Contacts": [{"Name": "Bob"}]}).json()["Contacts"][0]["ContactID"]
    specs = [
        (jane, "DRAFT", "2026-09-15"),
        (jane, "AUTHORISED", "2026-10-01"),
        (bob, "DRAFT", "2026-10-02"),
        (bob, "AUTHORISED", "2026-10-20"),
        (jane, "DRAFT", "2026-11-01"),
    ]
    for i, (who, status, day) in enumerate(specs):
        clock.advance(10)
        resp = client.put("Invoices", json={"Invoices": [accrec(who, Status=status, Date=day, Reference=f"R{i}")]})
        assert resp.status_code == 200
    page1 = client.get("Invoices", params={"page": 1, "pageSize": 2}).json()
    assert page1["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 3, "itemCount": 5}
    assert [i["InvoiceNumber"] for i in page1["Invoices"]] == ["INV-0001", "INV-0002"]
    assert page1["Invoices"][0]["LineItems"]  # line items only when paged
    page3 = client.get("Invoices", params={"page": 3, "pageSize": 2}).json()
    assert [i["InvoiceNumber"] for i in page3["Invoices"]] == ["INV-0005"]
    unpaged = client.get("Invoices").json()
    assert "pagination" not in unpaged and all(i["LineItems"] == [] for i in unpaged["Invoices"])

    def numbers(**params: object) -> list[str]:
        return [i["InvoiceNumber"] for i in client.get("Invoices", params=params).json()["Invoices"]]

    assert numbers(where='Status=="DRAFT" AND Date >= DateTime(2026, 10, 1)') == ["INV-0003", "INV-0005"]
    assert numbers(where='Reference=="R1" OR Contact.Name=="Bob"') == ["INV-0002", "INV-0003", "INV-0004"]
    assert numbers(where='Type!="ACCPAY" AND Status!="DRAFT"') == ["INV-0002", "INV-0004"]
    assert numbers(Statuses="AUTHORISED") == ["INV-0002", "INV-0004"]
    assert numbers(ContactIDs=bob) == ["INV-0003", "INV-0004"]
    assert numbers(InvoiceNumbers="INV-0001,INV-0005") == ["INV-0001", "INV-0005"]
    ids = [i["InvoiceID"] for i in page1["Invoices"]]
    assert numbers(IDs=",".join(reversed(ids))) == ["INV-0001", "INV-0002"]
    assert numbers(order="Date DESC")[:2] == ["INV-0005", "INV-0004"]
    assert numbers(where='InvoiceNumber>="INV-0004"') == ["INV-0004", "INV-0005"]
    since = client.get("Invoices", headers={"If-Modified-Since": "2026-09-21T14:14:00"}).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in since] == ["INV-0004", "INV-0005"]
    bad = client.get("Invoices", params={"where": 'Status=="DRAFT" AND'})
    assert bad.status_code == 400
    archived = client.post(f"Contacts/{bob}", json={"ContactStatus": "ARCHIVED"})
    assert archived.status_code == 200
    names = [c["Name"] for c in client.get("Contacts").json()["Contacts"]]
    all_names = [c["Name"] for c in client.get("Contacts", params={"includeArchived": "true"}).json()["Contacts"]]
    assert names == ["Jane"] and all_names == ["Jane", "Bob"]


def test_schema_extract_is_shipped_with_its_licence():
    folder = resources.files("clinic_etl.sandbox.xero")
    document = json.loads(folder.joinpath("schema.json").read_text(encoding="utf-8"))
    assert "Permission is hereby granted, free of charge" in document["x-license"]
    assert "Copyright (c) 2017 Xero Developer API" in folder.joinpath("NOTICE").read_text(encoding="utf-8")
    schemas = document["components"]["schemas"]
    assert schemas["PaymentDelete"]["required"] == ["Status"]
    assert schemas["Contact"]["properties"]["ContactNumber"]["maxLength"] == 50

    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            found = set(node)
            for key, value in node.items():
                found |= keys(value) if key != "properties" else set().union(*(keys(v) for v in value.values()))
            return found
        return set().union(*(keys(v) for v in node)) if isinstance(node, list) else set()

    used = set().union(*(keys(s) for s in schemas.values()))
    assert "description" not in used and "example" not in used
