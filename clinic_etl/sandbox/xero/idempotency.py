"""Idempotency-Key on PUT/POST, scoped per tenant (FACTS §7).

The first answer for a key (status and body, errors included) is stored and replayed byte for byte for
the same key within the TTL (about 6 minutes on Xero). The same key with a different method, URL or body
gets HTTP 400 saying the key is used with a different request. Keys are at most 128 characters.
"""

from __future__ import annotations

import hashlib

from .serialize import Resp, validation_error
from .state import Tx

MAX_KEY_LENGTH = 128


def fingerprint(method: str, url: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), url.encode("utf-8"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def invalid_key(key: str) -> Resp | None:
    if len(key) > MAX_KEY_LENGTH:
        return Resp(400, validation_error(f"Idempotency Key: must not be more than {MAX_KEY_LENGTH} characters long."))
    return None


def lookup(tx: Tx, tenant: str, key: str, fp: str, now: float, ttl_s: float) -> Resp | None:
    """The stored answer to replay, a 400 for a reused key, or None when the key is new."""
    tx.conn.execute("DELETE FROM idempotency WHERE created_at <= ?", (now - ttl_s,))
    row = tx.conn.execute(
        "SELECT fingerprint, status, body FROM idempotency WHERE tenant=? AND key=?", (tenant, key)
    ).fetchone()
    if row is None:
        return None
    if row[0] != fp:
        return Resp(400, validation_error(f"Idempotency Key: {key} is used with a different request."))
    return Resp(int(row[1]), bytes(row[2]))


def remember(tx: Tx, tenant: str, key: str, fp: str, answer: Resp, now: float) -> None:
    tx.conn.execute(
        "INSERT OR REPLACE INTO idempotency (tenant, key, fingerprint, status, body, created_at) VALUES (?,?,?,?,?,?)",
        (tenant, key, fp, answer.status, answer.payload(), now),
    )
