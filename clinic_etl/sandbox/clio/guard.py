"""What every `/api/v4` request passes before routing, in this order: a valid bearer token (401), the
per-token rate limit (429 with `Retry-After`), and a supported `X-API-VERSION` if one is sent (410 Gone).

Every authenticated answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`;
successful answers (below 400) echo `X-API-VERSION`, the version used (FACTS §3, §5). Versions: those the
spec's changelog lists, 4.0.4-4.0.10, default 4.0.9; any other value is 410 (which earlier 4.0.x versions
Clio still accepts is unverified). Every request, refused or not, is counted in the call statistics.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinic_etl.sandbox.clio.admin import Stats
from clinic_etl.sandbox.clio.errors import ApiError, invalid_token
from clinic_etl.sandbox.clio.oauth import TokenStore, bearer
from clinic_etl.sandbox.clio.ratelimit import RateLimiter

API_PREFIX = "/api/v4/"
DEFAULT_VERSION = "4.0.9"
SUPPORTED_VERSIONS = tuple(f"4.0.{minor}" for minor in range(4, 11))
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class Guard:
    def __init__(self, app: ASGIApp, tokens: TokenStore, limiter: RateLimiter, stats: Stats) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope.get("path", "")
        if not path.startswith("/__sandbox__/"):
            self.stats.record(request.method, path)
        if not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        token = bearer(request)
        if token is None or not self.tokens.valid(token):
            await invalid_token()(scope, receive, send)
            return
        decision = self.limiter.hit(token)
        headers = decision.headers()
        if not decision.allowed:
            refusal = ApiError(429, "RateLimited", "You have exceeded the rate limit of "
                               f"{decision.limit} requests per minute for this access token.", headers)  # fmt: skip
            await refusal.response()(scope, receive, send)
            return
        version = request.headers.get("x-api-version")
        if version is not None and version.strip() not in SUPPORTED_VERSIONS:
            message = f"API version '{version}' is invalid or no longer supported."
            kind = "InvalidApiVersion" if not _VERSION.match(version.strip()) else "UnsupportedApiVersion"
            await ApiError(410, kind, message, headers).response()(scope, receive, send)
            return
        used = (version or DEFAULT_VERSION).strip()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = dict(headers)
                if message["status"] < 400:
                    extra["X-API-VERSION"] = used
                raw = list(message.get("headers", []))
                raw += [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in extra.items()]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
