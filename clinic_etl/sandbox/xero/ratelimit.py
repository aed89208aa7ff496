"""Xero's per-tenant rate limits: calls per minute and per day (fixed windows kept in the state file, so
they hold across processes), the app-wide minute limit, and concurrent calls in flight (per process)."""

from __future__ import annotations

import math
import threading
from collections import defaultdict

from .serialize import Resp, problem
from .state import Tx

APP_MINUTE_LIMIT = 10_000
_HEADER = {
    "minute": "X-MinLimit-Remaining",
    "day": "X-DayLimit-Remaining",
    "appminute": "X-AppMinLimit-Remaining",
}


class RateDecision:
    def __init__(self, limited: str | None, retry_after: float, headers: dict[str, str]) -> None:
        self.limited = limited
        self.retry_after = retry_after
        self.headers = headers

    def response(self) -> Resp:
        detail = f"Rate limit exceeded: too many requests in the current {self.limited} window."
        return Resp(429, problem(429, "Too Many Requests", detail), self.headers)


def check_and_count(
    tx: Tx, tenant: str, now: float, per_minute: int, per_day: int, time_scale: float = 1
) -> RateDecision:
    """Count this call against the tenant's windows, or refuse it (refused calls are not counted).

    Each window starts with the first call after the previous one ended (Xero's windows reset at
    different times per tenant), so ``Retry-After`` is the time left in the window that is full.
    ``time_scale`` > 1 (a benchmark) makes every window that many times shorter than real time; ``Retry-After``
    is then given in seconds with a fraction, since whole seconds would be longer than a scaled minute.
    """
    windows = [
        ("day", tenant, 86400.0 / time_scale, per_day),
        ("minute", tenant, 60.0 / time_scale, per_minute),
        ("appminute", "__app__", 60.0 / time_scale, APP_MINUTE_LIMIT),
    ]
    current: dict[str, tuple[str, float, int, int]] = {}
    limited, retry_after = None, 0
    for kind, key, length, limit in windows:
        row = tx.conn.execute(
            "SELECT window_start, count FROM rate_windows WHERE tenant=? AND kind=?", (key, kind)
        ).fetchone()
        start, count = (row[0], row[1]) if row and now < row[0] + length else (now, 0)
        current[kind] = (key, start, count, limit)
        if limited is None and count >= limit:
            left = start + length - now
            limited, retry_after = kind, max(1, math.ceil(left)) if time_scale == 1 else max(0.001, left)
    if limited is None:
        for kind, (key, start, count, limit) in current.items():
            current[kind] = (key, start, count + 1, limit)
            tx.conn.execute(
                "INSERT OR REPLACE INTO rate_windows (tenant, kind, window_start, count) VALUES (?,?,?,?)",
                (key, kind, start, count + 1),
            )
    headers = {_HEADER[kind]: str(max(0, limit - count)) for kind, (_, _, count, limit) in current.items()}
    if limited is not None:
        headers["Retry-After"] = str(retry_after) if isinstance(retry_after, int) else f"{retry_after:.3f}"
        headers["X-Rate-Limit-Problem"] = limited
    return RateDecision(limited, retry_after, headers)


class ConcurrencyLimiter:
    """Calls in flight per tenant in this process (best effort: Xero allows 5 per tenant)."""

    def __init__(self, max_concurrent: int) -> None:
        self.max_concurrent = max_concurrent
        self._lock = threading.Lock()
        self._in_flight: defaultdict[str, int] = defaultdict(int)

    def acquire(self, tenant: str) -> bool:
        with self._lock:
            if self._in_flight[tenant] >= self.max_concurrent:
                return False
            self._in_flight[tenant] += 1
            return True

    def release(self, tenant: str) -> None:
        with self._lock:
            self._in_flight[tenant] = max(0, self._in_flight[tenant] - 1)

    @staticmethod
    def refused(headers: dict[str, str]) -> Resp:
        detail = "Rate limit exceeded: too many concurrent requests for this organisation."
        return Resp(
            429,
            problem(429, "Too Many Requests", detail),
            {**headers, "Retry-After": "1", "X-Rate-Limit-Problem": "concurrent"},
        )
