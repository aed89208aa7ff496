"""The practice ledger: the canonical, source-agnostic data contract between sources and Xero.

Every source produces these frames; everything after them is shared. Money columns hold `Decimal`
(never float); dates are ISO `YYYY-MM-DD` strings in the practice's time zone.
"""

from __future__ import annotations

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

DATE = r"^\d{4}-\d{2}-\d{2}$"
KEY = r"^[a-z]+:[a-z_]+:[^\s]+$"


def _is_money(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


class _Ledger(pa.DataFrameModel):
    class Config:
        strict = "filter"
        coerce = False


class LedgerContact(_Ledger):
    contact_key: Series[str] = pa.Field(unique=True, str_matches=KEY, description="Source key, e.g. cliniko:patient:12")
    source_id: Series[str] = pa.Field(description="Id in the source system")
    first_name: Series[str] = pa.Field(nullable=True, description="Personal data: never logged")
    last_name: Series[str] = pa.Field(nullable=True, description="Personal data: never logged")
    email: Series[str] = pa.Field(nullable=True, description="Personal data: never logged")


class LedgerInvoice(_Ledger):
    invoice_key: Series[str] = pa.Field(unique=True, str_matches=KEY, description="e.g. cliniko:invoice:108")
    source_id: Series[str]
    number: Series[str] = pa.Field(str_length={"min_value": 1, "max_value": 200}, description="Source number")
    issue_date: Series[str] = pa.Field(str_matches=DATE)
    contact_key: Series[str] = pa.Field(str_matches=KEY)
    business_id: Series[str] = pa.Field(nullable=True)
    practitioner_id: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(isin=["open", "paid", "deleted"])
    day: Series[str] = pa.Field(
        str_matches=DATE,
        description="The day of the run's window the record is synced for: its issue date when that is in the"
        " window, else the local day of its latest change (clamped to the window)",
    )
    total: Series[object] = pa.Field(description="Total including tax, Decimal, 2 dp")
    tax_total: Series[object] = pa.Field(description="Tax, Decimal")
    url: Series[str] = pa.Field(nullable=True, description="Link back to the source record")

    @pa.check("total", "tax_total", element_wise=True)
    def _money(cls, value: object) -> bool:
        return _is_money(value)


class LedgerLine(_Ledger):
    invoice_key: Series[str] = pa.Field(str_matches=KEY)
    line_no: Series[int] = pa.Field(ge=1)
    source_id: Series[str]
    description: Series[str] = pa.Field(str_length={"min_value": 1})
    item_code: Series[str] = pa.Field(nullable=True)
    quantity: Series[object] = pa.Field(description="Decimal quantity")
    unit_price: Series[object] = pa.Field(description="Unit price excluding tax, Decimal")
    tax_rate: Series[object] = pa.Field(description="Percent, Decimal")
    tax_name: Series[str] = pa.Field(nullable=True)
    discount: Series[object] = pa.Field(description="Discount including tax, Decimal")
    total: Series[object] = pa.Field(description="Line total including tax after discount, Decimal")
    tax: Series[object] = pa.Field(description="Tax inside `total`, Decimal (may carry 3 dp)")

    @pa.check("quantity", "unit_price", "tax_rate", "discount", "total", "tax", element_wise=True)
    def _money(cls, value: object) -> bool:
        return _is_money(value)


class LedgerPayment(_Ledger):
    payment_key: Series[str] = pa.Field(unique=True, str_matches=KEY)
    invoice_key: Series[str] = pa.Field(str_matches=KEY)
    date: Series[str] = pa.Field(str_matches=DATE)
    amount: Series[object] = pa.Field(description="Decimal, > 0")

    @pa.check("amount", element_wise=True)
    def _positive(cls, value: object) -> bool:
        return _is_money(value) and value > 0


LEDGER_MODELS: dict[str, type[_Ledger]] = {
    "contacts": LedgerContact,
    "invoices": LedgerInvoice,
    "lines": LedgerLine,
    "payments": LedgerPayment,
}
