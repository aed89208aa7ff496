"""Clio's error responses.

API errors use the spec's `Error` schema: `{"error": {"type": "...", "message": "..."}}` (FACTS §3). A
missing, unknown or expired bearer token is refused the OAuth (Doorkeeper) way Clio's support site quotes:
401 with `{"error": "invalid_token", "error_description": "..."}` and a `WWW-Authenticate: Bearer` header.
The `type` names are not in the spec and are unverified, except `ArgumentError` for an offset page past the
10,000-record cap (paging docs, 422).
"""

from __future__ import annotations

from starlette.responses import JSONResponse

INVALID_TOKEN = "The access token provided is expired, revoked, malformed or invalid for other reasons."


class ClioJSON(JSONResponse):
    """JSON as Clio sends it: `application/json; charset=utf-8`, UTF-8 text (not \\u escapes)."""

    media_type = "application/json; charset=utf-8"


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"type": self.kind, "message": self.message}}
        return ClioJSON(body, status_code=self.status, headers=self.headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "ArgumentError", message)


def not_found(what: str = "record") -> ApiError:
    return ApiError(404, "RecordNotFound", f"The requested {what} could not be found.")


def invalid_token(headers: dict[str, str] | None = None) -> JSONResponse:
    challenge = f'Bearer realm="Clio", error="invalid_token", error_description="{INVALID_TOKEN}"'
    return ClioJSON(
        {"error": "invalid_token", "error_description": INVALID_TOKEN},
        status_code=401,
        headers={**(headers or {}), "WWW-Authenticate": challenge},
    )
