"""What a completed appointment is charged, from what Cliniko says its type bills (pure, vectorised: frames in, frames
out; no loop over appointments or lines).

APPOINTMENTS §5: an appointment type bills its appointment-type billable items (portal: Appointment-Type-Billable-Item:
`quantity`, `discount_percentage`, `discounted_amount`, `is_monetary_discount`), each a billable item (`price`, a `tax`
link); on an older account with none, the type's single (deprecated) `billable_item` link, once, undiscounted. A patient
with a `concession_type` pays the item's concession price for that type where one is set (`concession_prices`: a null
price means none). The billable item's `price` is taken as tax-exclusive, like an invoice item's `unit_price` (FACTS §7;
the frozen example's "10.0" with a 10 % GST link; APPOINTMENTS §5 marks it unverified).

The arithmetic is Cliniko's own invoice arithmetic, so an appointment invoice is what Cliniko would have raised and its
lines are what `to_ledger` reads from Cliniko's invoice items: gross = price x quantity x (1 + rate/100); a money
discount (`discounted_amount`, tax-inclusive) or a percentage of the gross (to the cent); total including tax = gross -
discount (to the cent, half-up); net = total / (1 + rate/100) (3 dp); the line's tax = total - net. The invoice's total
is the sum of the lines' totals and its tax the total less the lines' nets (to the cent), as Cliniko's `tax_amount`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from clinic_etl.ledger.money import cents, to_decimal

HUNDRED = Decimal(100)
MILLI = Decimal("0.001")
LINE_COLUMNS = [
    "appointment_id",
    "line_no",
    "source_id",
    "description",
    "item_code",
    "quantity",
    "unit_price",
    "tax_rate",
    "tax_name",
    "discount",
    "total",
    "tax",
    "net",
]


def _decimal(series: pd.Series, default: str = "0") -> pd.Series:
    """Text (or Decimal) -> Decimal; a missing value (None, "", NaN from a merge) is `default`."""
    return series.map(lambda v: to_decimal(default if v is None or v is pd.NA or v != v or v == "" else v))


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | series.eq("")


def _note(problems: dict[str, list[str]], hit: pd.DataFrame, text: Callable[..., str], *columns: str) -> None:
    """The reason `text(<columns' values>)` of every appointment in `hit` (the rows a rule found), each once."""
    for appointment_id, *values in zip(hit["appointment_id"], *(hit[c] for c in columns), strict=True):
        reason = text(*values)
        found = problems.setdefault(appointment_id, [])
        if reason not in found:
            found.append(reason)


def billed_items(types: pd.DataFrame, type_items: pd.DataFrame) -> pd.DataFrame:
    """Every type's billable items: its appointment-type billable items, else its single `billable_item` link."""
    listed = type_items.assign(row_id=type_items["id"])[
        [
            "appointment_type_id",
            "row_id",
            "billable_item_id",
            "quantity",
            "discount_percentage",
            "discounted_amount",
            "is_monetary_discount",
        ]
    ]
    bare = types[~types["id"].isin(type_items["appointment_type_id"]) & ~_blank(types["billable_item_id"])]
    fallback = pd.DataFrame(
        {
            "appointment_type_id": bare["id"],
            "row_id": None,
            "billable_item_id": bare["billable_item_id"],
            "quantity": "1",
            "discount_percentage": None,
            "discounted_amount": None,
            "is_monetary_discount": None,
        },
        dtype=object,
    )
    return pd.concat([listed, fallback], ignore_index=True).astype(object)


