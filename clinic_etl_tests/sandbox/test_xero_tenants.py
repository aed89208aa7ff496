"""Xero sandbox: one app connected to several organisations (tenants), each with books, limits and admin of its own."""

from __future__ import annotations

import httpx
import pytest

from clinic_etl.sandbox.resources import SandboxXeroResource
from clinic_etl.sandbox.xero import (
    SANDBOX_SECOND_TENANT_ID,
    SANDBOX_TENANT_ID,
    SANDBOX_TENANTS,
    add_tracking_category,
    create_app,
)

from .xero_client import FakeClock, SandboxClient, accrec

FIRST, SECOND = SANDBOX_TENANT_ID, SANDBOX_SECOND_TENANT_ID


class OrgClient(SandboxClient):
    """The sandbox client, its accounting calls sent to one organisation."""

    def __init__(self, app, tenant: str) -> None:
        super().__init__(app)
        self.tenant = tenant

    def headers(self, **extra: str) -> dict[str, str]:
        return super().headers(**{"xero-tenant-id": self.tenant, **extra})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock):
    return create_app(tmp_path / "xero.db", clock=clock, calls_per_minute=10_000, organisations=2)


@pytest.fixture
def first(app) -> OrgClient:
    return OrgClient(app, FIRST)


@pytest.fixture
def second(app) -> OrgClient:
    return OrgClient(app, SECOND)


def connections(client: SandboxClient, **params: str) -> list[dict]:
    auth = {"Authorization": client.headers()["Authorization"]}
    resp = client.request("GET", "/connections", params=params, headers=auth)
    assert resp.status_code == 200
    return resp.json()


def new_contact(client: SandboxClient, name: str, **fields: str) -> dict:
    resp = client.put("Contacts", json={"Contacts": [{"Name": name, **fields}]})
    assert resp.status_code == 200, resp.text
    return resp.json()["Contacts"][0]


def new_invoice(client: SandboxClient, contact_id: str, **fields: str) -> dict:
    resp = client.put("Invoices", json={"Invoices": [accrec(contact_id, **fields)]})
    assert resp.status_code == 200, resp.text
    return resp.json()["Invoices"][0]


def test_by_default_the_app_is_connected_to_the_first_organisation_alone(tmp_path):
    app = create_app(tmp_path / "xero.db")
    [connection] = connections(SandboxClient(app))
    assert connection["tenantId"] == FIRST and connection["tenantName"] == "Sandbox Allied Health Pty Ltd"
    refused = OrgClient(app, SECOND).get("Organisation")
    assert refused.status_code == 403
    assert refused.json()["Title"] == "Forbidden" and refused.json()["Detail"] == "AuthenticationUnsuccessful"


def test_connections_list_each_connected_organisation(first):
    found = connections(first)
    assert [c["tenantId"] for c in found] == list(SANDBOX_TENANTS[:2]) == [FIRST, SECOND]
    assert len({c["id"] for c in found}) == 2 and len({c["authEventId"] for c in found}) == 1
    assert {c["tenantType"] for c in found} == {"ORGANISATION"}
    assert [c["tenantName"] for c in found] == [
        "Sandbox Allied Health Pty Ltd",
        "Sandbox Allied Health Melbourne Pty Ltd",
    ]
    assert connections(first, authEventId=found[0]["authEventId"]) == found


def test_documents_of_one_organisation_are_not_found_through_the_other(first, second):
    contact = new_contact(first, "Jo Patient", ContactNumber="cliniko:patient:1")
    invoice = new_invoice(first, contact["ContactID"])
    assert second.get(f"Contacts/{contact['ContactID']}").status_code == 404
    assert second.get("Contacts/cliniko:patient:1").status_code == 404
    assert second.get(f"Invoices/{invoice['InvoiceID']}").status_code == 404
    assert second.get(f"Invoices/{invoice['InvoiceNumber']}").status_code == 404
    assert second.get("Contacts").json()["Contacts"] == []
    assert second.get("Invoices").json()["Invoices"] == []
    assert second.get("Invoices", params={"IDs": invoice["InvoiceID"]}).json()["Invoices"] == []
    borrowed = second.put("Invoices", json={"Invoices": [accrec(contact["ContactID"])]})
    assert borrowed.status_code == 400  # the first's contact is unknown here
    # the second keeps books of its own: the same contact name, and its own invoice numbers
    own = new_contact(second, "Jo Patient", ContactNumber="cliniko:patient:1")
    own_invoice = new_invoice(second, own["ContactID"])
    assert own["ContactID"] != contact["ContactID"]
    assert own_invoice["InvoiceNumber"] == invoice["InvoiceNumber"]
    assert [c["ContactID"] for c in first.get("Contacts").json()["Contacts"]] == [contact["ContactID"]]
    assert [i["InvoiceID"] for i in first.get("Invoices").json()["Invoices"]] == [invoice["InvoiceID"]]


