"""Xero OAuth2 access tokens: client_credentials (custom connection) or refresh_token (standard app).

Refresh tokens rotate on every use: the new one is written to the state store (compare-and-set, under a
cross-process lock) BEFORE the new access token is used, so two workers never strand each other.
Secrets never appear in messages: errors name the variable to fix, not its value.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import ApiStatusError, AuthenticationError

EARLY_RENEWAL_S = 60.0


class CredentialStore(Protocol):
    def get_credential(self, name: str) -> str | None: ...
    def put_credential(self, name: str, value: str, *, expected: str | None = None) -> bool: ...
    def credential_lock(self, name: str) -> Any: ...


class XeroIdentity(ApiClient):
    service = "Xero identity"

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        return str(body.get("error", ""))[:60] if isinstance(body, dict) else ""


class XeroAuth:
    def __init__(
        self,
        identity_url: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_token: str | None = None,
        store: CredentialStore | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("XERO_CLIENT_ID and XERO_CLIENT_SECRET must be set (a Xero app's credentials)")
        self._identity = XeroIdentity(
            identity_url.rstrip("/") + "/",
            transport=transport,
            auth=httpx.BasicAuth(client_id, client_secret),
            clock=clock,
        )
        self._seed = refresh_token
        self._store = store
        self._clock = clock
        self._name = f"xero_refresh_token:{client_id}"
        self._token: str | None = None
        self._expires = 0.0

    def access_token(self) -> str:
        if self._token is None or self._clock() >= self._expires - EARLY_RENEWAL_S:
            body = self._refresh(self._seed) if self._seed else self._grant({"grant_type": "client_credentials"})
            self._token = body["access_token"]
            self._expires = self._clock() + float(body.get("expires_in", 1800))
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def close(self) -> None:
        self._identity.close()

    def _grant(self, form: dict[str, str]) -> dict:
        try:
            return self._identity.request("POST", "connect/token", data=form).json()
        except AuthenticationError as exc:
            raise AuthenticationError(
                exc.service, exc.response, "check XERO_CLIENT_ID and XERO_CLIENT_SECRET"
            ) from None
        except ApiStatusError as exc:
            if exc.status_code == 400:
                raise AuthenticationError(
                    exc.service,
                    exc.response,
                    "the refresh token was refused "
                    "(expired or revoked): re-authorise the app and set XERO_REFRESH_TOKEN",
                ) from None
            raise

    def _refresh(self, seed: str) -> dict:
        if self._store is None:
            body = self._grant({"grant_type": "refresh_token", "refresh_token": seed})
            self._seed = body.get("refresh_token", seed)
            return body
        seed_name = self._name + ":seed"
        seed_hash = hashlib.sha256(seed.encode()).hexdigest()
        with self._store.credential_lock(self._name):
            current = self._store.get_credential(self._name)
            if current is None or self._store.get_credential(seed_name) != seed_hash:
                current = seed  # first run, or the operator supplied a new XERO_REFRESH_TOKEN
                self._store.put_credential(seed_name, seed_hash)
            body = self._grant({"grant_type": "refresh_token", "refresh_token": current})
            rotated = body.get("refresh_token")
            if rotated and rotated != current:
                self._store.put_credential(self._name, rotated)
            elif self._store.get_credential(self._name) is None:
                self._store.put_credential(self._name, current)
        return body
