"""Xero refuses anything dated on or before the organisation's lock date. A document or payment of the source dated
there is never silently lost: by the mapping's `rules.locked_period` it is held in quarantine with the reason
(`quarantine`, the default), or dated on the first open day (`move`), the move recorded in the run's metadata."""

from __future__ import annotations

from datetime import date, timedelta

MOVED_COLUMNS = ["key", "day", "from", "to"]


def placed(on: str, lock: date | None, rule: str) -> tuple[str, str | None]:
    """(the date to send, why it is held back, if it is)."""
    if lock is None or date.fromisoformat(on) > lock:
        return on, None
    if rule == "move":
        return (lock + timedelta(days=1)).isoformat(), None
    return on, (
        f"dated {on}, in Xero's locked period (on or before {lock}): reopen the period in Xero, or set "
        "rules.locked_period: move in the mapping to date it on the first open day"
    )
