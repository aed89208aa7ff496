"""Clio Manage OAuth 2.0: `POST /oauth/token` (authorization_code and refresh_token grants), `POST
/oauth/deauthorize`, and the bearer-token check the API applies to every request.

Per FACTS §2: the client authenticates with `client_id`/`client_secret` (form fields; HTTP Basic is also
accepted, as by any Doorkeeper server); access tokens expire after `expires_in` seconds (30 days by default,
configurable here); Manage refresh tokens do not rotate and never expire, so the same refresh token can be used
again and again until the grant is revoked. Choices where the reference is silent (unverified): a refresh
answer carries no `refresh_token` (the old one stays valid); token errors are Doorkeeper's (`invalid_client`
401, `invalid_grant` / `unsupported_grant_type` / `invalid_request` 400, with its standard descriptions); an
authorization code is single-use; `/oauth/deauthorize` revokes the whole grant, refresh token included.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse

SANDBOX_CLIENT_ID = "clio-sandbox-client-id-0000000000000000"
SANDBOX_CLIENT_SECRET = "clio-sandbox-client-secret-00000000000000"
SANDBOX_REFRESH_TOKEN = "clio-sandbox-refresh-token-0000000000000"
SANDBOX_AUTHORIZATION_CODE = "clio-sandbox-authorization-code-000000"
SANDBOX_REDIRECT_URI = "http://localhost:8765/clio/callback"
ACCESS_TOKEN_TTL_S = 2_592_000  # 30 days, Clio Manage's default

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_DESCRIPTIONS = {
    "invalid_client": "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method.",
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "invalid_request": "The request is missing a required parameter, includes an unsupported parameter value, "
    "or is otherwise malformed.",
}


@dataclass
class TokenStore:
    """The grant's tokens, in memory, for one app instance."""

    clock: Callable[[], float]
    ttl_s: float = ACCESS_TOKEN_TTL_S
    refresh_tokens: set[str] = field(default_factory=lambda: {SANDBOX_REFRESH_TOKEN})
    codes: set[str] = field(default_factory=lambda: {SANDBOX_AUTHORIZATION_CODE})
    access: dict[str, float] = field(default_factory=dict)  # token -> expiry (clock seconds)

    def mint(self) -> str:
        token = secrets.token_urlsafe(30)
        self.access[token] = self.clock() + self.ttl_s
        return token

    def valid(self, token: str) -> bool:
        expiry = self.access.get(token)
        return expiry is not None and self.clock() < expiry

    def revoke_grant(self) -> None:
        self.access.clear()
        self.refresh_tokens.clear()


def _oauth_error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": _DESCRIPTIONS[error]}, status_code=status,
                        headers=dict(_NO_STORE))  # fmt: skip


def _params(request: Request, body: bytes) -> dict[str, str]:
    merged = {key: values[0] for key, values in parse_qs(request.url.query, keep_blank_values=True).items()}
    merged.update({key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace"),
                                                               keep_blank_values=True).items()})  # fmt: skip
    return merged


def _client(request: Request, params: dict[str, str]) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (unquote(client_id), unquote(secret)) if sep else None
    if "client_id" in params:
        return params["client_id"], params.get("client_secret", "")
    return None


async def token_endpoint(request: Request, store: TokenStore) -> JSONResponse:
    params = _params(request, await request.body())
    if _client(request, params) != (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET):
        return _oauth_error("invalid_client", 401)
    grant = params.get("grant_type", "")
    if grant == "refresh_token":
        if not params.get("refresh_token"):
            return _oauth_error("invalid_request")
        if params["refresh_token"] not in store.refresh_tokens:
            return _oauth_error("invalid_grant")
        body = {"token_type": "bearer", "access_token": store.mint(), "expires_in": int(store.ttl_s)}
        return JSONResponse(body, headers=dict(_NO_STORE))
    if grant == "authorization_code":
        if not params.get("code") or not params.get("redirect_uri"):
            return _oauth_error("invalid_request")
        if params["code"] not in store.codes or params["redirect_uri"] != SANDBOX_REDIRECT_URI:
            return _oauth_error("invalid_grant")
        store.codes.discard(params["code"])
        store.refresh_tokens.add(SANDBOX_REFRESH_TOKEN)
        body = {
            "token_type": "bearer",
            "access_token": store.mint(),
            "expires_in": int(store.ttl_s),
            "refresh_token": SANDBOX_REFRESH_TOKEN,
        }
        return JSONResponse(body, headers=dict(_NO_STORE))
    if not grant:
        return _oauth_error("invalid_request")
    return _oauth_error("unsupported_grant_type")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None
