"""Test-only admin: injected faults (``/__sandbox__/faults``) and call statistics (``/__sandbox__/stats``: calls by
method and path, and the calls refused by a rate limit, by window).

Both live in the state file, so a test can queue a fault in one process and see it hit in another. Statistics are
kept app-wide (every call, identity included: the default) and per organisation (the accounting calls made to it,
``?tenant=<tenant id>``: e.g. the invoices one organisation e-mailed). Admin routes about one organisation take
``?tenant=`` and default to the first (`admin_tenant`).
"""

from __future__ import annotations

from typing import Any

from . import connections
from .catalogue import SANDBOX_TENANT_ID
from .serialize import Resp, problem
from .state import Tx

ACCOUNTING_PREFIX = "/api.xro/2.0/"
_SUB_RESOURCES = {"allocations", "history", "attachments", "onlineinvoice", "email", "pdf", "options"}


class Fault:
    def __init__(self, status: int, after_write: bool, retry_after: int) -> None:
        self.status = status
        self.after_write = after_write
        self.retry_after = retry_after

    def response(self, headers: dict[str, str]) -> Resp:
        if self.status == 429:
            hdrs = {**headers, "Retry-After": str(self.retry_after), "X-Rate-Limit-Problem": "minute"}
            return Resp(429, problem(429, "Too Many Requests", "Rate limit exceeded (injected fault)."), hdrs)
        titles = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        title = titles.get(self.status, "Error")
        return Resp(self.status, problem(self.status, title, f"{title} (injected fault)."), headers)


def normalize_path(path: str) -> str:
    """``/api.xro/2.0/Invoices/INV-0001`` -> ``/api.xro/2.0/Invoices/{id}`` so calls aggregate."""
    if not path.lower().startswith(ACCOUNTING_PREFIX):
        return path
    parts = path[len(ACCOUNTING_PREFIX) :].strip("/").split("/")
    out = [part if i % 2 == 0 or part.lower() in _SUB_RESOURCES else "{id}" for i, part in enumerate(parts)]
    return ACCOUNTING_PREFIX + "/".join(out)


def admin_tenant(tx: Tx, query: dict[str, str]) -> str | None:
    """The connected organisation an admin request is about (``?tenant=``, else the first), or None."""
    return connections.tenant_of(tx, query.get("tenant") or SANDBOX_TENANT_ID)


def unknown_tenant(query: dict[str, str]) -> Resp:
    return Resp(404, {"error": f"no connected organisation {query.get('tenant')!r}"})


def _count(tx: Tx, call: str, tenant: str | None) -> None:
    if tenant is None:
        tx.conn.execute(
            "INSERT INTO stats (call, count) VALUES (?, 1) ON CONFLICT(call) DO UPDATE SET count = count + 1", (call,)
        )
    else:
        tx.conn.execute(
            "INSERT INTO tenant_stats (tenant, call, count) VALUES (?, ?, 1) "
            "ON CONFLICT(tenant, call) DO UPDATE SET count = count + 1",
            (tenant, call),
        )


def record_call(tx: Tx, method: str, path: str) -> None:
    """Any call the simulator received (app-wide)."""
    _count(tx, f"{method.upper()} {normalize_path(path)}", None)


def record_tenant_call(tx: Tx, tenant: str, method: str, path: str) -> None:
    """An accounting call admitted for the organisation `tenant` (authenticated, connected)."""
    _count(tx, f"{method.upper()} {normalize_path(path)}", tenant)


REFUSED = "429 "  # stats rows of calls refused by a rate limit: "429 minute", "429 day", "429 appminute"


def record_refusal(tx: Tx, tenant: str, window: str) -> None:
    """A call to `tenant` the rate limits refused (a client that kept within its budget never has one)."""
    _count(tx, REFUSED + window, None)
    _count(tx, REFUSED + window, tenant)


def clear_stats(tx: Tx) -> None:
    tx.conn.execute("DELETE FROM stats")
    tx.conn.execute("DELETE FROM tenant_stats")


def stats(tx: Tx, tenant: str | None = None) -> dict[str, Any]:
    """The app-wide statistics, or those of one organisation."""
    if tenant is None:
        found = tx.conn.execute("SELECT call, count FROM stats ORDER BY call")
    else:
        found = tx.conn.execute("SELECT call, count FROM tenant_stats WHERE tenant=? ORDER BY call", (tenant,))
    rows = {call: count for call, count in found}
    calls = {call: count for call, count in rows.items() if not call.startswith(REFUSED)}
    refused = {call.removeprefix(REFUSED): count for call, count in rows.items() if call.startswith(REFUSED)}
    by_method: dict[str, int] = {}
    for call, count in calls.items():
        method = call.split(" ", 1)[0]
        by_method[method] = by_method.get(method, 0) + count
    return {"total": sum(calls.values()), "by_method": by_method, "calls": calls, "refused_by_rate_limit": refused}


def queue_fault(tx: Tx, spec: Any) -> Resp:
    if not isinstance(spec, dict) or not isinstance(spec.get("path_prefix"), str):
        return Resp(400, {"error": "body must be a JSON object with a string path_prefix"})
    status, count = spec.get("status", 500), spec.get("count", 1)
    method, after_write = spec.get("method"), spec.get("after_write", False)
    retry_after = spec.get("retry_after", 1)
    if not isinstance(status, int) or not 400 <= status <= 599:
        return Resp(400, {"error": "status must be an integer HTTP error status (400-599)"})
    if not isinstance(count, int) or count < 1:
        return Resp(400, {"error": "count must be a positive integer"})
    if method is not None and not isinstance(method, str):
        return Resp(400, {"error": "method must be a string or null"})
    if not isinstance(after_write, bool) or not isinstance(retry_after, int) or retry_after < 1:
        return Resp(400, {"error": "after_write must be a boolean and retry_after a positive integer"})
    method = None if method in (None, "", "*") else method.upper()
    cur = tx.conn.execute(
        "INSERT INTO faults (path_prefix, method, status, remaining, after_write, retry_after) VALUES (?,?,?,?,?,?)",
        (spec["path_prefix"], method, status, count, int(after_write), retry_after),
    )
    return Resp(
        200,
        {
            "id": cur.lastrowid,
            "path_prefix": spec["path_prefix"],
            "method": method,
            "status": status,
            "count": count,
            "after_write": after_write,
            "retry_after": retry_after,
        },
    )


def list_faults(tx: Tx) -> list[dict[str, Any]]:
    rows = tx.conn.execute(
        "SELECT id, path_prefix, method, status, remaining, after_write, retry_after FROM faults ORDER BY id"
    )
    return [
        {
            "id": r[0],
            "path_prefix": r[1],
            "method": r[2],
            "status": r[3],
            "count": r[4],
            "after_write": bool(r[5]),
            "retry_after": r[6],
        }
        for r in rows
    ]


def pop_fault(tx: Tx, method: str, path: str) -> Fault | None:
    """Consume one matching queued fault (oldest first); prefixes match case-insensitively."""
    rows = tx.conn.execute(
        "SELECT id, path_prefix, method, status, remaining, after_write, retry_after FROM faults ORDER BY id"
    )
    for fid, prefix, fmethod, status, remaining, after_write, retry_after in rows.fetchall():
        if path.lower().startswith(prefix.lower()) and fmethod in (None, method.upper()):
            if remaining <= 1:
                tx.conn.execute("DELETE FROM faults WHERE id=?", (fid,))
            else:
                tx.conn.execute("UPDATE faults SET remaining=remaining-1 WHERE id=?", (fid,))
            return Fault(status, bool(after_write), retry_after)
    return None
