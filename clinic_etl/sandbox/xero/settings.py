"""Read-only organisation settings: GET /Organisation, /Accounts, /TaxRates, /TrackingCategories."""

from __future__ import annotations

from typing import Any

from . import locks, query
from .context import Ctx
from .serialize import Resp, envelope, ms_datetime, not_found, problem, q


def _account_out(acct: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in acct.items() if k != "UpdatedDateUTC"},
        "UpdatedDateUTC": ms_datetime(acct["UpdatedDateUTC"]),
    }


def _tax_out(rate: dict[str, Any]) -> dict[str, Any]:
    out = {
        **rate,
        "DisplayTaxRate": q(rate["DisplayTaxRate"], 4),
        "EffectiveRate": q(rate["EffectiveRate"], 4),
    }
    out["TaxComponents"] = [{**c, "Rate": q(c["Rate"], 4)} for c in rate["TaxComponents"]]
    return out


def _tracking_out(category: dict[str, Any], archived: bool) -> dict[str, Any]:
    options = [o for o in category["Options"] if archived or o["Status"] == "ACTIVE"]
    return {
        "Name": category["Name"],
        "Status": category["Status"],
        "TrackingCategoryID": category["TrackingCategoryID"],
        "Options": options,
    }


def _filtered(ctx: Ctx, plural: str, outs: list[dict[str, Any]]) -> Resp:
    try:
        predicate = query.where(ctx.query["where"]) if ctx.query.get("where", "").strip() else None
    except (ValueError, TypeError) as exc:
        return query.query_error(str(exc))
    if predicate is not None:
        outs = [o for o in outs if predicate(o)]
    return Resp(200, envelope(plural, query.order(outs, ctx.query.get("order")), ctx.now_ms))


def handle(ctx: Ctx, resource: str, method: str, ref: str | None, ims: str | None) -> Resp:
    if method != "GET":
        return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported by the sandbox here"))
    if resource == "Organisation":
        return Resp(200, envelope("Organisations", [locks.organisation_out(ctx.org())], ctx.now_ms))
    if resource == "Accounts":
        since = query.modified_since(ims)
        accounts = [a for a in ctx.accounts() if since(a["UpdatedDateUTC"])]
        if ref is not None:
            match = [a for a in accounts if a["AccountID"] == ref.lower()]
            return (
                Resp(200, envelope("Accounts", [_account_out(a) for a in match], ctx.now_ms)) if match else not_found()
            )
        return _filtered(ctx, "Accounts", [_account_out(a) for a in accounts])
    if resource == "TaxRates":
        rates = [_tax_out(r) for r in ctx.tx.all("taxrate", ctx.tenant)]
        if ref is not None:
            rates = [r for r in rates if r["TaxType"].upper() == ref.upper()]
            return Resp(200, envelope("TaxRates", rates, ctx.now_ms)) if rates else not_found()
        return _filtered(ctx, "TaxRates", rates)
    archived = ctx.query.get("includeArchived", "").lower() == "true"
    categories = [_tracking_out(c, archived) for c in ctx.tracking() if archived or c["Status"] == "ACTIVE"]
    if ref is not None:
        categories = [c for c in categories if c["TrackingCategoryID"] == ref.lower()]
        return Resp(200, envelope("TrackingCategories", categories, ctx.now_ms)) if categories else not_found()
    return _filtered(ctx, "TrackingCategories", categories)
