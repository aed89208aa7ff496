"""Client-side call budgets (requests per minute) held across processes.

Dagster runs each step in its own process, and backfills run several runs at once, so a budget kept in
memory would be per process. pyrate-limiter's SQLite bucket with a file lock shares one budget between
every process on the machine. Across machines (CLINIC_ETL_CALL_BUDGET_URL), the same budget lives in Redis
(`redis://...`, pyrate-limiter's Lua-scripted bucket: check and count in one atomic step) or PostgreSQL
(`postgresql://...`, its table-locked bucket); the machines' clocks must agree (NTP), as every caller stamps its
own calls. Dagster pools (`xero_api`, `cliniko_api`) bound the concurrency and the client still honours the
server's 429 Retry-After.

A budget key may be derived from a secret (an API key), so it never reaches the file: tables and the rows
in them are named by a digest of it. The budget file and its side files are created readable by their owner
only (0600).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from contextlib import closing, suppress
from pathlib import Path
from urllib.parse import urlsplit

from pyrate_limiter import Duration, Limiter, Rate
from pyrate_limiter.limiter_factory import create_inmemory_limiter, create_sqlite_limiter

from clinic_etl.http.errors import QuotaSpent
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

    def __init__(self, per_minute: int, path: Path | None = None, window_s: float = 60, *, url: str | None = None):
        self.per_minute = per_minute
        self._path = path
        self._url = url  # a Redis or PostgreSQL server that holds the budget for every machine (wins over `path`)
        self._window: int | Duration = Duration.MINUTE if window_s == 60 else max(1, round(window_s * 1000))
        self._buffer_ms = 50 if window_s == 60 else max(1, round(50 * window_s / 60))  # pyrate-limiter's default
        self._limiters: dict[str, Limiter] = {}
        self._prepared = False
        self._making = threading.Lock()  # one limiter per key, whichever thread asks first

    def _prepare_file(self, path: Path) -> None:
        if not self._prepared:
            private_file(path)  # before SQLite creates it: its -wal/-shm files take the same mode
            private_file(path.with_name(path.name + ".lock"))  # pyrate-limiter's file lock
            for suffix in _SIDE_FILES:  # left group-readable by an older version
                tighten(path.with_name(path.name + suffix))
            _drop_legacy_tables(path)
            self._prepared = True

    def _limiter(self, key: str) -> Limiter:
        with self._making:
            if key not in self._limiters:
                self._limiters[key] = self._new_limiter(key)
            return self._limiters[key]

    def _new_limiter(self, key: str) -> Limiter:
        if self._url is not None:
            return shared_limiter(self._url, key, Rate(self.per_minute, self._window), self._buffer_ms)
        if self._path is None:
            return create_inmemory_limiter(self.per_minute, self._window, self._buffer_ms)
        self._prepare_file(self._path)
        return create_sqlite_limiter(
            self.per_minute,
            self._window,
            db_path=str(self._path),
            table_name=f"budget_{budget_id(key)}",
            buffer_ms=self._buffer_ms,
            use_file_lock=True,
        )

    def close(self) -> None:
        """Release the connections of a shared budget (a file or memory budget holds none open)."""
        for limiter in self._limiters.values():
            with suppress(Exception):
                for bucket in limiter.buckets():
                    bucket.close()
        self._limiters.clear()

    def acquire(self, key: str) -> None:
        """Block until one more call fits in the last minute's budget for `key`."""
        if self.per_minute > 0:
            self._limiter(key).try_acquire(budget_id(key), blocking=True)


#: how long a refused call may wait for a day's quota (pyrate-limiter's non-blocking mode cannot take the budget
#: file's lock): a full quota is not waited for, only the lock and the clock's buffer
QUOTA_LOCK_S = 0.25


