"""SQLite persistence shared by every process that opens the same state file.

Everything the simulator knows lives here: each organisation (tenant) with its settings, contacts, invoices,
payments, credit notes and allocations (every document belongs to one tenant and is only found through it), the
connected organisations, tokens, the idempotency cache and rate-limit windows (both per tenant), queued faults
and call statistics (app-wide, and per tenant). WAL mode, a generous busy timeout and ``BEGIN IMMEDIATE`` for every
write keep several processes (Dagster steps, ``clinic-etl sandbox serve``, tests) consistent with each other.
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
    kind TEXT NOT NULL, tenant TEXT NOT NULL, id TEXT NOT NULL,
    key1 TEXT, key2 TEXT, updated_ms INTEGER NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_key1 ON docs (kind, tenant, key1);
CREATE INDEX IF NOT EXISTS docs_key2 ON docs (kind, tenant, key2);
CREATE INDEX IF NOT EXISTS docs_seq ON docs (kind, tenant, seq);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL, first_used_at REAL
);
CREATE TABLE IF NOT EXISTS idempotency (
    tenant TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body BLOB NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (tenant, key)
);
CREATE TABLE IF NOT EXISTS rate_windows (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, window_start REAL NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path_prefix TEXT NOT NULL, method TEXT, status INTEGER NOT NULL,
    remaining INTEGER NOT NULL, after_write INTEGER NOT NULL, retry_after INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stats (call TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_stats (
    tenant TEXT NOT NULL, call TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (tenant, call)
);
"""


class Store:
    """Thread-local connections to one state file; created (and seeded once) on first use."""

    def __init__(self, path: str | os.PathLike[str], seed: Callable[[sqlite3.Connection], None]) -> None:
        self.path = os.fspath(path)
        self._local = threading.local()
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        conn = self.connection()
        conn.execute("PRAGMA journal_mode=WAL")
        with self.write() as tx:
            tx.executescript_safe(DDL)
            if tx.meta_get("seeded") is None:
                seed(tx.conn)
                tx.meta_set("seeded", "1")

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A short ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction giving a consistent snapshot."""
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            yield Tx(conn)
        finally:
            conn.execute("ROLLBACK")


class Tx:
    """Helpers over one open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def executescript_safe(self, script: str) -> None:
        # executescript() would COMMIT the open transaction; run statement by statement instead.
        for statement in script.split(";"):
            if statement.strip():
                self.conn.execute(statement)

    def meta_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def meta_set(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def next_counter(self, name: str) -> int:
        value = int(self.meta_get(f"counter:{name}") or "0") + 1
        self.meta_set(f"counter:{name}", str(value))
        return value

    # ---- documents -------------------------------------------------------------------------------
    def get(self, kind: str, tenant: str, doc_id: str) -> dict[str, Any] | None:
        """The tenant's document `doc_id` (another tenant's is not found)."""
        row = self.conn.execute(
            "SELECT data FROM docs WHERE kind=? AND tenant=? AND id=?", (kind, tenant, doc_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(
        self,
        kind: str,
        tenant: str,
        doc_id: str,
        data: dict[str, Any],
        *,
        updated_ms: int,
        key1: str | None = None,
        key2: str | None = None,
    ) -> None:
        text = json.dumps(data, separators=(",", ":"))
        cur = self.conn.execute(
            "UPDATE docs SET key1=?, key2=?, updated_ms=?, data=? WHERE kind=? AND tenant=? AND id=?",
            (key1, key2, updated_ms, text, kind, tenant, doc_id),
        )
        if cur.rowcount == 0:
            seq = self.next_counter(f"seq:{kind}")
            self.conn.execute(
                "INSERT INTO docs (kind, tenant, id, key1, key2, updated_ms, seq, data) VALUES (?,?,?,?,?,?,?,?)",
                (kind, tenant, doc_id, key1, key2, updated_ms, seq, text),
            )

    def find(self, kind: str, tenant: str, *, key1: str | None = None, key2: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT data FROM docs WHERE kind=? AND tenant=?", [kind, tenant]
        if key1 is not None:
            sql, args = sql + " AND key1=?", [*args, key1]
        if key2 is not None:
            sql, args = sql + " AND key2=?", [*args, key2]
        return [json.loads(row[0]) for row in self.conn.execute(sql + " ORDER BY seq", args)]

    def all(self, kind: str, tenant: str, ids: list[str] | None = None) -> list[dict[str, Any]]:
        if ids is None:
            return self.find(kind, tenant)
        marks = ",".join("?" * len(ids)) or "NULL"
        rows = self.conn.execute(
            f"SELECT data FROM docs WHERE kind=? AND tenant=? AND id IN ({marks}) ORDER BY seq",
            [kind, tenant, *ids],
        )
        return [json.loads(row[0]) for row in rows]
