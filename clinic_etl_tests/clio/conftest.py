"""Shared set-up of the Clio client tests: the sandbox firm, a fake clock, a transport that records every request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clinic_etl.sandbox.clio import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Firm,
    build_firm,
    create_app,
)
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.clio.client import ClioClient

BASE = "http://clio.sandbox"
_OPEN: list[ClioClient] = []  # clients made by `sandbox_client`, closed after each test


class FakeClock:
    """A clock that only moves when told to; as `sleep`, it records the wait and moves by it."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recording(httpx.BaseTransport):
    """Passes requests on to `inner` and keeps each request with the status it got."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[httpx.Request, int]] = []
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.seen.append((request, response.status_code))
        self.responses.append(response)
        return response

    def api(self) -> list[httpx.Request]:
        return [request for request, _ in self.seen if request.url.path.startswith("/api/v4/")]

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="session")
def firm() -> Firm:
    return build_firm()


def sandbox_client(
    firm: Firm, clock: FakeClock | None = None, *, credentials: tuple[str, str, str] | None = None, **app_options: Any
) -> tuple[ClioClient, Recording, Any]:
    """A ClioClient on the simulator over `firm` (generous rate limit unless given), its recording transport and
    the app (for its stats and token store). With `clock`, the app and the client share it and `sleep` moves it."""
    app_options.setdefault("requests_per_minute", 1_000_000)
    if clock is not None:
        app_options["clock"] = clock
    app = create_app(firm, **app_options)
    transport = Recording(InProcessTransport(app))
    client_id, secret, refresh = credentials or (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN)
    options: dict[str, Any] = {"transport": transport}
    if clock is not None:
        options.update(clock=clock, sleep=clock.sleep)
    else:
        options.update(sleep=lambda seconds: None)
    client = ClioClient(BASE, client_id, secret, refresh, **options)
    _OPEN.append(client)
    return client, transport, app


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def clio(firm: Firm) -> tuple[ClioClient, Recording, Any]:
    return sandbox_client(firm)
