"""pandera models of the raw Clio frames as extracted (every value text or None). A failing row is quarantined.

Clio serves money as JSON numbers; the extract keeps their shortest round-trip text ("956.97", "2000.0"), which
`plain_decimal` reads exactly: an amount must be such a plain decimal, with at most 2 places (a cent) and fewer
than `MAX_MONEY_DIGITS` digits before the point; rates may have more places ("8.875") and lie in 0..100. Dates
(`issued_at`, an allocation's `date`) are `YYYY-MM-DD` days of the calendar; timestamps (`updated_at`,
`voided_at`) are ISO date-times with an offset. Ids are Clio's int64 ids as ASCII digits.

As for Cliniko, every check is a total function whose `error` is the phrase after the column's name in a reject's
reason; values of `PRIVATE` columns (names, e-mails, free text a firm types about its client) never enter a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from clinic_etl.ledger.checks import Text
from clinic_etl.ledger.money import places, plain_decimal
from clinic_etl.sources.cliniko.schemas import MAX_MONEY_DIGITS, YEARS, instant, is_real_date
from clinic_etl.sources.clio.client import is_id
from clinic_etl.sources.clio.extract import NOT_AN_OBJECT
from clinic_etl.sources.raw import LIST, OBJECT

MARKERS = frozenset({OBJECT, LIST, NOT_AN_OBJECT})
STATES = ("draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted")
KINDS = (
    "revenue_kind",
    "summary_kind",
    "trust_kind",
    "aggregate_all",
    "aggregate_split",
    "aggregate_services",
    "aggregate_expenses",
)
LINE_TYPES = ("ActivityLineItem", "LineItem", "NoChargeLineItem", "SummaryLineItem")
LINE_KINDS = ("Service", "Expense")
PARENT_TYPES = ("Payment", "CreditMemo")
CONTACT_TYPES = ("Person", "Company")
BOOLEANS = ("True", "False")
_CURRENCY = re.compile(r"[A-Z]{3}")

NOT_AN_ID = "is not a Clio id (ASCII digits, within 64 bits)"
NOT_A_DATE = f"is not a real date (YYYY-MM-DD, years {YEARS[0]}-{YEARS[1]})"
NOT_AN_INSTANT = f"is not a real instant (ISO date-time with offset, years {YEARS[0]}-{YEARS[1]})"
NOT_A_NUMBER = "is not a decimal number"
NOT_TEXT = "is an object or a list, not text"
SURROGATE = "contains a lone surrogate (not valid Unicode)"


def _decimal_check(test: Callable[[Decimal], bool]) -> Callable[[object], bool]:
    """A check on the parsed number; a value that is not a number passes (it is reported once, as not a number)."""
    return lambda value: (number := plain_decimal(value)) is None or test(number)


_not_negative = _decimal_check(lambda n: n >= 0)
_in_range = _decimal_check(lambda n: n.adjusted() < MAX_MONEY_DIGITS)
_cents = _decimal_check(lambda n: places(n) <= 2)
_percent = _decimal_check(lambda n: 0 <= n <= 100)


def _id(value: object) -> bool:
    return is_id(value)


def _text(value: object) -> bool:
    return isinstance(value, str) and value not in MARKERS


def _no_surrogate(value: object) -> bool:
    return not isinstance(value, str) or not any("\ud800" <= c <= "\udfff" for c in value)


class _Raw(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class RawBill(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    number: Series[Text]
    state: Series[Text] = pa.Field(isin=list(STATES))
    kind: Series[Text] = pa.Field(isin=list(KINDS))
    issued_at: Series[Text] = pa.Field(nullable=True)
    tax_rate: Series[Text] = pa.Field(nullable=True)
    secondary_tax_rate: Series[Text] = pa.Field(nullable=True)
    sub_total: Series[Text]
    tax_sum: Series[Text] = pa.Field(nullable=True)
    secondary_tax_sum: Series[Text] = pa.Field(nullable=True)
    total_tax: Series[Text]
    total: Series[Text]
    due: Series[Text] = pa.Field(nullable=True)
    balance: Series[Text]
    interest_total: Series[Text] = pa.Field(nullable=True)
    created_at: Series[Text]
    updated_at: Series[Text]
    client_id: Series[Text]
    currency_code: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", "client_id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("number", element_wise=True, error="is not one line of 1 to 200 characters")
    def _number(cls, value: object) -> bool:
        return _text(value) and 0 < len(value.strip()) <= 200 and value.isprintable()  # type: ignore[union-attr]

    @pa.check("issued_at", element_wise=True, error=NOT_A_DATE)
    def _date(cls, value: object) -> bool:
        return is_real_date(value)

    @pa.check("created_at", "updated_at", element_wise=True, error=NOT_AN_INSTANT)
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check(
        "tax_rate",
        "secondary_tax_rate",
        "sub_total",
        "tax_sum",
        "secondary_tax_sum",
        "total_tax",
        "total",
        "due",
        "balance",
        "interest_total",
        element_wise=True,
        error=NOT_A_NUMBER,
    )
    def _number_text(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("tax_rate", "secondary_tax_rate", element_wise=True, error="is not a percentage from 0 to 100")
    def _rate(cls, value: object) -> bool:
        return _percent(value)

    @pa.check(
        "sub_total",
        "tax_sum",
        "secondary_tax_sum",
        "total_tax",
        "total",
        "due",
        "interest_total",
        element_wise=True,
        error="is negative",
    )
    def _positive(cls, value: object) -> bool:
        return _not_negative(value)

    @pa.check(
        "sub_total",
        "tax_sum",
        "secondary_tax_sum",
        "total_tax",
        "total",
        "due",
        "balance",
        "interest_total",
        element_wise=True,
        error="has more than 2 decimal places",
    )
    def _cent(cls, value: object) -> bool:
        return _cents(value)

    @pa.check(
        "sub_total",
        "total_tax",
        "total",
        "due",
        "balance",
        "interest_total",
        element_wise=True,
        error=f"has more than {MAX_MONEY_DIGITS} digits before the point",
    )
    def _range(cls, value: object) -> bool:
        return _in_range(value)

    @pa.check("currency_code", element_wise=True, error="is not an ISO 4217 code")
    def _currency(cls, value: object) -> bool:
        return isinstance(value, str) and _CURRENCY.fullmatch(value) is not None


class RawLineItem(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    bill_id: Series[Text]
    type: Series[Text] = pa.Field(isin=list(LINE_TYPES))
    kind: Series[Text] = pa.Field(isin=list(LINE_KINDS))
    description: Series[Text] = pa.Field(nullable=True)
    price: Series[Text]
    quantity: Series[Text]
    sub_total: Series[Text] = pa.Field(nullable=True)
    tax: Series[Text] = pa.Field(nullable=True)
    secondary_tax: Series[Text] = pa.Field(nullable=True)
    total: Series[Text]
    taxable: Series[Text] = pa.Field(nullable=True)
    secondary_taxable: Series[Text] = pa.Field(nullable=True)
    group_ordering: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", "bill_id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("description", element_wise=True, error=NOT_TEXT)
    def _described(cls, value: object) -> bool:
        return _text(value)

    @pa.check("description", element_wise=True, error=SURROGATE)
    def _unicode(cls, value: object) -> bool:
        return _no_surrogate(value)

    @pa.check(
        "price",
        "quantity",
        "sub_total",
        "tax",
        "secondary_tax",
        "total",
        "group_ordering",
        element_wise=True,
        error=NOT_A_NUMBER,
    )
    def _number_text(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("price", "quantity", "sub_total", "tax", "secondary_tax", "total", element_wise=True, error="is negative")
    def _positive(cls, value: object) -> bool:
        return _not_negative(value)

    @pa.check("sub_total", "tax", "secondary_tax", "total", element_wise=True, error="has more than 2 decimal places")
    def _cent(cls, value: object) -> bool:
        return _cents(value)

    @pa.check(
        "price",
        "quantity",
        "sub_total",
        "total",
        element_wise=True,
        error=f"has more than {MAX_MONEY_DIGITS} digits before the point",
    )
    def _range(cls, value: object) -> bool:
        return _in_range(value)

    @pa.check("taxable", "secondary_taxable", element_wise=True, error="is not true or false")
    def _flag(cls, value: object) -> bool:
        return value in BOOLEANS


class RawAllocation(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    date: Series[Text]
    amount: Series[Text]
    voided_at: Series[Text] = pa.Field(nullable=True)
    created_at: Series[Text]
    updated_at: Series[Text]
    parent_id: Series[Text]
    parent_type: Series[Text] = pa.Field(isin=list(PARENT_TYPES))
    bill_id: Series[Text]
    contact_id: Series[Text] = pa.Field(nullable=True)
    source_bank_account_id: Series[Text] = pa.Field(nullable=True)
    destination_bank_account_id: Series[Text] = pa.Field(nullable=True)

    @pa.check(
        "id",
        "parent_id",
        "bill_id",
        "contact_id",
        "source_bank_account_id",
        "destination_bank_account_id",
        element_wise=True,
        error=NOT_AN_ID,
    )
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("date", element_wise=True, error=NOT_A_DATE)
    def _date(cls, value: object) -> bool:
        return is_real_date(value)

    @pa.check("voided_at", "created_at", "updated_at", element_wise=True, error=NOT_AN_INSTANT)
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check("amount", element_wise=True, error=NOT_A_NUMBER)
    def _number_text(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("amount", element_wise=True, error="is not more than zero")
    def _positive(cls, value: object) -> bool:
        return _decimal_check(lambda n: n > 0)(value)

    @pa.check("amount", element_wise=True, error="has more than 2 decimal places")
    def _cent(cls, value: object) -> bool:
        return _cents(value)

    @pa.check("amount", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point")
    def _range(cls, value: object) -> bool:
        return _in_range(value)


class RawCreditMemo(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    date: Series[Text]
    amount: Series[Text]
    description: Series[Text] = pa.Field(nullable=True)
    voided_at: Series[Text] = pa.Field(nullable=True)
    updated_at: Series[Text]
    contact_id: Series[Text]

    @pa.check("id", "contact_id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("date", element_wise=True, error=NOT_A_DATE)
    def _date(cls, value: object) -> bool:
        return is_real_date(value)

    @pa.check("voided_at", "updated_at", element_wise=True, error=NOT_AN_INSTANT)
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check("description", element_wise=True, error=NOT_TEXT)
    def _described(cls, value: object) -> bool:
        return _text(value)

    @pa.check("description", element_wise=True, error=SURROGATE)
    def _unicode(cls, value: object) -> bool:
        return _no_surrogate(value)

    @pa.check("amount", element_wise=True, error=NOT_A_NUMBER)
    def _number_text(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("amount", element_wise=True, error="is not more than zero")
    def _positive(cls, value: object) -> bool:
        return _decimal_check(lambda n: n > 0)(value)

    @pa.check("amount", element_wise=True, error="has more than 2 decimal places")
    def _cent(cls, value: object) -> bool:
        return _cents(value)

    @pa.check("amount", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point")
    def _range(cls, value: object) -> bool:
        return _in_range(value)


class RawRefund(_Raw):
    """A bank transaction of type Refund (the extract keeps no other kind)."""

    id: Series[Text] = pa.Field(unique=True)
    bank_account_id: Series[Text]
    date: Series[Text]
    amount: Series[Text]
    funds_out: Series[Text] = pa.Field(nullable=True)
    updated_at: Series[Text]
    client_id: Series[Text]

    @pa.check("id", "bank_account_id", "client_id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("date", element_wise=True, error=NOT_A_DATE)
    def _date(cls, value: object) -> bool:
        return is_real_date(value)

    @pa.check("updated_at", element_wise=True, error=NOT_AN_INSTANT)
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check("amount", "funds_out", element_wise=True, error=NOT_A_NUMBER)
    def _number_text(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("amount", "funds_out", element_wise=True, error="has more than 2 decimal places")
    def _cent(cls, value: object) -> bool:
        return _cents(value)

    @pa.check(
        "amount", "funds_out", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point"
    )
    def _range(cls, value: object) -> bool:
        return _in_range(value)


class RawBankAccount(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    type: Series[Text]

    @pa.check("id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("type", element_wise=True, error="is not one of Operating, Trust")
    def _kind(cls, value: object) -> bool:
        return isinstance(value, str) and value.strip().casefold() in ACCOUNT_TYPES


class RawContact(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    type: Series[Text] = pa.Field(isin=list(CONTACT_TYPES))
    name: Series[Text] = pa.Field(nullable=True)
    first_name: Series[Text] = pa.Field(nullable=True)
    last_name: Series[Text] = pa.Field(nullable=True)
    primary_email_address: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", element_wise=True, error=NOT_AN_ID)
    def _ids(cls, value: object) -> bool:
        return _id(value)

    @pa.check("name", "first_name", "last_name", "primary_email_address", element_wise=True, error=NOT_TEXT)
    def _texts(cls, value: object) -> bool:
        return _text(value)

    @pa.check("name", "first_name", "last_name", "primary_email_address", element_wise=True, error=SURROGATE)
    def _unicode(cls, value: object) -> bool:
        return _no_surrogate(value)


# bank account `type` as served (Operating|Trust) or as the list filter spells it (OperatingAccount|TrustAccount)
ACCOUNT_TYPES = {"operating": "operating", "operatingaccount": "operating", "trust": "trust", "trustaccount": "trust"}
PRIVATE = frozenset({"name", "first_name", "last_name", "primary_email_address", "description"})
MODELS: dict[str, type[_Raw]] = {
    "bills": RawBill,
    "line_items": RawLineItem,
    "allocations": RawAllocation,
    "credit_memos": RawCreditMemo,
    "refunds": RawRefund,
    "bank_accounts": RawBankAccount,
    "contacts": RawContact,
}
