"""OAuth of the Clio simulator: refresh grant (non-rotating refresh token), code grant, expiry, 401s."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from clinic_etl.sandbox.clio import (
    SANDBOX_AUTHORIZATION_CODE,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REDIRECT_URI,
    SANDBOX_REFRESH_TOKEN,
    Firm,
    build_firm,
    create_app,
)
from clinic_etl_tests.sandbox.clio_helpers import Clio, FakeClock

INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons.",
}


@pytest.fixture(scope="module")
def firm() -> Firm:
    return build_firm()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clio(firm: Firm, clock: FakeClock) -> Iterator[Clio]:
    client = Clio(create_app(firm, clock=clock, token_ttl_s=600, requests_per_minute=1000))
    yield client
    client.close()


def test_refresh_grant_returns_a_bearer_token_and_keeps_the_refresh_token(clio: Clio) -> None:
    first = clio.refresh()
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"token_type", "access_token", "expires_in"}  # no new refresh token: it does not rotate
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    assert first.headers["cache-control"] == "no-store"
    second = clio.refresh()  # the same refresh token again, and again
    assert second.status_code == 200 and second.json()["access_token"] != body["access_token"]
    for token in (body["access_token"], second.json()["access_token"]):
        assert clio.get("/api/v4/bills.json", token=token).status_code == 200


def test_client_credentials_may_come_as_http_basic(clio: Clio) -> None:
    basic = base64.b64encode(f"{SANDBOX_CLIENT_ID}:{SANDBOX_CLIENT_SECRET}".encode()).decode()
    response = clio.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": SANDBOX_REFRESH_TOKEN},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"refresh_token": "not-the-refresh-token"}, 400, "invalid_grant"),
        ({"refresh_token": ""}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors(clio: Clio, overrides: dict[str, str], status: int, error: str) -> None:
    response = clio.refresh(**overrides)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]


def test_authorization_code_grant_is_single_use_and_checks_the_redirect_uri(clio: Clio) -> None:
    form = {
        "grant_type": "authorization_code",
        "code": SANDBOX_AUTHORIZATION_CODE,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "redirect_uri": "http://elsewhere.example/callback",
    }
    assert clio.http.post("/oauth/token", data=form).json()["error"] == "invalid_grant"
    granted = clio.http.post("/oauth/token", data={**form, "redirect_uri": SANDBOX_REDIRECT_URI})
    assert granted.status_code == 200
    assert granted.json()["refresh_token"] == SANDBOX_REFRESH_TOKEN and granted.json()["token_type"] == "bearer"
    again = clio.http.post("/oauth/token", data={**form, "redirect_uri": SANDBOX_REDIRECT_URI})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_missing_malformed_or_unknown_tokens_get_401(clio: Clio) -> None:
    no_header = clio.http.get("/api/v4/bills.json")
    basic = clio.http.get("/api/v4/bills.json", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    unknown = clio.get("/api/v4/bills.json", token="not-a-token")
    for response in (no_header, basic, unknown):
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "x-ratelimit-limit" not in response.headers


def test_access_tokens_expire_and_a_refresh_brings_access_back(clio: Clio, clock: FakeClock) -> None:
    token = clio.login()
    assert clio.get("/api/v4/matters.json", token=token).status_code == 200
    clock.advance(599)
    assert clio.get("/api/v4/matters.json", token=token).status_code == 200
    clock.advance(1)
    expired = clio.get("/api/v4/matters.json", token=token)
    assert expired.status_code == 401 and expired.json() == INVALID_TOKEN
    fresh = clio.login()
    assert clio.get("/api/v4/matters.json", token=fresh).status_code == 200


def test_default_lifetime_is_clio_manages_thirty_days(firm: Firm, clock: FakeClock) -> None:
    client = Clio(create_app(firm, clock=clock))
    try:
        assert client.refresh().json()["expires_in"] == 2_592_000
        token = client.login()
        clock.advance(2_592_000 - 1)
        assert client.get("/api/v4/users/who_am_i.json", token=token).status_code == 200
        clock.advance(1)
        assert client.get("/api/v4/users/who_am_i.json", token=token).status_code == 401
    finally:
        client.close()


def test_deauthorize_revokes_the_grant(clio: Clio) -> None:
    token = clio.login()
    response = clio.http.post("/oauth/deauthorize", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert clio.get("/api/v4/bills.json", token=token).status_code == 401
    assert clio.refresh().json()["error"] == "invalid_grant"
