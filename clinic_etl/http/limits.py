"""Client-side call budgets (requests per minute) held across processes.

Dagster runs each step in its own process, and backfills run several runs at once, so a budget kept in
memory would be per process. pyrate-limiter's SQLite bucket with a file lock shares one budget between
every process on the machine; across machines, Dagster pools (`xero_api`, `cliniko_api`) bound the
concurrency and the client still honours the server's 429 Retry-After.

A budget key may be derived from a secret (an API key), so it never reaches the file: tables and the rows
in them are named by a digest of it. The budget file and its side files are created readable by their owner
only (0600).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing, suppress
from pathlib import Path

from pyrate_limiter import Duration, Limiter
from pyrate_limiter.limiter_factory import create_inmemory_limiter, create_sqlite_limiter

from clinic_etl.store.files import private_file, tighten

_SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")
#: the tables this module names: "budget_" and a digest. Any other "budget_..." table was named after a budget
#: key by an older version (possibly holding part of an API key) and is dropped.
_TABLE = re.compile(r"budget_[0-9a-f]{16}")


def budget_id(key: str) -> str:
    """The name a budget key is stored under: a digest, so that no part of the key is written anywhere."""
    return hashlib.sha256(f"clinic_etl.budget:{key}".encode()).hexdigest()[:16]


def _drop_legacy_tables(path: Path) -> None:
    with closing(sqlite3.connect(path, timeout=30.0, isolation_level=None)) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        legacy = [name for name in names if name.startswith("budget_") and not _TABLE.fullmatch(name)]
        if legacy:
            conn.execute("PRAGMA secure_delete = ON")  # overwrite the freed pages, names included
            conn.execute("BEGIN IMMEDIATE")
            for name in legacy:
                conn.execute('DROP TABLE IF EXISTS "{}"'.format(name.replace('"', '""')))
            conn.execute("COMMIT")
            with suppress(sqlite3.OperationalError):  # best effort: the WAL's copies of the pages go too
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class CallBudget:
    """`per_minute` calls in any rolling minute; `window_s` shortens that minute when a benchmark runs the
    simulators' rate-limit windows faster than real time (the client then waits as much less, in proportion)."""

    def __init__(self, per_minute: int, path: Path | None = None, window_s: float = 60) -> None:
        self.per_minute = per_minute
        self._path = path
        self._window: int | Duration = Duration.MINUTE if window_s == 60 else max(1, round(window_s * 1000))
        self._buffer_ms = 50 if window_s == 60 else max(1, round(50 * window_s / 60))  # pyrate-limiter's default
        self._limiters: dict[str, Limiter] = {}
        self._prepared = False

    def _prepare_file(self, path: Path) -> None:
        if not self._prepared:
            private_file(path)  # before SQLite creates it: its -wal/-shm files take the same mode
            private_file(path.with_name(path.name + ".lock"))  # pyrate-limiter's file lock
            for suffix in _SIDE_FILES:  # left group-readable by an older version
                tighten(path.with_name(path.name + suffix))
            _drop_legacy_tables(path)
            self._prepared = True

    def _limiter(self, key: str) -> Limiter:
        if key not in self._limiters:
            if self._path is None:
                self._limiters[key] = create_inmemory_limiter(self.per_minute, self._window, self._buffer_ms)
            else:
                self._prepare_file(self._path)
                self._limiters[key] = create_sqlite_limiter(
                    self.per_minute,
                    self._window,
                    db_path=str(self._path),
                    table_name=f"budget_{budget_id(key)}",
                    buffer_ms=self._buffer_ms,
                    use_file_lock=True,
                )
        return self._limiters[key]

    def acquire(self, key: str) -> None:
        """Block until one more call fits in the last minute's budget for `key`."""
        if self.per_minute > 0:
            self._limiter(key).try_acquire(budget_id(key), blocking=True)
