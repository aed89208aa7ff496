"""Clio Manage's rate limit: per access token, N requests per 60-second window (FACTS §5).

Every answered API request carries `X-RateLimit-Limit` (requests per window), `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (UNIX time the window ends); over the limit -> 429 with `Retry-After` (seconds). The
default of 50/minute is Clio's peak-hours figure (off-peak is higher and region-dependent; not modelled).
Choices where the docs are silent (unverified): a window opens with the token's first request after the
previous window ended; refused requests do not count; a new access token (after a refresh) starts with a
fresh window, since the limit is per token.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60.0
DEFAULT_PER_MINUTE = 50


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.limit = per_minute
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, token: str) -> Decision:
        now = self.clock()
        start, count = self._windows.get(token, (now, 0))
        if now >= start + WINDOW_S:
            start, count = now, 0
        end = start + WINDOW_S
        if count >= self.limit:
            return Decision(False, self.limit, 0, math.ceil(end), max(1, math.ceil(end - now)))
        self._windows[token] = (start, count + 1)
        return Decision(True, self.limit, self.limit - count - 1, math.ceil(end), 0)
