"""Business rules shared by invoices and credit notes: line arithmetic, accounts, tax, tracking, statuses.

Arithmetic follows Xero (FACTS §11, developer.xero.com "Rounding in Xero"), all in Decimal:

* UnitAmount is rounded to 2 dp (4 dp with ``?unitdp=4``) and Quantity to 4 dp *before* use;
  DiscountRate to 2 dp; rounding is half away from zero (2.165 -> 2.17).
* LineAmount = Quantity x UnitAmount x (1 - DiscountRate/100), or Quantity x UnitAmount - DiscountAmount,
  rounded to 2 dp. A LineAmount sent by the client may differ from that by at most 0.01 (then the sent value
  is kept); a bigger difference fails the element ("The line total X does not match the expected line
  total Y").
* Tax per line: LineAmount x rate (Exclusive) or LineAmount x rate / (1 + rate) (Inclusive), rounded to
  2 dp, then summed. A line TaxAmount sent by the client overrides the computed tax when it is within
  ``TAX_OVERRIDE_TOLERANCE`` of it. Xero documents that TaxAmount "can be overridden" but states no limit;
  0.05 is our choice, and a larger difference fails the element so that a wrong tax never slips in.
* Exclusive: Total = SubTotal + TotalTax. Inclusive: Total = sum of LineAmounts, SubTotal = Total - TotalTax.
  NoTax: no tax.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .context import Ctx, new_id
from .serialize import dec, money, q

TAX_OVERRIDE_TOLERANCE = Decimal("0.05")
LINE_AMOUNT_TOLERANCE = Decimal("0.01")
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
# System accounts that cannot be coded on sales/purchase documents.
_BLOCKED_SYSTEM = {
    "DEBTORS",
    "CREDITORS",
    "GST",
    "GSTONIMPORTS",
    "UNPAIDEXPCLM",
    "WAGEPAYABLES",
    "TRACKINGTRANSFERS",
    "RETAINEDEARNINGS",
    "BANKCURRENCYGAIN",
    "REALISEDCURRENCYGAIN",
    "UNREALISEDCURRENCYGAIN",
}
_CAN_APPLY = {
    "ASSET": "CanApplyToAssets",
    "EQUITY": "CanApplyToEquity",
    "EXPENSE": "CanApplyToExpenses",
    "LIABILITY": "CanApplyToLiabilities",
    "REVENUE": "CanApplyToRevenue",
}


def _compute_amounts(
    raw: dict[str, Any], unitdp: int, allow_discount: bool, errors: list[str]
) -> tuple[Decimal | None, Decimal | None, Decimal, dict[str, Any]]:
    qty = q(raw["Quantity"], 4) if "Quantity" in raw else None
    unit = q(raw["UnitAmount"], unitdp) if "UnitAmount" in raw else None
    rate = q(raw["DiscountRate"], 2) if "DiscountRate" in raw else None
    disc = q(raw["DiscountAmount"], 2) if "DiscountAmount" in raw else None
    extra: dict[str, Any] = {}
    if (rate or disc) and not allow_discount:
        errors.append("Discounts are not supported on this document type.")
    if rate is not None and disc is not None:
        errors.append("A line item cannot have both a DiscountRate and a DiscountAmount.")
    if rate is not None:
        extra["DiscountRate"] = str(rate)
    if disc is not None:
        extra["DiscountAmount"] = str(disc)
    factor = (Decimal(100) - (rate or 0)) / 100
    sent = money(raw["LineAmount"]) if "LineAmount" in raw else None
    if unit is not None:
        qty = Decimal(1) if qty is None else qty
        expected = money(qty * unit * factor) if rate is not None else money(qty * unit - (disc or 0))
        if sent is not None and abs(sent - expected) > LINE_AMOUNT_TOLERANCE:
            errors.append(f"The line total {sent} does not match the expected line total {expected}")
        return qty, unit, sent if sent is not None else expected, extra
    if sent is not None:
        qty = Decimal(1) if qty is None else qty
        if qty == 0 or factor == 0:
            errors.append("The UnitAmount cannot be calculated because the Quantity is zero.")
            return qty, Decimal(0), sent, extra
        return qty, q((sent + (disc or 0)) / factor / qty, unitdp), sent, extra
    return qty, (Decimal(0) if qty is not None else None), Decimal("0.00"), extra


def _resolve_account(ctx: Ctx, raw: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    code, account_id = raw.get("AccountCode"), raw.get("AccountID")
    if not code and not account_id:
        return None
    acct = ctx.account(code if code else None, account_id)
    shown = code if code else account_id
    if acct is None or acct["Type"] == "BANK" or acct.get("SystemAccount") in _BLOCKED_SYSTEM:
        errors.append(f"Account code '{shown}' is not a valid code for this document.")
        return None
    if acct["Status"] != "ACTIVE":
        errors.append(
            f"Account code '{shown}' has been archived, or has been deleted. "
            "Each line item must reference a valid account."
        )
        return None
    return acct


def _resolve_tracking(ctx: Ctx, raw: list[dict[str, Any]], errors: list[str]) -> list[dict[str, Any]]:
    if len(raw) > 2:
        errors.append("A line item can have a maximum of 2 tracking categories.")
        return []
    out: list[dict[str, Any]] = []
    for item in raw:
        cat_id, cat_name = item.get("TrackingCategoryID", "").lower(), item.get("Name", "")
        category = next(
            (
                c
                for c in ctx.tracking()
                if c["Status"] == "ACTIVE"
                and (c["TrackingCategoryID"] == cat_id or (cat_name and c["Name"].lower() == cat_name.lower()))
            ),
            None,
        )
        if category is None:
            errors.append(f"The tracking category '{cat_name or cat_id}' does not exist or is not active.")
            continue
        opt_id, opt_name = item.get("TrackingOptionID", "").lower(), item.get("Option", "")
        option = next(
            (
                o
                for o in category["Options"]
                if o["Status"] == "ACTIVE"
                and (o["TrackingOptionID"] == opt_id or (opt_name and o["Name"].lower() == opt_name.lower()))
            ),
            None,
        )
        if option is None:
            errors.append(
                f"The tracking option '{opt_name or opt_id}' does not exist in tracking category '{category['Name']}'."
            )
            continue
        if any(t["TrackingCategoryID"] == category["TrackingCategoryID"] for t in out):
            errors.append(f"The tracking category '{category['Name']}' is used more than once on a line item.")
            continue
        out.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    return out


def build_line(
    ctx: Ctx, raw: dict[str, Any], line_amount_types: str, *, allow_discount: bool, errors: list[str]
) -> dict[str, Any]:
    """Validate one line item and compute its amounts and tax (internal representation, amounts as str)."""
    line: dict[str, Any] = {
        "LineItemID": raw.get("LineItemID") or new_id(),
        "Description": raw.get("Description", ""),
    }
    if len(line["Description"].strip()) < 1:
        errors.append("Description needs to be at least 1 char long.")
    if raw.get("ItemCode"):
        errors.append(f"Item code '{raw['ItemCode']}' is not valid.")
    unitdp = max(ctx.unitdp, int(raw.get("_unitdp", 0)))
    qty, unit, amount, extra = _compute_amounts(raw, unitdp, allow_discount, errors)
    if qty is not None:
        line["Quantity"] = str(qty)
    if unit is not None:
        line["UnitAmount"] = str(unit)
    acct = _resolve_account(ctx, raw, errors)
    if acct is not None:
        line["AccountCode"], line["AccountID"] = acct["Code"], acct["AccountID"]
    elif raw.get("AccountCode"):
        line["AccountCode"] = raw["AccountCode"]  # invalid: already reported, never saved
    tax_type = raw.get("TaxType") or (acct["TaxType"] if acct else None)
    rate_pct = Decimal(0)
    if tax_type:
        rate = ctx.tax_rate(tax_type)
        usable = (
            rate is not None
            and rate["Status"] == "ACTIVE"
            and (acct is None or rate.get(_CAN_APPLY[acct["Class"]], False))
        )
        if not usable:
            errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
        else:
            line["TaxType"] = rate["TaxType"]
            rate_pct = dec(rate["EffectiveRate"])
    if line_amount_types == "Exclusive":
        tax = money(amount * rate_pct / 100)
    elif line_amount_types == "Inclusive":
        tax = money(amount * rate_pct / (100 + rate_pct))
    else:
        tax = Decimal("0.00")
    if "TaxAmount" in raw and line_amount_types != "NoTax":
        sent_tax = money(raw["TaxAmount"])
        if abs(sent_tax - tax) > TAX_OVERRIDE_TOLERANCE:
            errors.append(
                f"The tax amount {sent_tax} differs from the calculated tax {tax} by more than "
                f"{TAX_OVERRIDE_TOLERANCE}."
            )
        else:
            tax = sent_tax
    line.update(
        extra,
        TaxAmount=str(tax),
        LineAmount=str(amount),
        Tracking=_resolve_tracking(ctx, raw.get("Tracking", []), errors),
    )
    return line


def merge_lines(
    raw_lines: list[dict[str, Any]], existing: list[dict[str, Any]], errors: list[str]
) -> list[dict[str, Any]]:
    """Lines of an update: a LineItemID keeps that line's inputs unless resent; omitted lines are deleted."""
    by_id = {line["LineItemID"]: line for line in existing}
    kept = (
        "Description",
        "Quantity",
        "UnitAmount",
        "AccountCode",
        "TaxType",
        "DiscountRate",
        "DiscountAmount",
        "Tracking",
    )
    merged = []
    for raw in raw_lines:
        line_id = raw.get("LineItemID", "").lower()
        if not line_id:
            merged.append(raw)
        elif line_id not in by_id:
            errors.append(f"The LineItemID {line_id} does not exist on this document.")
        else:
            base = {key: by_id[line_id][key] for key in kept if key in by_id[line_id]}
            if "LineAmount" in raw and "UnitAmount" not in raw:
                base.pop("UnitAmount", None)
            elif "UnitAmount" not in raw:
                base["_unitdp"] = 4  # keep the stored unit price at its stored precision
            merged.append({**base, **raw, "LineItemID": line_id})
    return merged