def test_the_same_idempotency_key_in_each_organisation_makes_two_documents(first, second):
    body = {"Contacts": [{"Name": "Keyed Patient"}]}
    one = first.put("Contacts", json=body, headers={"Idempotency-Key": "same-key"})
    two = second.put("Contacts", json=body, headers={"Idempotency-Key": "same-key"})
    assert one.status_code == two.status_code == 200
    assert one.json()["Contacts"][0]["ContactID"] != two.json()["Contacts"][0]["ContactID"]
    again = second.put("Contacts", json=body, headers={"Idempotency-Key": "same-key"})
    assert again.content == two.content  # replayed within its own organisation
    for client in (first, second):
        assert len(client.get("Contacts").json()["Contacts"]) == 1


def test_each_organisation_has_its_own_record_and_chart(first, second):
    org_one = first.get("Organisation").json()["Organisations"][0]
    org_two = second.get("Organisation").json()["Organisations"][0]
    assert (org_one["OrganisationID"], org_one["Name"]) == (FIRST, "Sandbox Allied Health Pty Ltd")
    assert (org_two["OrganisationID"], org_two["Name"]) == (SECOND, "Sandbox Allied Health Melbourne Pty Ltd")
    assert org_two["BaseCurrency"] == "AUD" and org_two["CountryCode"] == "AU"
    chart_one = {a["Code"]: a["AccountID"] for a in first.get("Accounts").json()["Accounts"]}
    chart_two = {a["Code"]: a["AccountID"] for a in second.get("Accounts").json()["Accounts"]}
    assert chart_one.keys() == chart_two.keys()
    assert not set(chart_one.values()) & set(chart_two.values())
    assert second.get(f"Accounts/{chart_one['200']}").status_code == 404
    assert second.get(f"Accounts/{chart_two['200']}").status_code == 200
    rates = [{r["TaxType"] for r in c.get("TaxRates").json()["TaxRates"]} for c in (first, second)]
    assert rates[0] == rates[1] and "OUTPUT" in rates[0]


def test_tracking_categories_are_added_to_one_organisation(tmp_path, clock):
    path = tmp_path / "xero.db"
    app = create_app(path, clock=clock, organisations=2)
    added = add_tracking_category(path, "Location", ["Fitzroy"], tenant=SECOND)
    assert OrgClient(app, FIRST).get("TrackingCategories").json()["TrackingCategories"] == []
    [found] = OrgClient(app, SECOND).get("TrackingCategories").json()["TrackingCategories"]
    assert found["TrackingCategoryID"] == added["TrackingCategoryID"]
    assert add_tracking_category(path, "Location", ["Fitzroy"])["TrackingCategoryID"] != added["TrackingCategoryID"]
    lone = tmp_path / "lone.db"
    create_app(lone)
    with pytest.raises(ValueError, match="connect it first"):
        add_tracking_category(lone, "Location", ["Fitzroy"], tenant=SECOND)


def test_the_minute_limit_is_counted_per_organisation(tmp_path, clock):
    app = create_app(tmp_path / "xero.db", clock=clock, calls_per_minute=3, organisations=2)
    first, second = OrgClient(app, FIRST), OrgClient(app, SECOND)
    assert [first.get("Organisation").headers["X-MinLimit-Remaining"] for _ in range(3)] == ["2", "1", "0"]
    limited = first.get("Organisation")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "minute"
    answered = second.get("Organisation")
    assert answered.status_code == 200
    assert answered.headers["X-MinLimit-Remaining"] == "2"  # the second's own minute
    assert answered.headers["X-AppMinLimit-Remaining"] == str(10_000 - 4)  # the app's minute counts both
    refused = first.request("GET", "/__sandbox__/stats", params={"tenant": FIRST}).json()["refused_by_rate_limit"]
    assert refused == {"minute": 1}
    assert first.request("GET", "/__sandbox__/stats", params={"tenant": SECOND}).json()["refused_by_rate_limit"] == {}
    clock.advance(60)
    assert first.get("Organisation").status_code == 200


