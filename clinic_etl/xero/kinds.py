"""The two kinds of Xero sales document the loader writes: ACCREC invoices and ACCRECCREDIT credit notes. They are
written, adopted after a crash, edited and voided the same way; only names differ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    entity: str  # the state store's entity
    resource: str  # Xero's resource and the key of its list in bodies
    id_field: str
    number_field: str
    key_column: str  # the document's source key column in the Xero frames
    type: str  # Xero's Type

    @property
    def label(self) -> str:
        return self.entity.replace("_", " ")


INVOICE = Kind("invoice", "Invoices", "InvoiceID", "InvoiceNumber", "invoice_key", "ACCREC")
CREDIT_NOTE = Kind("credit_note", "CreditNotes", "CreditNoteID", "CreditNoteNumber", "credit_note_key", "ACCRECCREDIT")
