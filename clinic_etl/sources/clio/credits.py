"""Clio credit memos -> ledger credit notes, and refunds (bank transactions of type Refund) -> refunds out of them.

A credit memo is a credit note of one untaxed amount (Clio's memo has no tax: `tax_total` 0, so its one line takes the
mapping's exempt tax), keyed `clio:credit_memo:<id>`, numbered `CM-<id>` (Clio gives memos no number; the id is
stable and unique), issued on its `date`, its `description` as its one line ("Credit memo" when blank); a voided memo
is `deleted`. A memo applied as a discount (`discount` true) is a credit note like any other.

A refund is money paid back out of a memo's unapplied balance (FACTS: a bank transaction of type Refund against an
unapplied credit memo). Clio's bank transaction names no memo, so a refund is matched to one: a live memo of the same
contact (`client` of the transaction, `contact` of the memo) dated on or before it whose unapplied balance (its amount
less its live allocations and the refunds matched to it before, in date order) covers it, preferring the memo whose
balance it takes exactly. A refund that matches none, or several equally, is rejected with the ids it could match.
Its amount is `funds_out` (else the transaction's amount without its sign); a refund out of a trust account is trust
money (rule `trust`). A refund outside the window that matches no memo of the extract is another run's record (the
extract reads the refunds of the memos' contacts after the window too, so that a memo comes with all its refunds).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clinic_etl.ledger.money import cents, to_decimal
from clinic_etl.sources.clio.records import key

ZERO = Decimal(0)


def number_of(memo_id: str) -> str:
    return f"CM-{memo_id}"


def credit_note_of(memo: dict, day: str) -> dict:
    return {
        "credit_note_key": key("credit_memo", memo["id"]),
        "source_id": memo["id"],
        "number": number_of(memo["id"]),
        "issue_date": memo["date"],
        "contact_key": key("contact", memo["contact_id"]),
        "status": "deleted" if memo.get("voided_at") else "open",
        "day": day,
        "description": (memo.get("description") or "").strip() or "Credit memo",
        "total": cents(to_decimal(memo["amount"])),
        "tax_total": Decimal("0.00"),
    }


def refund_amount(refund: dict) -> Decimal:
    out = to_decimal(refund["funds_out"]) if refund.get("funds_out") is not None else ZERO
    return cents(out if out > 0 else abs(to_decimal(refund["amount"])))


@dataclass(frozen=True)
class Match:
    memo_id: str | None
    problem: str | None = None
    candidates: tuple[str, ...] = ()  # the memos an ambiguous refund could be out of


def match_refunds(refunds: list[dict], memos: dict[str, dict], applied: dict[str, Decimal]) -> dict[str, Match]:
    """Each refund's credit memo (refunds taken in date order, then id). `memos`: the extract's valid memos by id;
    `applied`: each memo's live allocations."""
    left = {i: to_decimal(m["amount"]) - applied.get(i, ZERO) for i, m in memos.items() if not m.get("voided_at")}
    matches = {}
    for refund in sorted(refunds, key=lambda r: (r["date"], int(r["id"]))):
        amount = refund_amount(refund)
        if amount <= 0:
            matches[refund["id"]] = Match(None, "it carries no money (funds_out and amount are 0)")
            continue
        fits = sorted(
            (
                i
                for i, m in memos.items()
                if i in left
                and m["contact_id"] == refund["client_id"]
                and m["date"] <= refund["date"]
                and left[i] >= amount
            ),
            key=int,
        )
        exact = [i for i in fits if left[i] == amount]
        chosen = exact if exact else fits
        if len(chosen) == 1:
            left[chosen[0]] -= amount
            matches[refund["id"]] = Match(chosen[0])
        elif chosen:
            ids = ", ".join(chosen)
            matches[refund["id"]] = Match(
                None,
                f"it could refund any of credit memos {ids} (same contact, balance left): cannot tell which",
                tuple(chosen),
            )
        else:
            matches[refund["id"]] = Match(
                None,
                f"no credit memo of contact {refund['client_id']} in the extract, dated on or before {refund['date']},"
                f" has {amount} unapplied",
            )
    return matches
