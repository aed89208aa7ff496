"""The Clio simulator's per-access-token rate limit: X-RateLimit-* headers, 429 with Retry-After, recovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinic_etl.sandbox.clio import Firm, build_firm, create_app
from clinic_etl_tests.sandbox.clio_helpers import Clio, FakeClock


@pytest.fixture(scope="module")
def firm() -> Firm:
    return build_firm()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_790_000_000.0)


@pytest.fixture
def clio(firm: Firm, clock: FakeClock) -> Iterator[Clio]:
    client = Clio(create_app(firm, clock=clock, requests_per_minute=5))
    yield client
    client.close()


def test_headers_count_down_then_429_with_retry_after(clio: Clio, clock: FakeClock) -> None:
    token = clio.login()
    remaining = []
    for _ in range(5):
        response = clio.get("/api/v4/bills.json", {"limit": 1}, token=token)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "5"
        assert response.headers["x-ratelimit-reset"] == "1790000060"  # the window opened with the first call
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
        clock.advance(5)
    assert remaining == [4, 3, 2, 1, 0]
    refused = clio.get("/api/v4/bills.json", {"limit": 1}, token=token)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "RateLimited" and refused.json()["error"]["message"]
    assert refused.headers["retry-after"] == "35" and refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str(1_790_000_060)
    clock.advance(34)
    assert clio.get("/api/v4/bills.json", token=token).status_code == 429  # refused calls do not count, but wait
    clock.advance(1)
    recovered = clio.get("/api/v4/bills.json", {"limit": 1}, token=token)
    assert recovered.status_code == 200 and recovered.headers["x-ratelimit-remaining"] == "4"


def test_the_limit_is_per_access_token(clio: Clio) -> None:
    first, second = clio.login(), clio.login()
    for _ in range(5):
        assert clio.get("/api/v4/matters.json", token=first).status_code == 200
    assert clio.get("/api/v4/matters.json", token=first).status_code == 429
    assert clio.get("/api/v4/matters.json", token=second).status_code == 200


def test_every_answer_counts_and_oauth_does_not(clio: Clio) -> None:
    token = clio.login()
    statuses = [clio.get(path, token=token).status_code for path in (
        "/api/v4/bills/1.json", "/api/v4/bills.json?fields=nope", "/api/v4/contacts.json",
        "/api/v4/contacts.json", "/api/v4/contacts.json", "/api/v4/contacts.json")]  # fmt: skip
    assert statuses == [404, 400, 200, 200, 200, 429]
    assert clio.refresh().status_code == 200


def test_default_limit_is_50_per_minute(firm: Firm, clock: FakeClock) -> None:
    client = Clio(create_app(firm, clock=clock))
    try:
        token = client.login()
        statuses = [client.get("/api/v4/currencies.json", token=token).status_code for _ in range(51)]
        assert statuses == [200] * 50 + [429]
    finally:
        client.close()
