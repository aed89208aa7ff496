"""A dry run's Xero client: it reads the organisation as the real one does, and answers every write as Xero would
(the element echoed with an id) without sending it, so the loader plans exactly what a real run would write."""

from __future__ import annotations

import hashlib
from typing import Any

from clinic_etl.xero.client import XeroClient

IDS = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID", "CreditNotes": "CreditNoteID"}


def dry_run_id(resource: str, element: dict[str, Any]) -> str:
    seed = repr(sorted((k, str(v)) for k, v in element.items() if isinstance(v, str | int)))
    return "dry-run-" + hashlib.sha256(f"{resource}:{seed}".encode()).hexdigest()[:24]


class DryRunXeroClient(XeroClient):
    dry_run = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.planned: list[tuple[str, str, int]] = []  # (method, resource, elements): what a real run would send

    def write(self, method: str, resource: str, payload: dict, **params: Any) -> dict:
        collection = resource.split("/", 1)[0]
        elements = payload.get(collection) if isinstance(payload.get(collection), list) else [payload]
        self.planned.append((method, resource, len(elements)))
        id_field = IDS.get(collection, "ID")
        answers = []
        for element in elements:
            answer = {**element, id_field: element.get(id_field) or dry_run_id(collection, element)}
            answer.setdefault("Status", "AUTHORISED")
            answers.append(answer)
        return {collection: answers}