def totals(lines: list[dict[str, Any]], line_amount_types: str) -> dict[str, str | bool]:
    amounts = [dec(line["LineAmount"]) for line in lines]
    tax = sum((dec(line["TaxAmount"]) for line in lines), Decimal("0.00"))
    line_sum = sum(amounts, Decimal("0.00"))
    discount = Decimal("0.00")
    for line in lines:
        if "DiscountRate" in line or "DiscountAmount" in line:
            discount += money(dec(line.get("Quantity", 0)) * dec(line.get("UnitAmount", 0))) - dec(line["LineAmount"])
    if line_amount_types == "Inclusive":
        total, subtotal = line_sum, line_sum - tax
    else:
        subtotal, total = line_sum, line_sum + tax
    return {
        "SubTotal": str(money(subtotal)),
        "TotalTax": str(money(tax)),
        "Total": str(money(total)),
        "TotalDiscount": str(money(discount)),
        "IsDiscounted": discount != 0,
    }


def transition_error(kind: str, old: str, new: str) -> str | None:
    """Status moves allowed on update (FACTS §4); the caller checks payments before voiding."""
    if old == new and old not in ("DELETED", "VOIDED"):
        return None
    allowed = {
        "DRAFT": {"SUBMITTED", "AUTHORISED", "DELETED"},
        "SUBMITTED": {"DRAFT", "AUTHORISED", "DELETED"},
        "AUTHORISED": {"VOIDED"},
        "PAID": set(),
        "DELETED": set(),
        "VOIDED": set(),
    }
    if old in ("DELETED", "VOIDED"):
        return f"{kind} not of valid status for modification"
    if new == "PAID":
        return f"The status PAID cannot be set on a {kind.lower()}; Xero sets it when it is paid."
    if new not in allowed[old]:
        return f"{kind} status cannot be changed from {old} to {new}."
    return None
