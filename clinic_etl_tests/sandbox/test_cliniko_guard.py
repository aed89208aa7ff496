"""Auth, User-Agent, Accept and the rate limit of the Cliniko simulator; and serving it with uvicorn."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, Practice, build_practice, create_app

UA = "clinic_etl tests (ops@example.com)"


@pytest.fixture(scope="module")
def practice() -> Practice:
    return build_practice()


def send(app: Any, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    """Each request: optional `auth` (user, password) or None, optional `headers`, `path`."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cliniko.sandbox") as client:
            out = []
            for spec in requests:
                headers = {"User-Agent": UA, "Accept": "application/json", **spec.get("headers", {})}
                auth = spec.get("auth", (SANDBOX_CLINIKO_API_KEY, ""))
                out.append(await client.get(spec.get("path", "/v1/taxes"), headers=headers, auth=auth))
            return out

    return asyncio.run(run())


def test_basic_auth_with_the_key_with_or_without_its_shard(practice: Practice) -> None:
    app = create_app(practice)
    bare = SANDBOX_CLINIKO_API_KEY.rsplit("-", 1)[0]
    ok, no_shard, missing, wrong, other_shard, password = send(
        app,
        [
            {},
            {"auth": (bare, "")},
            {"auth": None},
            {"auth": ("not-the-key-au1", "")},
            {"auth": (bare + "-uk1", "")},
            {"auth": (SANDBOX_CLINIKO_API_KEY, "anything")},
        ],
    )
    assert ok.status_code == 200 and no_shard.status_code == 200 and password.status_code == 200
    for refused in (missing, wrong, other_shard):
        assert refused.status_code == 401 and refused.json()["message"]
        assert refused.headers["www-authenticate"].startswith("Basic")


def test_custom_api_key(practice: Practice) -> None:
    app = create_app(practice, api_key="MS0xLWl4SzYYYYdtR3V2-au2")
    ok, default = send(app, [{"auth": ("MS0xLWl4SzYYYYdtR3V2-au2", "")}, {}])
    assert ok.status_code == 200 and default.status_code == 401


@pytest.mark.parametrize("agent", ["python-httpx/0.28.1", "clinic_etl", "clinic_etl ops@example.com", "(a@b.co)"])
def test_user_agent_without_name_and_email_is_403(practice: Practice, agent: str) -> None:
    (response,) = send(create_app(practice), [{"headers": {"User-Agent": agent}}])
    assert response.status_code == 403 and "User-Agent" in response.json()["message"]


def test_user_agent_checked_after_auth_and_accept_must_allow_json(practice: Practice) -> None:
    app = create_app(practice)
    unauthenticated, html_only, wildcard = send(
        app,
        [
            {"auth": None, "headers": {"User-Agent": "bad"}},
            {"headers": {"Accept": "text/html"}},
            {"headers": {"Accept": "*/*"}},
        ],
    )
    assert unauthenticated.status_code == 401
    assert html_only.status_code == 406 and html_only.json()["message"]
    assert wildcard.status_code == 200


def test_rate_limit_429_with_reset_header_and_window_reset(practice: Practice) -> None:
    now = [1_800_000_010.5]  # 10.5 s into a minute (1_800_000_000 is a multiple of 60)
    app = create_app(practice, requests_per_minute=3, clock=lambda: now[0])
    responses = send(app, [{}, {}, {}, {}, {"path": "/v1/invoices"}])
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    limited = responses[3]
    assert limited.headers["X-RateLimit-Reset"] == "1800000060"
    assert "retry-after" not in limited.headers and limited.json()["message"]
    now[0] = 1_800_000_059.9
    assert send(app, [{}])[0].status_code == 429
    now[0] = 1_800_000_060.0
    assert [r.status_code for r in send(app, [{}, {}, {}, {}])] == [200, 200, 200, 429]


def test_rate_limit_is_per_key_and_unauthenticated_requests_do_not_count(practice: Practice) -> None:
    now = [1_800_000_000.0]
    app = create_app(practice, requests_per_minute=2, clock=lambda: now[0])
    codes = [r.status_code for r in send(app, [{"auth": None}] * 3 + [{}, {}, {}])]
    assert codes == [401, 401, 401, 200, 200, 429]
    other = create_app(practice, requests_per_minute=2, clock=lambda: now[0])
    assert send(other, [{}])[0].status_code == 200  # counters belong to one app instance


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_served_by_uvicorn_with_links_on_the_served_host(practice: Practice) -> None:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(practice), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}/v1"
        with httpx.Client(base_url=base, auth=(SANDBOX_CLINIKO_API_KEY, ""), headers={"User-Agent": UA}) as client:
            body = client.get("/invoices", params={"per_page": 2}).json()
            assert body["links"]["next"] == f"{base}/invoices?page=2&per_page=2"
            assert body["invoices"][0]["links"]["self"].startswith(f"{base}/invoices/")
            assert client.get(body["links"]["next"]).status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=5)
