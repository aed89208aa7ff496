"""Bank transactions: money in and out of the operating and trust accounts.

Each payment deposits into the operating account (a trust request's payment into the trust account); a bill
paid from trust withdraws from the trust account and deposits into operating; the refund of an unapplied credit
memo pays out of operating (`transaction_type` "Refund"). Each account opens with an opening-balance deposit
before the window, so an account's `balance` is the sum of its live transactions' funds in less funds out.
A voided or deleted payment takes its bank transactions with it (they leave the API), an edited one changes
their amount. Unverified choices (the spec gives the fields, not their values): `type` is "asset" for the
operating account and "liability" for trust (the list filter's values); `transaction_type` is "Deposit",
"Withdrawal" or "Refund"; `amount` is signed (funds in positive, funds out negative); `source` names how
the money moved (the payment method); `current_account_balance` is the account's balance now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio.reference import OPERATING_ID, TRUST_ID, USD_ID
from clinic_etl.sandbox.clio.wire import ZERO

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm

OPENING = {OPERATING_ID: Decimal("48250.00"), TRUST_ID: Decimal("126400.00")}
OPENED_AT = "2026-09-01T08:30:00-04:00"


def transaction(account: int, amount: Decimal, kind: str, created: str, day: str, **links: Any) -> dict[str, Any]:
    """A row; positive `amount` is money in, negative money out."""
    return {
        "id": 0, "type": "asset" if account == OPERATING_ID else "liability", "created_at": created,
        "updated_at": links.pop("updated_at", created), "bank_account_id": account,
        "source": links.pop("source", None), "confirmation": links.pop("confirmation", None), "date": day,
        "amount": amount, "currency": "USD", "currency_id": USD_ID, "description": links.pop("description", None),
        "exchange_rate": Decimal("1.0"), "transaction_type": kind,
        "funds_in": amount if amount > 0 else ZERO, "funds_out": -amount if amount < 0 else ZERO,
        "clio_payments_transaction": links.pop("online", False), "current_account_balance": None,
        "read_only_confirmation": False, "client_id": links.pop("client_id", None),
        "matter_id": links.pop("matter_id", None), "bill_id": links.pop("bill_id", None),
        "allocation_id": links.pop("allocation_id", None), "_deleted_at": links.pop("deleted_at", None),
    }  # fmt: skip


def openings() -> list[dict[str, Any]]:
    return [
        transaction(account, amount, "Deposit", OPENED_AT, OPENED_AT[:10], description="Opening balance")
        for account, amount in OPENING.items()
    ]


def balance(firm: Firm, account_id: int) -> Decimal:
    return sum(
        (row["funds_in"] - row["funds_out"] for row in firm.bank_transactions
         if row["bank_account_id"] == account_id and not row.get("_deleted_at")),
        ZERO,
    )  # fmt: skip


def count(firm: Firm, account_id: int) -> int:
    rows = firm.bank_transactions
    return sum(1 for row in rows if row["bank_account_id"] == account_id and not row.get("_deleted_at"))
