"""pandera models of the raw Cliniko frames as extracted (strings as served). A failing row is quarantined."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

ID = r"^\d{1,19}$"
MONEY = r"^-?\d+(\.\d+)?$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"


class _Raw(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class RawInvoice(_Raw):
    id: Series[str] = pa.Field(str_matches=ID, unique=True)
    number: Series[str] = pa.Field(str_matches=r"^\d{1,18}$")
    issue_date: Series[str] = pa.Field(str_matches=DATE)
    status: Series[str] = pa.Field(isin=["10", "20", "30", "40"])
    total_amount: Series[str] = pa.Field(str_matches=MONEY)
    tax_amount: Series[str] = pa.Field(str_matches=MONEY)
    patient_id: Series[str] = pa.Field(str_matches=ID)
    business_id: Series[str] = pa.Field(str_matches=ID, nullable=True)
    practitioner_id: Series[str] = pa.Field(str_matches=ID, nullable=True)
    closed_at: Series[str] = pa.Field(str_matches=INSTANT, nullable=True)
    archived_at: Series[str] = pa.Field(str_matches=INSTANT, nullable=True)
    deleted_at: Series[str] = pa.Field(str_matches=INSTANT, nullable=True)
    updated_at: Series[str] = pa.Field(str_matches=INSTANT)


class RawInvoiceItem(_Raw):
    id: Series[str] = pa.Field(str_matches=ID, unique=True)
    invoice_id: Series[str] = pa.Field(str_matches=ID)
    name: Series[str] = pa.Field(nullable=True)
    code: Series[str] = pa.Field(nullable=True)
    quantity: Series[str] = pa.Field(str_matches=r"^\d+(\.0+)?$")
    unit_price: Series[str] = pa.Field(str_matches=MONEY)
    discounted_amount: Series[str] = pa.Field(str_matches=MONEY, nullable=True)
    net_price: Series[str] = pa.Field(str_matches=MONEY)
    tax_rate: Series[str] = pa.Field(str_matches=MONEY, nullable=True)
    total_including_tax: Series[str] = pa.Field(str_matches=MONEY)


class RawPatient(_Raw):
    id: Series[str] = pa.Field(str_matches=ID, unique=True)
    first_name: Series[str] = pa.Field(nullable=True)
    last_name: Series[str] = pa.Field(nullable=True)
    email: Series[str] = pa.Field(nullable=True)


PRIVATE = frozenset({"first_name", "last_name", "email", "name"})
