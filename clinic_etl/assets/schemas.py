"""The column schemas the UI shows for the frames the sync passes between its stages (definition metadata).

The ledger's come from its pandera models (the data contract: columns, types, checks, descriptions) through
dagster-pandera; the Xero frames have no pandera model (they are built column by column in `clinic_etl.xero`), so
their schemas are written from the frames' column lists here. Only the schema is shown: no row of a frame ever
reaches Dagster's metadata (they hold patients' names and e-mails).
"""

from __future__ import annotations

import warnings

import dagster as dg
from dagster_pandera import pandera_schema_to_dagster_type

from clinic_etl.ledger.models import LEDGER_MODELS
from clinic_etl.xero.credit_frames import ALLOCATION_COLUMNS, CREDIT_NOTE_COLUMNS, REFUND_COLUMNS
from clinic_etl.xero.frames import CONTACT_COLUMNS, HELD_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS

PERSONAL = "personal data: sent to Xero, never logged nor shown"
XERO_TYPES = {
    "total": ("decimal", "total including tax, 2 dp"),
    "tax_total": ("decimal", "tax inside the total"),
    "Amount": ("decimal", "money, 2 dp"),
    "LineItems": ("list", "Xero line items (tax-inclusive; AccountCode, TaxType, Tracking)"),
    "day": ("date", "the day of the run's window the record is synced for"),
    "Date": ("date", "YYYY-MM-DD"),
    "DueDate": ("date", "YYYY-MM-DD"),
    "content_hash": ("string", "hash of what is sent: a re-run writes only what changed"),
    "Name": ("string", PERSONAL),
    "FirstName": ("string", PERSONAL),
    "LastName": ("string", PERSONAL),
    "EmailAddress": ("string", PERSONAL),
}
XERO_FRAMES = {
    "contacts": CONTACT_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "held": HELD_COLUMNS,
    "credit_notes": CREDIT_NOTE_COLUMNS,
    "credit_allocations": ALLOCATION_COLUMNS,
    "refunds": REFUND_COLUMNS,
}


def ledger_schema(name: str) -> dg.TableSchema:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster-pandera's BetaWarning
        dagster_type = pandera_schema_to_dagster_type(LEDGER_MODELS[name])
    return dagster_type.metadata["schema"].schema  # type: ignore[union-attr]


def xero_schema(name: str) -> dg.TableSchema:
    columns = []
    for column in XERO_FRAMES[name]:
        kind, description = XERO_TYPES.get(column, ("string", None))
        if column.endswith("_key"):
            description = "source key, e.g. cliniko:invoice:108"
        columns.append(dg.TableColumn(column, kind, description))
    return dg.TableSchema(columns=columns)


def schema_metadata(frames: dict[str, dg.TableSchema], main: str) -> dict[str, object]:
    """`dagster/column_schema` (the asset's Columns tab) is the main frame's; each frame's is `columns: <frame>`."""
    return {
        "dagster/column_schema": frames[main],
        **{f"columns: {name}": dg.MetadataValue.table_schema(schema) for name, schema in frames.items()},
    }


def ledger_metadata() -> dict[str, object]:
    return schema_metadata({name: ledger_schema(name) for name in LEDGER_MODELS}, "invoices")


def xero_metadata() -> dict[str, object]:
    return schema_metadata({name: xero_schema(name) for name in XERO_FRAMES}, "invoices")
