"""Test-only admin: `GET /__sandbox__/stats`, the calls made per route (ids folded to `{id}`), like the Xero
simulator's. Needs no token and is not rate-limited or counted itself."""

from __future__ import annotations

import re
import threading
from typing import Any

_ID_SEGMENT = re.compile(r"/\d+(?=\.json$|/|$)")


def normalize_path(path: str) -> str:
    """`/api/v4/bills/1870245001.json` -> `/api/v4/bills/{id}.json`."""
    return _ID_SEGMENT.sub("/{id}", path)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}

    def record(self, method: str, path: str) -> None:
        call = f"{method.upper()} {normalize_path(path)}"
        with self._lock:
            self._calls[call] = self._calls.get(call, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls = dict(sorted(self._calls.items()))
        by_method: dict[str, int] = {}
        for call, count in calls.items():
            method = call.split(" ", 1)[0]
            by_method[method] = by_method.get(method, 0) + count
        return {"total": sum(calls.values()), "by_method": by_method, "calls": calls}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