class DailyQuota(CallBudget):
    """At most `per_day` calls in any rolling day (`window_s`, shorter in a benchmark or a test): a call that does not
    fit is refused at once with `QuotaSpent` (and the wait until one fits), never waited for, so that a backfill that
    would spend Xero's 5,000 calls a day stops cleanly before the limit and is re-run when the quota allows. Held
    where the minute budgets are (a file on this machine, or Redis / PostgreSQL for every machine)."""

    def __init__(
        self, per_day: int, path: Path | None = None, window_s: float = 86400, *, url: str | None = None, service: str
    ) -> None:
        super().__init__(per_day, path, window_s, url=url)
        self.service = service
        self._window_s = window_s

    def acquire(self, key: str) -> None:
        if self.per_minute <= 0:
            return
        key = f"{key}:day"  # its own table or bucket, apart from the minute's budget of the same key
        limiter = self._limiter(key)
        if not limiter.try_acquire(budget_id(key), blocking=True, timeout=QUOTA_LOCK_S):
            raise QuotaSpent(self.service, self.per_minute, self._until_free(limiter))

    def _until_free(self, limiter: Limiter) -> float:
        """Seconds until the whole quota is free again (the latest call has left the rolling day): a re-run then has
        a full day's calls, not the few that the oldest calls free one by one."""
        with suppress(Exception):
            bucket = limiter.buckets()[0]
            latest = bucket.peek(0)  # latest to earliest
            if latest is not None:
                now_ms = bucket.now() if hasattr(bucket, "now") else time.time() * 1000
                return max(1.0, (latest.timestamp + self._window_s * 1000 - now_ms) / 1000)  # type: ignore[operator]
        return self._window_s


class Budgets:
    """Several budgets one client keeps (a day's quota, then the minute's): a call goes out when each has room."""

    def __init__(self, *budgets: CallBudget) -> None:
        self.budgets = budgets

    def acquire(self, key: str) -> None:
        for budget in self.budgets:
            budget.acquire(key)

    def close(self) -> None:
        for budget in self.budgets:
            budget.close()


def _redis_bucket(rate: Rate, client: object, key: str) -> object:
    """pyrate-limiter's Redis bucket, counting every call of the window however late its caller's script runs.

    Its script counts the calls stamped between the window's start and the caller's own stamp (`ZCOUNT key start
    now`); a caller descheduled between taking its stamp and running the script (a busy machine) then misses the calls
    stamped after its stamp, and is let through over the budget. Counting up to `+inf` counts them too."""
    from pyrate_limiter import RedisBucket
    from pyrate_limiter.buckets.redis_bucket import LuaScript

    stale = "redis.call('ZCOUNT', bucket, window_start, now)"
    if stale not in LuaScript.PUT_ITEM:  # a pyrate-limiter whose script changed: look at it again
        raise RuntimeError("pyrate-limiter's Redis script changed: review clinic_etl.http.limits._redis_bucket")
    script = LuaScript.PUT_ITEM.replace(stale, "redis.call('ZCOUNT', bucket, window_start, '+inf')")
    return RedisBucket([rate], client, key, client.script_load(script))  # type: ignore[attr-defined]


def shared_limiter(url: str, key: str, rate: Rate, buffer_ms: int) -> Limiter:
    """A limiter whose bucket lives on a server every machine reaches: Redis or PostgreSQL (`url`). The bucket is
    named by the key's digest, so no part of an API key reaches the server."""
    scheme = urlsplit(url).scheme.split("+")[0]
    name = f"budget_{budget_id(key)}"
    if scheme in ("redis", "rediss"):
        from redis import Redis

        bucket = _redis_bucket(rate, Redis.from_url(url), f"clinic_etl:{name}")
    elif scheme in ("postgresql", "postgres"):
        from psycopg_pool import ConnectionPool
        from pyrate_limiter import PostgresBucket

        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1).replace(
            "postgres+psycopg://", "postgresql://", 1
        )
        pool = ConnectionPool(conninfo, min_size=1, max_size=2, open=True, kwargs={"autocommit": False})
        bucket = PostgresBucket(pool, name, [rate])
    else:
        raise ValueError("a call budget URL is redis://... or postgresql://... (CLINIC_ETL_CALL_BUDGET_URL)")
    return Limiter(bucket, buffer_ms=buffer_ms)
