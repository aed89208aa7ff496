"""Xero sandbox: OAuth2 token endpoint, refresh rotation, /connections, 401/403 on accounting calls."""

from __future__ import annotations

import base64

import pytest

from clinic_etl.sandbox.xero import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_TENANT_ID,
    create_app,
)

from .xero_client import FakeClock, SandboxClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path, clock) -> SandboxClient:
    return SandboxClient(create_app(tmp_path / "xero.db", clock=clock))


def refresh(client: SandboxClient, token: str):
    return client.request(
        "POST",
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
    )


def test_client_credentials_token(client):
    resp = client.token()
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["access_token"] and "refresh_token" not in body and body["scope"]
    # client id/secret in the form instead of HTTP Basic
    form = {
        "grant_type": "client_credentials",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    assert client.request("POST", "/connect/token", data=form).status_code == 200


def test_bad_client_and_grant(client):
    resp = client.request(
        "POST", "/connect/token", data={"grant_type": "client_credentials"}, auth=(SANDBOX_CLIENT_ID, "wrong")
    )
    assert resp.status_code == 401 and resp.json() == {"error": "invalid_client"}
    resp = client.request(
        "POST",
        "/connect/token",
        data={"grant_type": "password"},
        auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
    )
    assert resp.status_code == 400 and resp.json() == {"error": "unsupported_grant_type"}


def test_refresh_rotation_grace_and_invalid_grant(client, clock):
    first = refresh(client, SANDBOX_REFRESH_TOKEN)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != SANDBOX_REFRESH_TOKEN and first.json()["access_token"]
    # the old token is still good within the 30-minute grace period (a lost response can be retried)
    clock.advance(1700)
    again = refresh(client, SANDBOX_REFRESH_TOKEN)
    assert again.status_code == 200 and again.json()["refresh_token"] not in (rotated, SANDBOX_REFRESH_TOKEN)
    clock.advance(200)  # 1900 s after its first use
    late = refresh(client, SANDBOX_REFRESH_TOKEN)
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    # the rotated token, never used, still works and its access token is accepted
    fresh = refresh(client, rotated)
    assert fresh.status_code == 200
    headers = {"Authorization": "Bearer " + fresh.json()["access_token"]}
    assert client.request("GET", "/connections", headers=headers).status_code == 200
    assert refresh(client, "no-such-token").json() == {"error": "invalid_grant"}


def test_basic_auth_header_is_accepted(client):
    basic = base64.b64encode(f"{SANDBOX_CLIENT_ID}:{SANDBOX_CLIENT_SECRET}".encode()).decode()
    resp = client.request(
        "POST",
        "/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + basic},
    )
    assert resp.status_code == 200


def test_connections(client):
    token = client.token().json()["access_token"]
    for path in ("/connections", "/Connections"):
        resp = client.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
        [conn] = resp.json()
        assert conn["tenantId"] == SANDBOX_TENANT_ID and conn["tenantType"] == "ORGANISATION"
        assert set(conn) == {
            "id",
            "authEventId",
            "tenantId",
            "tenantType",
            "tenantName",
            "createdDateUtc",
            "updatedDateUtc",
        }
    assert client.request("GET", "/connections").status_code == 401


def test_accounting_needs_bearer_token(client, clock):
    resp = client.request("GET", "/api.xro/2.0/Invoices", headers={"xero-tenant-id": SANDBOX_TENANT_ID})
    assert resp.status_code == 401
    assert resp.json()["Detail"] == "AuthenticationUnsuccessful" and resp.json()["Title"] == "Unauthorized"
    assert "Bearer" in resp.headers["WWW-Authenticate"]
    bogus = {"Authorization": "Bearer nope", "xero-tenant-id": SANDBOX_TENANT_ID}
    assert client.request("GET", "/api.xro/2.0/Invoices", headers=bogus).status_code == 401
    assert client.get("Invoices").status_code == 200
    clock.advance(1801)
    expired = client.get("Invoices")
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


def test_accounting_needs_connected_tenant(client):
    token = client.token().json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    missing = client.request("GET", "/api.xro/2.0/Organisation", headers=auth)
    wrong = client.request(
        "GET",
        "/api.xro/2.0/Organisation",
        headers={**auth, "xero-tenant-id": "00000000-0000-0000-0000-000000000001"},
    )
    for resp in (missing, wrong):
        assert resp.status_code == 403
        assert resp.json()["Title"] == "Forbidden" and resp.json()["Detail"] == "AuthenticationUnsuccessful"
    ok = client.request("GET", "/api.xro/2.0/Organisation", headers={**auth, "xero-tenant-id": SANDBOX_TENANT_ID})
    org = ok.json()["Organisations"][0]
    assert org["BaseCurrency"] == "AUD" and org["Timezone"] == "AUSEASTERNSTANDARDTIME"
    assert org["Name"] == "Sandbox Allied Health Pty Ltd" and org["OrganisationType"] == "COMPANY"