def price(
    due: pd.DataFrame,
    types: pd.DataFrame,
    type_items: pd.DataFrame,
    items: pd.DataFrame,
    concessions: pd.DataFrame,
    patients: pd.DataFrame,
    taxes: pd.DataFrame,
    refused: dict[str, dict[str, str]],
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The lines of the appointments `due` (columns id, appointment_type_id, patient_id) and, by appointment id, why
    the others cannot be priced. `refused`: reference rows the raw models rejected, by kind (`appointment_type`,
    `type_item` by its appointment type, `billable_item`, `concession_price` by "item:concession type") -> reason."""
    problems: dict[str, list[str]] = {}
    plan = due[["id", "appointment_type_id", "patient_id"]].rename(columns={"id": "appointment_id"})

    untyped = _blank(plan["appointment_type_id"])
    _note(problems, plan[untyped], lambda: "it has no appointment type")
    type_ids = plan["appointment_type_id"]
    refused_types, refused_rows = refused.get("appointment_type", {}), refused.get("type_item", {})
    _note(
        problems,
        plan[type_ids.isin(list(refused_types))],
        lambda t: f"its appointment type {t} was rejected ({refused_types[t]})",
        "appointment_type_id",
    )
    _note(
        problems,
        plan[type_ids.isin(list(refused_rows))],
        lambda t: f"its appointment type {t} has a billable item that was rejected ({refused_rows[t]})",
        "appointment_type_id",
    )
    unknown = ~untyped & ~type_ids.isin(types["id"]) & ~type_ids.isin(list(refused_types))
    _note(
        problems,
        plan[unknown],
        lambda t: f"its appointment type {t} was not returned by Cliniko",
        "appointment_type_id",
    )

    lines = plan.merge(billed_items(types, type_items), on="appointment_type_id", how="left", indicator="has_items")
    empty = (lines["has_items"] == "left_only") & lines["appointment_type_id"].isin(types["id"])
    _note(
        problems,
        lines[empty],
        lambda t: f"appointment type {t} bills nothing (no billable items)",
        "appointment_type_id",
    )
    lines = lines[lines["has_items"] == "both"].drop(columns="has_items")

    renamed = items.rename(columns={"id": "billable_item_id", "price": "item_price"})
    lines = lines.merge(renamed, on="billable_item_id", how="left", indicator="found")
    refused_items = refused.get("billable_item", {})
    bad = lines["billable_item_id"].isin(list(refused_items))
    _note(
        problems, lines[bad], lambda i: f"its billable item {i} was rejected ({refused_items[i]})", "billable_item_id"
    )
    missing = (lines["found"] == "left_only") & ~bad
    _note(problems, lines[missing], lambda i: f"its billable item {i} was not returned by Cliniko", "billable_item_id")
    lines = lines[lines["found"] == "both"].drop(columns="found")

    concession_of = patients.set_index("id")["concession_type_id"] if "concession_type_id" in patients else None
    lines["concession_type_id"] = lines["patient_id"].map(concession_of) if concession_of is not None else None
    lines["concession_type_id"] = lines["concession_type_id"].astype(object)
    by_pair = concessions.sort_values("id", key=lambda ids: ids.map(int), kind="stable").drop_duplicates(
        ["billable_item_id", "concession_type_id"]
    )  # one price per item and concession type (the first made, should Cliniko ever list two)
    prices = by_pair.rename(columns={"price": "concession_price"})
    columns = ["billable_item_id", "concession_type_id"]
    lines = lines.merge(prices[[*columns, "concession_price"]], on=columns, how="left")
    refused_prices = refused.get("concession_price", {})
    pair = lines["billable_item_id"].astype(str) + ":" + lines["concession_type_id"].astype(str)
    _note(
        problems,
        lines[pair.isin(list(refused_prices))],
        lambda i, c: (
            f"the concession price of billable item {i} for concession type {c} was rejected "
            f"({refused_prices[f'{i}:{c}']})"
        ),
        "billable_item_id",
        "concession_type_id",
    )

    tax_table = taxes.rename(columns={"id": "tax_id", "name": "tax_name", "rate": "tax_rate"})
    lines = lines.merge(tax_table[["tax_id", "tax_name", "tax_rate"]], on="tax_id", how="left", indicator="taxed")
    untaxed = ~_blank(lines["tax_id"]) & (lines["taxed"] == "left_only")
    _note(
        problems,
        lines[untaxed],
        lambda i, t: f"its billable item {i} links tax {t}, which Cliniko did not return",
        "billable_item_id",
        "tax_id",
    )
    lines = lines.drop(columns="taxed")
    lines = lines[~lines["appointment_id"].isin(list(problems))]
    return _amounts(lines, problems), problems


def _amounts(lines: pd.DataFrame, problems: dict[str, list[str]]) -> pd.DataFrame:
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS}).astype({"line_no": "int64"})
    concession = lines["concession_price"]
    unit = _decimal(concession.where(~_blank(concession), lines["item_price"]))
    quantity = _decimal(lines["quantity"])
    rate = _decimal(lines["tax_rate"])
    factor = rate.map(lambda r: 1 + r / HUNDRED)
    gross = unit * quantity * factor
    percent = _decimal(lines["discount_percentage"])
    amount = _decimal(lines["discounted_amount"])
    flag = lines["is_monetary_discount"]
    unflagged = flag.isna() & _blank(lines["discount_percentage"]) & ~_blank(lines["discounted_amount"])
    monetary = flag.eq("True") | unflagged  # a money discount, whether flagged or only given as an amount
    discount = amount.where(monetary, (gross * percent / HUNDRED).map(cents))
    total = (gross - discount).map(cents)
    over = total.map(lambda t: t < 0).astype(bool)
    _note(
        problems, lines[over], lambda i: f"the discount on billable item {i} is more than the item", "billable_item_id"
    )
    nameless = rate.map(bool).astype(bool) & _blank(lines["tax_name"])
    _note(problems, lines[nameless], lambda t: f"its tax {t} has a rate but no name", "tax_id")
    net = (total / factor).map(lambda v: v.quantize(MILLI, rounding=ROUND_HALF_UP))
    name = lines["name"].where(~_blank(lines["name"]), lines["item_code"])
    description = name.map(lambda n: (n or "").strip() or "Appointment")
    out = pd.DataFrame(
        {
            "appointment_id": lines["appointment_id"],
            "order": lines["row_id"].map(lambda r: int(r) if isinstance(r, str) else -1),
            "source_id": lines["row_id"].where(~_blank(lines["row_id"]), "item-" + lines["billable_item_id"]),
            "description": description,
            "item_code": lines["item_code"].where(~_blank(lines["item_code"]), None),
            "quantity": quantity,
            "unit_price": unit,
            "tax_rate": rate,
            "tax_name": lines["tax_name"].where(~_blank(lines["tax_name"]), None),
            "discount": discount,
            "total": total,
            "tax": total - net,
            "net": net,
        }
    )
    out = out[~out["appointment_id"].isin(list(problems))]
    out = out.sort_values(["appointment_id", "order"], kind="stable").drop(columns="order")
    out.insert(1, "line_no", out.groupby("appointment_id").cumcount().astype("int64") + 1)
    return out.reset_index(drop=True)[LINE_COLUMNS]