def test_a_lock_date_set_on_one_organisation_affects_it_alone(first, second):
    lock = {"PeriodLockDate": "2026-10-15"}
    assert first.request("POST", "/__sandbox__/lock_date", params={"tenant": SECOND}, json=lock).status_code == 200
    assert "PeriodLockDate" in second.get("Organisation").json()["Organisations"][0]
    assert "PeriodLockDate" not in first.get("Organisation").json()["Organisations"][0]
    mine, theirs = new_contact(first, "Lock Patient"), new_contact(second, "Lock Patient")
    assert first.put("Invoices", json={"Invoices": [accrec(mine["ContactID"])]}).status_code == 200
    locked = second.put("Invoices", json={"Invoices": [accrec(theirs["ContactID"])]})
    assert locked.status_code == 400 and "lock date" in locked.text
    # without a tenant the admin route is about the first organisation, as it always was
    assert first.request("POST", "/__sandbox__/lock_date", json=lock).status_code == 200
    assert "PeriodLockDate" in first.get("Organisation").json()["Organisations"][0]
    unknown = first.request("POST", "/__sandbox__/lock_date", params={"tenant": "nobody"}, json=lock)
    assert unknown.status_code == 404


def test_call_statistics_per_organisation_count_its_emails(first, second):
    contact = new_contact(second, "Mailed Patient", EmailAddress="mailed@example.com")
    invoice = new_invoice(second, contact["ContactID"])
    assert second.post(f"Invoices/{invoice['InvoiceID']}/Email", json={}).status_code == 204
    sent = "POST /api.xro/2.0/Invoices/{id}/Email"
    stats = {t: first.request("GET", "/__sandbox__/stats", params={"tenant": t}).json() for t in (FIRST, SECOND)}
    assert stats[SECOND]["calls"][sent] == 1 and sent not in stats[FIRST]["calls"]
    assert stats[FIRST]["total"] == 0
    everything = first.request("GET", "/__sandbox__/stats").json()  # app-wide, as before
    assert everything["calls"][sent] == 1 and "POST /connect/token" in everything["calls"]
    assert first.request("GET", "/__sandbox__/stats", params={"tenant": "nobody"}).status_code == 404


def test_a_state_file_reopened_with_two_organisations_connects_the_second_and_keeps_the_first(tmp_path, clock):
    path = tmp_path / "xero.db"
    alone = OrgClient(create_app(path, clock=clock), FIRST)
    contact = new_contact(alone, "Kept Patient")
    invoice = new_invoice(alone, contact["ContactID"])
    assert alone.request("POST", "/__sandbox__/lock_date", json={"PeriodLockDate": "2026-01-31"}).status_code == 200
    [before] = connections(alone)
    org_before = alone.get("Organisation").json()["Organisations"][0]
    chart_before = alone.get("Accounts").json()["Accounts"]

    clock.advance(3600)
    app = create_app(path, clock=clock, organisations=2)
    first, second = OrgClient(app, FIRST), OrgClient(app, SECOND)
    found = connections(first)
    assert found[0] == before and found[1]["tenantId"] == SECOND
    assert found[1]["createdDateUtc"] > before["createdDateUtc"]  # connected now
    assert first.get("Organisation").json()["Organisations"][0] == org_before
    assert first.get("Accounts").json()["Accounts"] == chart_before
    assert [c["ContactID"] for c in first.get("Contacts").json()["Contacts"]] == [contact["ContactID"]]
    assert first.get(f"Invoices/{invoice['InvoiceID']}").status_code == 200
    assert second.get("Contacts").json()["Contacts"] == [] and second.get("Invoices").json()["Invoices"] == []
    assert "PeriodLockDate" not in second.get("Organisation").json()["Organisations"][0]
    # the connections are kept: nothing disconnects when a simulator asks for fewer
    assert len(connections(SandboxClient(create_app(path, clock=clock)))) == 2


def test_the_number_of_organisations_is_one_to_the_catalogues(tmp_path):
    for wrong in (0, len(SANDBOX_TENANTS) + 1):
        with pytest.raises(ValueError, match="organisations"):
            create_app(tmp_path / "xero.db", organisations=wrong)


def test_the_sandbox_resource_connects_the_organisations_it_is_given(tmp_path):
    path = str(tmp_path / "xero.db")
    transport = SandboxXeroResource(state_path=path, organisations=2)._transport()
    assert transport is not None
    with httpx.Client(transport=transport, base_url="http://xero.sandbox") as http:
        assert http.get("/__sandbox__/stats", params={"tenant": SECOND}).status_code == 200
    assert [c["tenantId"] for c in connections(SandboxClient(create_app(path)))] == [FIRST, SECOND]
