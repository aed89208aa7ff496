"""Client-side call budgets (requests per minute) held across processes.

Dagster runs each step in its own process, and backfills run several runs at once, so a budget kept in
memory would be per process. pyrate-limiter's SQLite bucket with a file lock shares one budget between
every process on the machine; across machines, Dagster pools (`xero_api`, `cliniko_api`) bound the
concurrency and the client still honours the server's 429 Retry-After.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyrate_limiter import Duration, Limiter
from pyrate_limiter.limiter_factory import create_inmemory_limiter, create_sqlite_limiter


class CallBudget:
    def __init__(self, per_minute: int, path: Path | None = None) -> None:
        self.per_minute = per_minute
        self._path = path
        self._limiters: dict[str, Limiter] = {}

    def _limiter(self, key: str) -> Limiter:
        if key not in self._limiters:
            if self._path is None:
                self._limiters[key] = create_inmemory_limiter(self.per_minute, Duration.MINUTE)
            else:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                table = "budget_" + re.sub(r"\W", "_", key)[:60]
                self._limiters[key] = create_sqlite_limiter(
                    self.per_minute, Duration.MINUTE, db_path=str(self._path), table_name=table, use_file_lock=True
                )
        return self._limiters[key]

    def acquire(self, key: str) -> None:
        """Block until one more call fits in the last minute's budget for `key`."""
        if self.per_minute > 0:
            self._limiter(key).try_acquire(key, blocking=True)
