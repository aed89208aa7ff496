"""Period lock dates: each organisation's `PeriodLockDate` (and `EndOfYearLockDate`), served by GET /Organisation as
Microsoft JSON dates and set by tests through `POST /__sandbox__/lock_date[?tenant=<tenant id>]` (`set_lock_dates`).
A document or payment dated on or before the later of the two is refused with a validation error (FACTS §5: "posting
on/before the lock date -> 400"; Xero's exact wording is unverified)."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .serialize import ms_date
from .state import Tx


def lock_date(ctx: Ctx) -> str | None:
    """The later lock date as YYYY-MM-DD, or None."""
    org = ctx.org()
    dates = [d for d in (org.get("_period_lock_date"), org.get("_end_of_year_lock_date")) if d]
    return max(dates) if dates else None


def set_lock_dates(tx: Tx, tenant: str, spec: dict[str, Any], now_ms: int) -> None:
    """Set (or, with null, clear) the organisation's `PeriodLockDate` and `EndOfYearLockDate` (YYYY-MM-DD)."""
    org = tx.get("org", tenant, tenant) or {}
    org = {
        **org,
        "_period_lock_date": spec.get("PeriodLockDate"),
        "_end_of_year_lock_date": spec.get("EndOfYearLockDate"),
    }
    tx.put("org", tenant, tenant, org, updated_ms=now_ms)


def check(ctx: Ctx, on: str | None, errors: list[str]) -> None:
    locked = lock_date(ctx)
    if on and locked and on <= locked:
        errors.append(f"The document date cannot be on or before the period lock date ({locked}).")


def organisation_out(org: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in org.items() if not k.startswith("_")}
    if org.get("_period_lock_date"):
        out["PeriodLockDate"] = ms_date(org["_period_lock_date"])
    if org.get("_end_of_year_lock_date"):
        out["EndOfYearLockDate"] = ms_date(org["_end_of_year_lock_date"])
    return out
