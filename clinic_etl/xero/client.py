"""Xero Accounting API over httpx: bearer token + tenant header, batched writes with summarizeErrors=false
and a deterministic Idempotency-Key, paged reads. Retries and 429 Retry-After come from the shared core."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

import httpx

from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import ApiStatusError
from clinic_etl.xero import jsonbody
from clinic_etl.xero.auth import XeroAuth

ACCOUNTING = "api.xro/2.0/"
BATCH_SIZE = 50  # Xero recommends ~50 elements per request
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # Xero's largest page
NUMBERS_PER_QUERY = 40  # keep GET URLs short


def idempotency_key(tenant_id: str, method: str, url: str, body: bytes) -> str:
    """Same request to the same organisation -> same key, so a retry (or a re-run within Xero's ~6 min)
    replays instead of writing again."""
    digest = hashlib.sha256(f"{tenant_id} {method} {url}\n".encode() + body).hexdigest()
    return f"clinic-etl-{digest[:64]}"


class XeroClient(ApiClient):
    service = "Xero"
    dry_run = False  # see xero/dry_run.py

    def __init__(self, api_url: str, auth: XeroAuth, tenant_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_url.rstrip("/") + "/", **kwargs)
        self._auth = auth
        self._tenant_id = tenant_id
        self.budget_key = "xero"

    def connect(self) -> None:
        """Resolve the organisation (GET /connections when XERO_TENANT_ID is not set) before the first call."""
        self.budget_key = f"xero-{self.tenant_id}"

    @property
    def tenant_id(self) -> str:
        if not self._tenant_id:
            connections = self.request("GET", "connections").json()
            tenants = [c for c in connections if c.get("tenantType", "ORGANISATION") == "ORGANISATION"]
            if not tenants:
                raise ValueError("the Xero app is connected to no organisation: connect one, or set XERO_TENANT_ID")
            self._tenant_id = str(tenants[0]["tenantId"])
        return self._tenant_id

    def close(self) -> None:
        super().close()
        self._auth.close()

    def _request_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._auth.access_token()}", "Accept": "application/json"}
        if self._tenant_id:
            headers["xero-tenant-id"] = self._tenant_id
        return headers

    def _on_auth_error(self, error: ApiStatusError) -> bool:
        self._auth.invalidate()
        return True

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        messages = [e.get("Message", "") for el in body.get("Elements") or [] for e in el.get("ValidationErrors") or []]
        return "; ".join(m for m in [body.get("Message") or body.get("Detail") or body.get("Title"), *messages] if m)[
            :300
        ]

    # ---- reads
    def get(self, resource: str, **params: Any) -> dict:
        self.connect()
        return self.request("GET", ACCOUNTING + resource, params=params).json()

    def get_all(self, resource: str, key: str, *, page_size: int = PAGE_SIZE, **params: Any) -> list[dict]:
        """Every page of a paged list (line items are included only when `page` is given)."""
        rows: list[dict] = []
        page = 1
        while True:
            batch = self.get(resource, page=page, pageSize=page_size, **params).get(key) or []
            rows += batch
            if len(batch) < page_size:
                return rows
            page += 1

    def invoices_by_number(
        self, numbers: Iterable[str], dated: tuple[date, date] | None = None, *, all_dated: bool = False
    ) -> list[dict]:
        """The invoices with these numbers. With `dated` (a window's first and last day), those dated in it are read
        by date in pages of up to 1000 (a month's invoices in a call or two) and only the rest by number, 40 to a
        GET (an invoice synced for a later change, dated before the window). `all_dated`: every sales invoice dated
        in the window is returned too, whatever its number (the proof looks for invoices with no source)."""
        numbers = sorted(set(numbers))
        rows: list[dict] = []
        if dated and (numbers or all_dated):
            first, last = (f"DateTime({d.year},{d.month:02d},{d.day:02d})" for d in dated)
            where = f'Type=="ACCREC" AND Date>={first} AND Date<={last}'
            wanted = set(numbers)
            found = self.get_all("Invoices", "Invoices", page_size=MAX_PAGE_SIZE, where=where, unitdp=4)
            rows = found if all_dated else [r for r in found if r.get("InvoiceNumber") in wanted]
            numbers = sorted(wanted - {r.get("InvoiceNumber") for r in rows})
        for start in range(0, len(numbers), NUMBERS_PER_QUERY):
            chunk = ",".join(numbers[start : start + NUMBERS_PER_QUERY])
            rows += self.get_all("Invoices", "Invoices", InvoiceNumbers=chunk, unitdp=4)
        return rows

    def documents_by_id(self, resource: str, ids: Iterable[str]) -> dict[str, dict]:
        """Invoices or credit notes by their Xero ids (with their Payments), 40 to a GET: id -> document."""
        wanted = sorted(set(ids))
        id_field = "InvoiceID" if resource == "Invoices" else "CreditNoteID"
        found: dict[str, dict] = {}
        for start in range(0, len(wanted), NUMBERS_PER_QUERY):
            chunk = ",".join(wanted[start : start + NUMBERS_PER_QUERY])
            for row in self.get_all(resource, resource, IDs=chunk, unitdp=4):
                found[str(row.get(id_field))] = row
        return found

    def credit_notes_by_number(self, numbers: Iterable[str]) -> list[dict]:
        """Credit notes have no number-list filter: a `where` of ORed numbers, a chunk at a time."""
        numbers = sorted(set(numbers))
        rows: list[dict] = []
        for start in range(0, len(numbers), NUMBERS_PER_QUERY // 2):
            chunk = numbers[start : start + NUMBERS_PER_QUERY // 2]
            where = " OR ".join(f'CreditNoteNumber=="{n.replace(chr(34), "")}"' for n in chunk)
            rows += self.get_all("CreditNotes", "CreditNotes", where=where, unitdp=4)
        return rows

    def documents_by_number(self, resource: str, numbers: Iterable[str]) -> list[dict]:
        if resource == "CreditNotes":
            return self.credit_notes_by_number(numbers)
        return self.invoices_by_number(numbers)

    def contacts_where(self, field: str, values: Iterable[str]) -> dict[str, dict]:
        """Contacts whose `field` (ContactNumber, Name) is one of `values`, by that value (the first if several): a
        `where` of ORed values, a chunk at a time, so finding 50 contacts costs a few calls, not 50."""
        wanted = sorted({v.replace('"', "") for v in values})
        found: dict[str, dict] = {}
        for start in range(0, len(wanted), NUMBERS_PER_QUERY // 2):
            chunk = wanted[start : start + NUMBERS_PER_QUERY // 2]
            where = " OR ".join(f'{field}=="{v}"' for v in chunk)
            for row in self.get_all("Contacts", "Contacts", where=where):
                found.setdefault(str(row.get(field)), row)
        return found

    def contact_by_number(self, contact_number: str) -> dict | None:
        return self.contacts_where("ContactNumber", [contact_number]).get(contact_number.replace('"', ""))

    # ---- writes
    def delete(self, resource: str) -> dict:
        """DELETE (a credit note's allocation): idempotent by nature; a second one answers 404."""
        self.connect()
        return self.request("DELETE", ACCOUNTING + resource).json()

    def write(self, method: str, resource: str, payload: dict, **params: Any) -> dict:
        body = jsonbody.dumps(payload)
        url = str(httpx.URL(ACCOUNTING + resource, params=params))
        self.connect()
        key = idempotency_key(self.tenant_id, method, url, body)
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        return self.request(method, url, content=body, headers=headers).json()

    def email_invoice(self, invoice_id: str) -> None:
        """POST /Invoices/{id}/Email: Xero e-mails the invoice to its contact (204, no body)."""
        body = b"{}"
        url = ACCOUNTING + f"Invoices/{invoice_id}/Email"
        self.connect()
        key = idempotency_key(self.tenant_id, "POST", url, body)
        self.request("POST", url, content=body, headers={"Content-Type": "application/json", "Idempotency-Key": key})

    def write_batches(self, method: str, resource: str, elements: list[dict], **params: Any) -> list[dict]:
        """PUT/POST in batches of 50 with summarizeErrors=false: one result per element, errors included."""
        results: list[dict] = []
        for start in range(0, len(elements), BATCH_SIZE):
            chunk = elements[start : start + BATCH_SIZE]
            body = self.write(method, resource, {resource: chunk}, summarizeErrors="false", **params)
            results += body.get(resource) or []
        return results
