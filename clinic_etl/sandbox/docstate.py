"""The state of a simulator that keeps documents (the GoHighLevel and Mailchimp simulators): one SQLite file shared by
every process that opens it (Dagster steps, `clinic-etl sandbox serve`, tests), like the Xero simulator's.

Documents are JSON by (kind, id) with an optional lookup key; beside them the simulator's counters, the calls it
answered (`stats`: the tests' proof of what was sent), faults queued by a test, and rate-limit windows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, id TEXT NOT NULL, lookup TEXT, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_lookup ON docs (kind, lookup);
CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS stats (call TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path_prefix TEXT NOT NULL, method TEXT, status INTEGER NOT NULL,
    remaining INTEGER NOT NULL, body INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, start REAL NOT NULL, count INTEGER NOT NULL)
"""


class DocState:
    """Thread-local connections to one state file; created (and seeded once) on first use."""

    def __init__(self, path: str | os.PathLike[str], seed: Callable[[Tx], None]) -> None:
        self.path = os.fspath(path)
        self._local = threading.local()
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.connection().execute("PRAGMA journal_mode=WAL")
        with self.write() as tx:
            for statement in DDL.split(";"):
                if statement.strip():
                    tx.conn.execute(statement)
            if tx.meta("seeded") is None:
                seed(tx)
                tx.set_meta("seeded", "1")

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def counter(self, name: str) -> int:
        value = int(self.meta(f"counter:{name}") or "0") + 1
        self.set_meta(f"counter:{name}", str(value))
        return value

    # ---- documents
    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT data FROM docs WHERE kind=? AND id=?", (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, doc_id: str, data: dict[str, Any], lookup: str | None = None) -> None:
        text = json.dumps(data, separators=(",", ":"))
        updated = self.conn.execute(
            "UPDATE docs SET lookup=?, data=? WHERE kind=? AND id=?", (lookup, text, kind, doc_id)
        ).rowcount
        if not updated:
            self.conn.execute(
                "INSERT INTO docs (kind, id, lookup, seq, data) VALUES (?,?,?,?,?)",
                (kind, doc_id, lookup, self.counter(f"seq:{kind}"), text),
            )

    def all(self, kind: str, lookup: str | None = None) -> list[dict[str, Any]]:
        if lookup is None:
            rows = self.conn.execute("SELECT data FROM docs WHERE kind=? ORDER BY seq", (kind,))
        else:
            rows = self.conn.execute("SELECT data FROM docs WHERE kind=? AND lookup=? ORDER BY seq", (kind, lookup))
        return [json.loads(row[0]) for row in rows]

    # ---- blobs (a batch's results)
    def put_blob(self, blob_id: str, data: bytes, expires: float) -> None:
        self.conn.execute("INSERT OR REPLACE INTO blobs (id, data, expires) VALUES (?,?,?)", (blob_id, data, expires))

    def blob(self, blob_id: str) -> tuple[bytes, float] | None:
        row = self.conn.execute("SELECT data, expires FROM blobs WHERE id=?", (blob_id,)).fetchone()
        return (bytes(row[0]), float(row[1])) if row else None

    # ---- calls, faults, rate windows
    def count_call(self, call: str) -> None:
        self.conn.execute(
            "INSERT INTO stats (call, count) VALUES (?, 1) ON CONFLICT(call) DO UPDATE SET count = count + 1", (call,)
        )

    def stats(self) -> dict[str, int]:
        return {call: count for call, count in self.conn.execute("SELECT call, count FROM stats ORDER BY call")}

    def queue_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        status, count = int(spec.get("status", 500)), int(spec.get("count", 1))
        method = spec.get("method")
        method = None if method in (None, "", "*") else str(method).upper()
        body = 1 if spec.get("body", True) else 0
        self.conn.execute(
            "INSERT INTO faults (path_prefix, method, status, remaining, body) VALUES (?,?,?,?,?)",
            (str(spec.get("path_prefix", "/")), method, status, count, body),
        )
        return {"path_prefix": spec.get("path_prefix", "/"), "method": method, "status": status, "count": count}

    def pop_fault(self, method: str, path: str) -> tuple[int, bool] | None:
        """Consume one queued fault matching the request (oldest first): (status, with a body)."""
        rows = self.conn.execute("SELECT id, path_prefix, method, status, remaining, body FROM faults ORDER BY id")
        for fid, prefix, fmethod, status, remaining, body in rows.fetchall():
            if path.startswith(prefix) and fmethod in (None, method.upper()):
                if remaining <= 1:
                    self.conn.execute("DELETE FROM faults WHERE id=?", (fid,))
                else:
                    self.conn.execute("UPDATE faults SET remaining=remaining-1 WHERE id=?", (fid,))
                return status, bool(body)
        return None

    def hit(self, key: str, now: float, length: float, limit: int) -> tuple[int, float] | None:
        """Count one call in the fixed window `key` (starting with its first call), or refuse it: None when counted,
        else (the count, seconds left in the window)."""
        row = self.conn.execute("SELECT start, count FROM windows WHERE key=?", (key,)).fetchone()
        start, count = (row[0], row[1]) if row and now < row[0] + length else (now, 0)
        if count >= limit:
            return count, start + length - now
        self.conn.execute("INSERT OR REPLACE INTO windows (key, start, count) VALUES (?,?,?)", (key, start, count + 1))
        return None

    def window_count(self, key: str, now: float, length: float) -> int:
        row = self.conn.execute("SELECT start, count FROM windows WHERE key=?", (key,)).fetchone()
        return row[1] if row and now < row[0] + length else 0
