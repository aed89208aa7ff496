"""What every request passes before routing: HTTP Basic auth with the API key, an identifying User-Agent,
an Accept that allows JSON, and the per-key rate limit (fixed one-minute windows).

Real API: 200 requests per minute per user; over it -> 429 with `X-RateLimit-Reset` (UNIX seconds, UTC) and
no Retry-After. Choices where the docs are silent: the password is ignored (the docs say none is needed);
a key is accepted with or without its shard suffix but not with another shard's; windows are aligned to
whole minutes of `clock()`; every authenticated request counts, whatever its outcome.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# The sandbox's API key: shard suffix `au1`, like https://api.au1.cliniko.com/v1.
SANDBOX_CLINIKO_API_KEY = "sandbox-0000000000000000000000000000-au1"
SHARD_SUFFIX = re.compile(r"-[a-z]{2}\d{1,2}$", re.IGNORECASE)
# "APP_VENDOR_NAME (APP_VENDOR_EMAIL)", possibly followed by more product tokens.
USER_AGENT = re.compile(r"[^()]*[^()\s]\s*\(\s*[^()\s@]+@[^()\s@]+\.[^()\s@]+\s*\)")


def key_without_shard(api_key: str) -> str:
    return SHARD_SUFFIX.sub("", api_key)


class FixedWindowLimiter:
    """`requests_per_minute` per window of `window_s` seconds (a minute; shorter when a benchmark runs the
    simulators' clock faster than real time, see `create_app(time_scale=...)`)."""

    def __init__(self, requests_per_minute: int, clock: Callable[[], float], window_s: float = 60) -> None:
        self.limit = requests_per_minute
        self.clock = clock
        self.window_s = window_s
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> float | None:
        """Count one request; return the window's reset time (UNIX seconds) if the limit is exceeded."""
        start = int(self.clock() // self.window_s) * self.window_s
        window, count = self._windows.get(key, (start, 0))
        if window != start:
            count = 0
        if count >= self.limit:
            return start + self.window_s
        self._windows[key] = (start, count + 1)
        return None


def _user_name(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0]


def _accepts_json(header: str | None) -> bool:
    if not header:
        return True
    kinds = {part.split(";")[0].strip().lower() for part in header.split(",")}
    return bool(kinds & {"application/json", "application/*", "*/*"})


class Guard:
    """ASGI middleware answering 401/403/406/429 with a JSON `{"message": ...}` body."""

    def __init__(self, app: ASGIApp, api_key: str, limiter: FixedWindowLimiter) -> None:
        self.app = app
        self.accepted = {api_key, key_without_shard(api_key)}
        self.user = key_without_shard(api_key)
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.check(Request(scope))
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    def check(self, request: Request) -> JSONResponse | None:
        if _user_name(request.headers.get("authorization")) not in self.accepted:
            return JSONResponse(
                {"message": "Unauthorized: send the API key as the HTTP Basic user name (empty password)."},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Application"'},
            )
        if not USER_AGENT.match(request.headers.get("user-agent", "").strip()):
            message = (
                "Forbidden: the User-Agent header must name your application and give a contact e-mail, "
                "e.g. 'Really helpful app (devs@helpfulapp.com)'."
            )
            return JSONResponse({"message": message}, status_code=403)
        if not _accepts_json(request.headers.get("accept")):
            return JSONResponse({"message": "Not Acceptable: send Accept: application/json."}, status_code=406)
        reset = self.limiter.hit(self.user)
        if reset is not None:
            message = "Too Many Requests: rate limit exceeded, retry after the X-RateLimit-Reset time."
            return JSONResponse(
                {"message": message},
                status_code=429,
                headers={"X-RateLimit-Reset": str(reset)},
            )
        return None
