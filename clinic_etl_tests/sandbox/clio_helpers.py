"""A small synchronous client for the Clio simulator in tests (in-process, no network), and a fake clock."""

from __future__ import annotations

from typing import Any

import httpx

from clinic_etl.sandbox.clio import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from clinic_etl.sandbox.transport import InProcessTransport

BASE = "http://clio.sandbox"


class FakeClock:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Clio:
    """`get` sends the current access token (fetched with the sandbox refresh token on first use)."""

    def __init__(self, app: Any) -> None:
        self.transport = InProcessTransport(app)
        self.http = httpx.Client(transport=self.transport, base_url=BASE)
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()
        self.transport.close()

    def refresh(self, **overrides: str) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": SANDBOX_REFRESH_TOKEN,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            **overrides,
        }
        return self.http.post("/oauth/token", data=form)

    def login(self) -> str:
        response = self.refresh()
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    def get(self, path: str, params: Any = None, *, token: str | None = None, **headers: str) -> httpx.Response:
        if token is None:
            token = self.token or self.login()
        sent = {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): v for k, v in headers.items()}}
        return self.http.get(path, params=params, headers=sent)

    def walk(self, path: str, params: Any) -> tuple[list[dict], list[httpx.Response]]:
        """Follow `meta.paging.next` from the first page; every record and every response."""
        responses = [self.get(path, params)]
        while True:
            assert responses[-1].status_code == 200, responses[-1].text
            following = responses[-1].json()["meta"]["paging"].get("next")
            if not following:
                break
            responses.append(self.get(following))
        return [row for response in responses for row in response.json()["data"]], responses
