"""Xero identity: the OAuth2 token endpoint and bearer-token checks (GET /connections: `connections.py`).

Access tokens are opaque random strings kept in the state file with an expiry. Refresh tokens rotate on
every use; a used refresh token stays usable for a 30-minute grace period after its first use (so a
client whose refresh response was lost can retry), and an unused one expires after 60 days.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

from .org import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from .serialize import Resp, problem
from .state import Store, Tx

REFRESH_GRACE_S = 1800.0
REFRESH_IDLE_S = 60 * 86400.0
DEFAULT_SCOPE = "accounting.transactions accounting.contacts accounting.settings"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _client(authorization: str, form: dict[str, str]) -> tuple[str, str] | None:
    if authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (unquote(client_id), unquote(secret)) if sep else None
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return None


def _oauth_error(status: int, error: str) -> Resp:
    return Resp(status, {"error": error}, dict(_NO_STORE))


def _mint(tx: Tx, kind: str, scope: str, now: float, ttl: float) -> str:
    token = secrets.token_urlsafe(32) if kind == "access" else "rt-" + secrets.token_urlsafe(32)
    tx.conn.execute(
        "INSERT INTO tokens (token, kind, client_id, scope, created_at, expires_at) VALUES (?,?,?,?,?,?)",
        (token, kind, SANDBOX_CLIENT_ID, scope, now, now + ttl),
    )
    return token


def token_endpoint(
    store: Store, clock: Callable[[], float], token_ttl_s: float, authorization: str, body: bytes
) -> Resp:
    """POST /connect/token (form encoded; client auth by HTTP Basic or form fields)."""
    form = _form(body)
    if _client(authorization, form) != (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET):
        return _oauth_error(401, "invalid_client")
    grant = form.get("grant_type", "")
    now = clock()
    answer = {"expires_in": int(token_ttl_s), "token_type": "Bearer"}
    if grant == "client_credentials":
        scope = form.get("scope") or DEFAULT_SCOPE
        with store.write() as tx:
            tx.conn.execute("DELETE FROM tokens WHERE kind='access' AND expires_at < ?", (now - 86400,))
            access = _mint(tx, "access", scope, now, token_ttl_s)
        return Resp(200, {"access_token": access, **answer, "scope": scope}, dict(_NO_STORE))
    if grant == "refresh_token":
        presented = form.get("refresh_token", "")
        if not presented:
            return _oauth_error(400, "invalid_request")
        with store.write() as tx:
            row = tx.conn.execute(
                "SELECT scope, expires_at, first_used_at FROM tokens WHERE token=? AND kind='refresh'",
                (presented,),
            ).fetchone()
            if row is None:
                return _oauth_error(400, "invalid_grant")
            scope, expires_at, first_used = row
            if (expires_at is not None and now >= expires_at) or (
                first_used is not None and now > first_used + REFRESH_GRACE_S
            ):
                return _oauth_error(400, "invalid_grant")
            if first_used is None:
                tx.conn.execute("UPDATE tokens SET first_used_at=? WHERE token=?", (now, presented))
            access = _mint(tx, "access", scope, now, token_ttl_s)
            refresh = _mint(tx, "refresh", scope, now, REFRESH_IDLE_S)
        body_out = {"access_token": access, **answer, "refresh_token": refresh, "scope": scope}
        return Resp(200, body_out, dict(_NO_STORE))
    return _oauth_error(400, "unsupported_grant_type")


def _unauthorized(detail: str, challenge: str) -> Resp:
    return Resp(401, problem(401, "Unauthorized", detail), {"WWW-Authenticate": challenge})


def authenticate(tx: Tx, authorization: str, now: float) -> Resp | None:
    """None when the bearer token is valid, else Xero's 401 answer."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("AuthenticationUnsuccessful", "Bearer")
    row = tx.conn.execute("SELECT expires_at FROM tokens WHERE token=? AND kind='access'", (token,)).fetchone()
    if row is None:
        return _unauthorized("AuthenticationUnsuccessful", 'Bearer error="invalid_token"')
    if now >= row[0]:
        when = datetime.fromtimestamp(row[0], UTC).strftime("%m/%d/%Y %H:%M:%S")
        return _unauthorized(
            f"TokenExpired: token expired at {when}",
            f'Bearer error="invalid_token", error_description="The token expired at \'{when}\'"',
        )
    return None


def forbidden() -> Resp:
    """Missing, unknown or unauthorised xero-tenant-id (Xero answers 403 AuthenticationUnsuccessful)."""
    return Resp(403, problem(403, "Forbidden", "AuthenticationUnsuccessful"))
