"""The retrying core: 429 Retry-After and X-RateLimit-Reset honoured, 5xx retried, 4xx not, long waits refused."""

import httpx
import pytest

from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import BadRequestError, InternalServerError, RateLimitError


def client_with(responses: list[httpx.Response], sleeps: list[float], clock: float = 1_000.0) -> ApiClient:
    queue = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        return next(queue)

    return ApiClient(
        "https://api.test/", transport=httpx.MockTransport(handler), sleep=sleeps.append, clock=lambda: clock
    )


def test_429_waits_exactly_the_retry_after_then_succeeds():
    sleeps: list[float] = []
    api = client_with([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": 1})], sleeps)
    assert api.request("GET", "x").json() == {"ok": 1}
    assert sleeps == [7.0]
    assert api.calls == 2


def test_429_with_x_ratelimit_reset_waits_until_the_reset():
    sleeps: list[float] = []
    api = client_with([httpx.Response(429, headers={"X-RateLimit-Reset": "1012"}), httpx.Response(200)], sleeps)
    api.request("GET", "x")
    assert 12.0 <= sleeps[0] <= 13.0


def test_5xx_is_retried_with_backoff_and_400_is_not():
    sleeps: list[float] = []
    api = client_with([httpx.Response(503), httpx.Response(500), httpx.Response(200)], sleeps)
    assert api.request("GET", "x").status_code == 200
    assert len(sleeps) == 2 and all(0 < s <= 32 for s in sleeps)
    api = client_with([httpx.Response(400, json={"message": "This column is not searchable."})], sleeps := [])
    with pytest.raises(BadRequestError, match="not searchable"):
        api.request("GET", "x")
    assert sleeps == []


def test_a_daily_limit_wait_is_not_slept_through():
    sleeps: list[float] = []
    api = client_with([httpx.Response(429, headers={"Retry-After": "40000"})], sleeps)
    with pytest.raises(RateLimitError) as caught:
        api.request("GET", "x")
    assert caught.value.retry_after == 40000 and sleeps == []


def test_gives_up_after_max_retries():
    sleeps: list[float] = []
    api = client_with([httpx.Response(500)] * 10, sleeps)
    api.max_retries = 2
    with pytest.raises(InternalServerError):
        api.request("GET", "x")
    assert api.calls == 3
