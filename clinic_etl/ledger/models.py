"""The practice ledger: the canonical, source-agnostic data contract between sources and Xero.

Every source produces these frames; everything after them is shared. Money columns hold `Decimal`
(never float); dates are ISO `YYYY-MM-DD` strings in the practice's time zone.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from clinic_etl.ledger.checks import Text, money_column, positive_column
from clinic_etl.ledger.compact import compact

KEY = r"^[a-z]+:[a-z_]+:[^\s]+$"


class _Ledger(pa.DataFrameModel):
    class Config:
        strict = "filter"
        coerce = False
        add_missing_columns = True  # a column with a default a source does not produce (e.g. `archived`)


class LedgerContact(_Ledger):
    contact_key: Series[Text] = pa.Field(unique=True, matches=KEY, description="Source key, e.g. cliniko:patient:12")
    source_id: Series[Text] = pa.Field(description="Id in the source system")
    first_name: Series[Text] = pa.Field(nullable=True, description="Personal data: never logged")
    last_name: Series[Text] = pa.Field(nullable=True, description="Personal data: never logged")
    email: Series[Text] = pa.Field(nullable=True, description="Personal data: never logged")
    archived: Series[bool] = pa.Field(
        default=False, description="Archived or deleted at the source: its Xero contact is archived (ARCHIVED)"
    )


class LedgerInvoice(_Ledger):
    invoice_key: Series[Text] = pa.Field(unique=True, matches=KEY, description="e.g. cliniko:invoice:108")
    source_id: Series[Text]
    number: Series[Text] = pa.Field(str_length={"min_value": 1, "max_value": 200}, description="Source number")
    issue_date: Series[Text] = pa.Field(iso_date=())
    contact_key: Series[Text] = pa.Field(matches=KEY)
    business_id: Series[Text] = pa.Field(nullable=True)
    practitioner_id: Series[Text] = pa.Field(nullable=True)
    status: Series[Text] = pa.Field(
        isin=["draft", "open", "paid", "closed", "deleted"],
        description="draft: not yet approved at the source (Xero DRAFT, or kept out by a rule); closed: settled at the"
        " source without a payment the API shows (Cliniko 30 Closed): listed with a payment of its total, which the"
        " mapping's rules.closed_invoices keeps or turns into a write-off; deleted: deleted or voided at the source",
    )
    day: Series[Text] = pa.Field(
        iso_date=(),
        description="The day of the run's window the record is synced for: its issue date when that is in the"
        " window, else the local day of its latest change (clamped to the window)",
    )
    total: Series[object] = pa.Field(description="Total including tax, Decimal, 2 dp")
    tax_total: Series[object] = pa.Field(description="Tax, Decimal")
    url: Series[Text] = pa.Field(nullable=True, description="Link back to the source record")
    bill_to: Series[Text] = pa.Field(
        nullable=True, description="Who the invoice is billed to, as the source says (personal data: rules only)"
    )

    @pa.check("total", "tax_total")
    def _money(cls, series: pd.Series) -> pd.Series:
        return money_column(series)


class LedgerLine(_Ledger):
    invoice_key: Series[Text] = pa.Field(matches=KEY)
    line_no: Series[int] = pa.Field(ge=1)
    source_id: Series[Text]
    description: Series[Text] = pa.Field(str_length={"min_value": 1})
    item_code: Series[Text] = pa.Field(nullable=True)
    quantity: Series[object] = pa.Field(description="Decimal quantity")
    unit_price: Series[object] = pa.Field(description="Unit price excluding tax, Decimal")
    tax_rate: Series[object] = pa.Field(description="Percent, Decimal")
    tax_name: Series[Text] = pa.Field(nullable=True)
    discount: Series[object] = pa.Field(description="Discount including tax, Decimal")
    total: Series[object] = pa.Field(description="Line total including tax after discount, Decimal")
    tax: Series[object] = pa.Field(description="Tax inside `total`, Decimal (may carry 3 dp)")

    @pa.check("quantity", "unit_price", "tax_rate", "discount", "total", "tax")
    def _money(cls, series: pd.Series) -> pd.Series:
        return money_column(series)


class LedgerPayment(_Ledger):
    """Money received against one invoice. For every invoice of the ledger, its rows here are all of its live
    payments: a payment the state store holds for an invoice of the ledger and that is not listed here (deleted,
    voided or edited away at the source) is taken off in Xero."""

    payment_key: Series[Text] = pa.Field(unique=True, matches=KEY)
    invoice_key: Series[Text] = pa.Field(matches=KEY)
    date: Series[Text] = pa.Field(iso_date=(), description="The local day the money was received")
    day: Series[Text] = pa.Field(iso_date=(), description="The day of the run's window it is synced for")
    amount: Series[object] = pa.Field(description="Decimal, > 0")

    @pa.check("amount")
    def _positive(cls, series: pd.Series) -> pd.Series:
        return positive_column(series)


class LedgerCreditNote(_Ledger):
    """A credit issued to a contact (Clio: a credit memo), one amount; applied to invoices by allocations, or
    refunded."""

    credit_note_key: Series[Text] = pa.Field(unique=True, matches=KEY, description="e.g. clio:credit_memo:7")
    source_id: Series[Text]
    number: Series[Text] = pa.Field(str_length={"min_value": 1, "max_value": 200}, description="Credit note number")
    issue_date: Series[Text] = pa.Field(iso_date=())
    contact_key: Series[Text] = pa.Field(matches=KEY)
    status: Series[Text] = pa.Field(isin=["open", "deleted"], description="deleted: voided or deleted at the source")
    day: Series[Text] = pa.Field(iso_date=(), description="As for invoices")
    description: Series[Text] = pa.Field(str_length={"min_value": 1}, description="The credit note's one line")
    kind: Series[Text] = pa.Field(
        isin=["credit", "write_off"], nullable=True, description="write_off: booked to the bad-debt account"
    )
    total: Series[object] = pa.Field(description="Total including tax, Decimal, 2 dp, > 0")
    tax_total: Series[object] = pa.Field(description="Tax inside `total`, Decimal")

    @pa.check("total", "tax_total")
    def _money(cls, series: pd.Series) -> pd.Series:
        return money_column(series)


class LedgerCreditAllocation(_Ledger):
    """Part of a credit note applied to an invoice. For every credit note of the ledger, its rows here are all of its
    live allocations (as for payments)."""

    allocation_key: Series[Text] = pa.Field(unique=True, matches=KEY)
    credit_note_key: Series[Text] = pa.Field(matches=KEY)
    invoice_key: Series[Text] = pa.Field(matches=KEY)
    date: Series[Text] = pa.Field(iso_date=())
    day: Series[Text] = pa.Field(iso_date=())
    amount: Series[object] = pa.Field(description="Decimal, > 0")

    @pa.check("amount")
    def _positive(cls, series: pd.Series) -> pd.Series:
        return positive_column(series)


class LedgerRefund(_Ledger):
    """Money paid back to the contact out of a credit note's unapplied balance. For every credit note of the
    ledger, its rows here are all of its live refunds."""

    refund_key: Series[Text] = pa.Field(unique=True, matches=KEY)
    credit_note_key: Series[Text] = pa.Field(matches=KEY)
    date: Series[Text] = pa.Field(iso_date=())
    day: Series[Text] = pa.Field(iso_date=())
    amount: Series[object] = pa.Field(description="Decimal, > 0")

    @pa.check("amount")
    def _positive(cls, series: pd.Series) -> pd.Series:
        return positive_column(series)


class LedgerExcluded(_Ledger):
    """Source records a named rule keeps out of Xero (e.g. trust money, unapproved bills): accounted for in the
    run's counts and the reconciliation, never silent. Ids and amounts only."""

    record_key: Series[Text] = pa.Field(matches=KEY, description="e.g. clio:allocation:88")
    day: Series[Text] = pa.Field(iso_date=())
    rule: Series[Text] = pa.Field(str_length={"min_value": 1}, description="The rule's name, e.g. trust")
    amount: Series[object] = pa.Field(nullable=True, description="Decimal money the record carries, if any")


LEDGER_MODELS: dict[str, type[_Ledger]] = {
    "contacts": LedgerContact,
    "invoices": LedgerInvoice,
    "lines": LedgerLine,
    "payments": LedgerPayment,
    "credit_notes": LedgerCreditNote,
    "credit_allocations": LedgerCreditAllocation,
    "refunds": LedgerRefund,
    "excluded": LedgerExcluded,
}


def ledger_frame(name: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """One ledger frame from row dicts, with exactly its model's columns (empty when `rows` is), one object per
    distinct Decimal and text value (`compact`)."""
    frame = compact(pd.DataFrame(rows or [], columns=list(LEDGER_MODELS[name].to_schema().columns)))
    if name == "contacts":
        frame["archived"] = frame["archived"].eq(True)  # absent: not archived
    if name == "lines":
        frame["line_no"] = frame["line_no"].astype("int64")
    return frame


def complete(ledger: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """`ledger` with an empty frame for every ledger frame a source does not produce (Cliniko has no credit notes)."""
    return {name: ledger[name] if name in ledger else ledger_frame(name) for name in LEDGER_MODELS}
