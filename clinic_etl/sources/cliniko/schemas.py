"""pandera models of the raw Cliniko frames as extracted (strings as served). A failing row is quarantined.

Every check is a total function (it never raises: an exception inside a check would fail the whole frame) and
its `error` is the phrase that follows the column's name in a reject's reason ("issue_date is not a real date").
Values of `PRIVATE` columns never enter a reason; only which rule they broke does. Line breaks, control
characters and lengths in names are not reasons: `clinic_etl.xero.fields` cleans and cuts them to Xero's schema.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from clinic_etl.ledger.checks import Text, calendar_date
from clinic_etl.ledger.money import plain_decimal
from clinic_etl.sources.raw import LIST, OBJECT

MAX_ID = 2**63 - 1  # Cliniko ids are int64; Postgres bigint and Xero cannot take more
MAX_MONEY_DIGITS = 12  # digits before the point: a trillion dollars on one invoice is a corrupted value
YEARS = (1900, 2999)  # a date outside them is a corrupted value (and 9999-12-31 + due days overflows)

_ID = re.compile(r"[1-9][0-9]*")  # ASCII digits only: `\d` would take "٣" and `$` a trailing newline
_NUMBER = re.compile(r"[0-9]{1,18}")
_WHOLE = re.compile(r"[0-9]+(\.0+)?")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})")
_LINE_BREAKS = frozenset("\u2028\u2029")

# What `extract.flatten` puts where the API served something that cannot be a scalar: they fail every check.
NOT_A_LINK = "<not a link>"
MARKERS = frozenset({NOT_A_LINK, OBJECT, LIST})

STATUSES = ("10", "20", "30", "40")  # Open, Paid, Closed, Open credit

# The phrases of a reason ("<column> <phrase> (<value>)")
NOT_AN_ID = "is not a numeric id"
PAST_64_BITS = f"is past 64 bits (over {MAX_ID}: Postgres bigint and Xero cannot take it)"
NOT_TEXT = "is an object or a list, not text"
CONTROL = "contains a control character or line break"
SURROGATE = "contains a lone surrogate (not valid Unicode)"


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None and len(value) <= 19 and int(value) <= MAX_ID


def is_real_date(value: object) -> bool:
    """`YYYY-MM-DD` naming a day of the calendar (not 2026-13-45 or 2026-02-30) within `YEARS`."""
    day = calendar_date(value)
    return day is not None and YEARS[0] <= day.year <= YEARS[1]


def instant(value: object) -> datetime | None:
    """An ISO date-time with its offset (`...Z` or `+11:00`) naming a real instant within `YEARS`, in UTC."""
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if YEARS[0] <= moment.year <= YEARS[1] else None


def _decimal_check(test: Callable[[Decimal], bool]) -> Callable[[object], bool]:
    """A check on the parsed number; a value that is not a number passes (it is reported once, as not a number)."""
    return lambda value: (number := plain_decimal(value)) is None or test(number)


def _text_ok(value: object) -> bool:
    return isinstance(value, str) and value not in MARKERS


def _no_control(value: object) -> bool:
    return not isinstance(value, str) or not any(unicodedata.category(c) == "Cc" or c in _LINE_BREAKS for c in value)


def _no_surrogate(value: object) -> bool:
    return not isinstance(value, str) or not any("\ud800" <= c <= "\udfff" for c in value)


_positive = _decimal_check(lambda n: n >= 0)
_in_range = _decimal_check(lambda n: n.adjusted() < MAX_MONEY_DIGITS)

ID_COLUMNS = ("id", "patient_id", "business_id", "practitioner_id", "invoice_id")


class _Raw(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class RawInvoice(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    number: Series[Text]
    issue_date: Series[Text]
    status: Series[Text]
    total_amount: Series[Text]
    tax_amount: Series[Text]
    net_amount: Series[Text] | None = pa.Field(nullable=True)
    patient_id: Series[Text]
    business_id: Series[Text] = pa.Field(nullable=True)
    practitioner_id: Series[Text] = pa.Field(nullable=True)
    closed_at: Series[Text] = pa.Field(nullable=True)
    archived_at: Series[Text] = pa.Field(nullable=True)
    deleted_at: Series[Text] = pa.Field(nullable=True)
    updated_at: Series[Text]
    invoice_to: Series[Text] | None = pa.Field(nullable=True, description="Bill-to text: personal data, never logged")

    @pa.check("id", "patient_id", "business_id", "practitioner_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return isinstance(value, str) and _ID.fullmatch(value) is not None

    @pa.check(
        "id",
        "patient_id",
        "business_id",
        "practitioner_id",
        element_wise=True,
        error=PAST_64_BITS,
    )
    def _id_fits(cls, value: object) -> bool:
        return not (isinstance(value, str) and _ID.fullmatch(value)) or is_id(value)

    @pa.check("number", element_wise=True, error="is not a whole number of at most 18 digits")
    def _number(cls, value: object) -> bool:
        return isinstance(value, str) and _NUMBER.fullmatch(value) is not None

    @pa.check("issue_date", element_wise=True, error=f"is not a real date (YYYY-MM-DD, years {YEARS[0]}-{YEARS[1]})")
    def _date(cls, value: object) -> bool:
        return is_real_date(value)

    @pa.check(
        "closed_at",
        "archived_at",
        "deleted_at",
        "updated_at",
        element_wise=True,
        error=f"is not a real instant (ISO date-time with offset, years {YEARS[0]}-{YEARS[1]})",
    )
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check("status", element_wise=True, error="is not one of 10 (open), 20 (paid), 30 (closed), 40 (open credit)")
    def _status(cls, value: object) -> bool:
        return value in STATUSES

    @pa.check("total_amount", "tax_amount", "net_amount", element_wise=True, error="is not a decimal number")
    def _money(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("total_amount", "tax_amount", "net_amount", element_wise=True, error="is negative")
    def _not_negative(cls, value: object) -> bool:
        return _positive(value)

    @pa.check(
        "total_amount",
        "tax_amount",
        "net_amount",
        element_wise=True,
        error=f"has more than {MAX_MONEY_DIGITS} digits before the point",
    )
    def _money_range(cls, value: object) -> bool:
        return _in_range(value)


class RawInvoiceItem(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    invoice_id: Series[Text]
    name: Series[Text] = pa.Field(nullable=True)
    code: Series[Text] = pa.Field(nullable=True)
    quantity: Series[Text]
    unit_price: Series[Text]
    discounted_amount: Series[Text] = pa.Field(nullable=True)
    net_price: Series[Text]
    tax_name: Series[Text] | None = pa.Field(nullable=True)
    tax_rate: Series[Text] = pa.Field(nullable=True)
    total_including_tax: Series[Text]

    @pa.check("id", "invoice_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return isinstance(value, str) and _ID.fullmatch(value) is not None

    @pa.check(
        "id",
        "invoice_id",
        element_wise=True,
        error=PAST_64_BITS,
    )
    def _id_fits(cls, value: object) -> bool:
        return not (isinstance(value, str) and _ID.fullmatch(value)) or is_id(value)

    @pa.check("name", "code", "tax_name", element_wise=True, error=NOT_TEXT)
    def _text(cls, value: object) -> bool:
        return _text_ok(value)

    @pa.check("code", "tax_name", element_wise=True, error=CONTROL)  # mapping keys; a name is cleaned for Xero
    def _control(cls, value: object) -> bool:
        return _no_control(value)

    @pa.check("name", "code", "tax_name", element_wise=True, error=SURROGATE)
    def _surrogate(cls, value: object) -> bool:
        return _no_surrogate(value)

    @pa.check("quantity", element_wise=True, error="is not a whole number")
    def _quantity(cls, value: object) -> bool:
        return isinstance(value, str) and _WHOLE.fullmatch(value) is not None and len(value) <= 24

    @pa.check(
        "unit_price",
        "discounted_amount",
        "net_price",
        "tax_rate",
        "total_including_tax",
        element_wise=True,
        error="is not a decimal number",
    )
    def _money(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check(
        "unit_price",
        "discounted_amount",
        "net_price",
        "tax_rate",
        "total_including_tax",
        element_wise=True,
        error="is negative",
    )
    def _not_negative(cls, value: object) -> bool:
        return _positive(value)

    @pa.check(
        "unit_price",
        "discounted_amount",
        "net_price",
        "total_including_tax",
        element_wise=True,
        error=f"has more than {MAX_MONEY_DIGITS} digits before the point",
    )
    def _money_range(cls, value: object) -> bool:
        return _in_range(value)

    @pa.check("tax_rate", element_wise=True, error="is over 100 (percent)")
    def _rate(cls, value: object) -> bool:
        return _decimal_check(lambda n: n <= 100)(value)


class RawPatient(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    first_name: Series[Text] = pa.Field(nullable=True)
    last_name: Series[Text] = pa.Field(nullable=True)
    email: Series[Text] = pa.Field(nullable=True)
    concession_type_id: Series[Text] | None = pa.Field(nullable=True, description="Appointments mode only")

    @pa.check("id", "concession_type_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return isinstance(value, str) and _ID.fullmatch(value) is not None

    @pa.check("id", "concession_type_id", element_wise=True, error=PAST_64_BITS)
    def _id_fits(cls, value: object) -> bool:
        return not (isinstance(value, str) and _ID.fullmatch(value)) or is_id(value)

    @pa.check("first_name", "last_name", "email", element_wise=True, error=NOT_TEXT)
    def _text(cls, value: object) -> bool:
        return _text_ok(value)

    @pa.check("first_name", "last_name", "email", element_wise=True, error=SURROGATE)
    def _surrogate(cls, value: object) -> bool:
        return _no_surrogate(value)


def _id_fits_check(value: object) -> bool:
    return not (isinstance(value, str) and _ID.fullmatch(value)) or is_id(value)


def _numeric_id_check(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


_INSTANT_ERROR = f"is not a real instant (ISO date-time with offset, years {YEARS[0]}-{YEARS[1]})"
_FLAGS = frozenset({"True", "False"})  # a JSON boolean as the extract writes it


class RawAppointment(_Raw):
    """An individual appointment (APPOINTMENTS §2.1), as far as invoicing it needs."""

    id: Series[Text] = pa.Field(unique=True)
    ends_at: Series[Text]
    cancelled_at: Series[Text] = pa.Field(nullable=True)
    archived_at: Series[Text] = pa.Field(nullable=True)
    deleted_at: Series[Text] = pa.Field(nullable=True)
    updated_at: Series[Text]
    did_not_arrive: Series[Text] = pa.Field(nullable=True)
    patient_arrived: Series[Text] = pa.Field(nullable=True)
    patient_id: Series[Text]
    business_id: Series[Text] = pa.Field(nullable=True)
    practitioner_id: Series[Text] = pa.Field(nullable=True)
    appointment_type_id: Series[Text] = pa.Field(nullable=True)

    @pa.check(
        "id", "patient_id", "business_id", "practitioner_id", "appointment_type_id", element_wise=True, error=NOT_AN_ID
    )
    def _numeric_id(cls, value: object) -> bool:
        return _numeric_id_check(value)

    @pa.check(
        "id",
        "patient_id",
        "business_id",
        "practitioner_id",
        "appointment_type_id",
        element_wise=True,
        error=PAST_64_BITS,
    )
    def _id_fits(cls, value: object) -> bool:
        return _id_fits_check(value)

    @pa.check(
        "ends_at", "cancelled_at", "archived_at", "deleted_at", "updated_at", element_wise=True, error=_INSTANT_ERROR
    )
    def _instant(cls, value: object) -> bool:
        return instant(value) is not None

    @pa.check("did_not_arrive", "patient_arrived", element_wise=True, error="is not true or false")
    def _flag(cls, value: object) -> bool:
        return value in _FLAGS


class RawAppointmentType(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    billable_item_id: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", "billable_item_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return _numeric_id_check(value)

    @pa.check("id", "billable_item_id", element_wise=True, error=PAST_64_BITS)
    def _id_fits(cls, value: object) -> bool:
        return _id_fits_check(value)


class RawTypeItem(_Raw):
    """An appointment type's billable item (portal: Appointment-Type-Billable-Item)."""

    id: Series[Text] = pa.Field(unique=True)
    appointment_type_id: Series[Text]
    billable_item_id: Series[Text]
    quantity: Series[Text]
    discount_percentage: Series[Text] = pa.Field(nullable=True)
    discounted_amount: Series[Text] = pa.Field(nullable=True)
    is_monetary_discount: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", "appointment_type_id", "billable_item_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return _numeric_id_check(value)

    @pa.check("id", "appointment_type_id", "billable_item_id", element_wise=True, error=PAST_64_BITS)
    def _id_fits(cls, value: object) -> bool:
        return _id_fits_check(value)

    @pa.check("quantity", element_wise=True, error="is not a whole number")
    def _quantity(cls, value: object) -> bool:
        return isinstance(value, str) and _WHOLE.fullmatch(value) is not None and len(value) <= 24

    @pa.check("discount_percentage", "discounted_amount", element_wise=True, error="is not a decimal number")
    def _money(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("discount_percentage", "discounted_amount", element_wise=True, error="is negative")
    def _not_negative(cls, value: object) -> bool:
        return _positive(value)

    @pa.check("discount_percentage", element_wise=True, error="is over 100 (percent)")
    def _rate(cls, value: object) -> bool:
        return _decimal_check(lambda n: n <= 100)(value)

    @pa.check("discounted_amount", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point")
    def _money_range(cls, value: object) -> bool:
        return _in_range(value)

    @pa.check("is_monetary_discount", element_wise=True, error="is not true or false")
    def _flag(cls, value: object) -> bool:
        return value in _FLAGS


class RawBillableItem(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    name: Series[Text] = pa.Field(nullable=True)
    item_code: Series[Text] = pa.Field(nullable=True)
    price: Series[Text]
    tax_id: Series[Text] = pa.Field(nullable=True)

    @pa.check("id", "tax_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return _numeric_id_check(value)

    @pa.check("id", "tax_id", element_wise=True, error=PAST_64_BITS)
    def _id_fits(cls, value: object) -> bool:
        return _id_fits_check(value)

    @pa.check("name", "item_code", element_wise=True, error=NOT_TEXT)
    def _text(cls, value: object) -> bool:
        return _text_ok(value)

    @pa.check("item_code", element_wise=True, error=CONTROL)
    def _control(cls, value: object) -> bool:
        return _no_control(value)

    @pa.check("name", "item_code", element_wise=True, error=SURROGATE)
    def _surrogate(cls, value: object) -> bool:
        return _no_surrogate(value)

    @pa.check("price", element_wise=True, error="is not a decimal number")
    def _money(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("price", element_wise=True, error="is negative")
    def _not_negative(cls, value: object) -> bool:
        return _positive(value)

    @pa.check("price", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point")
    def _money_range(cls, value: object) -> bool:
        return _in_range(value)


class RawConcessionPrice(_Raw):
    id: Series[Text] = pa.Field(unique=True)
    billable_item_id: Series[Text]
    concession_type_id: Series[Text]
    price: Series[Text] = pa.Field(nullable=True, description="null: the billable item's own price applies")

    @pa.check("id", "billable_item_id", "concession_type_id", element_wise=True, error=NOT_AN_ID)
    def _numeric_id(cls, value: object) -> bool:
        return _numeric_id_check(value)

    @pa.check("id", "billable_item_id", "concession_type_id", element_wise=True, error=PAST_64_BITS)
    def _id_fits(cls, value: object) -> bool:
        return _id_fits_check(value)

    @pa.check("price", element_wise=True, error="is not a decimal number")
    def _money(cls, value: object) -> bool:
        return plain_decimal(value) is not None

    @pa.check("price", element_wise=True, error="is negative")
    def _not_negative(cls, value: object) -> bool:
        return _positive(value)

    @pa.check("price", element_wise=True, error=f"has more than {MAX_MONEY_DIGITS} digits before the point")
    def _money_range(cls, value: object) -> bool:
        return _in_range(value)


PRIVATE = frozenset({"first_name", "last_name", "email", "name", "invoice_to"})
