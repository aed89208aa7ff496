"""Cliniko API v1 over httpx: Basic auth with the API key, the shard from the key's suffix, a User-Agent
with a contact e-mail, `links.next` paging, `q[]` filters, 429 waits on `X-RateLimit-Reset`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from clinic_etl.http.client import ApiClient
from clinic_etl.http.constants import USER_AGENT

_SHARD = re.compile(r"^[a-z]{2}\d{1,2}$", re.IGNORECASE)
MAX_PER_PAGE = 100


def shard_of(api_key: str) -> str:
    """`...-au2` -> `au2`; a key without a valid suffix is an old key on au1."""
    suffix = api_key.rsplit("-", 1)[-1] if "-" in api_key else ""
    return suffix.lower() if _SHARD.match(suffix) else "au1"


def base_url_for(api_key: str) -> str:
    return f"https://api.{shard_of(api_key)}.cliniko.com/v1"


class ClinikoClient(ApiClient):
    service = "Cliniko"

    def __init__(self, api_key: str, base_url: str | None = None, *, user_agent: str = USER_AGENT, **kwargs: Any):
        if not api_key:
            raise ValueError("CLINIKO_API_KEY is not set: create a key in Cliniko (My Info > Manage API keys)")
        super().__init__(
            (base_url or base_url_for(api_key)).rstrip("/") + "/",
            auth=httpx.BasicAuth(api_key, ""),
            headers={"Accept": "application/json", "User-Agent": user_agent},
            budget_key=f"cliniko-{shard_of(api_key)}-{api_key[-6:]}",
            **kwargs,
        )

    def _same_origin(self, url: str) -> bool:
        target, base = httpx.URL(url), self.base_url
        return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)

    def pages(self, resource: str, filters: Iterable[str] = (), *, sort: str = "id") -> Iterator[list[dict]]:
        """Every page of a list route, following `links.next` (never building page URLs ourselves)."""
        params: list[tuple[str, str]] = [("per_page", str(MAX_PER_PAGE)), ("sort", sort)]
        params += [("q[]", f) for f in filters]
        url: str | None = resource
        first = True
        while url:
            response = self.request("GET", url, params=params if first else None)
            body = response.json()
            yield list(body.get(_plural_key(resource, body)) or [])
            url = (body.get("links") or {}).get("next")
            if url and not self._same_origin(url):
                raise ValueError(f"Cliniko paging link leaves the API host ({httpx.URL(url).host}); refusing")
            first = False

    def list(self, resource: str, filters: Iterable[str] = (), *, sort: str = "id") -> list[dict]:
        rows: dict[str, dict] = {}
        for page in self.pages(resource, filters, sort=sort):
            for row in page:  # de-duplicate by id: page-number paging over a changing set can repeat rows
                rows[str(row.get("id"))] = row
        return list(rows.values())

    def list_by_ids(self, resource: str, field: str, ids: Iterable[str], extra: Iterable[str] = ()) -> list[dict]:
        """`q[]=<field>:=1,2,3` in batches short enough for any URL length limit."""
        ids = sorted({str(i) for i in ids if i}, key=lambda v: (len(v), v))
        rows: list[dict] = []
        for start in range(0, len(ids), 50):
            chunk = ",".join(ids[start : start + 50])
            rows += self.list(resource, [f"{field}:={chunk}", *extra])
        return rows


def _plural_key(resource: str, body: dict) -> str:
    """`invoices/7/invoice_items` -> `invoice_items`; `practitioners/inactive` -> `practitioners`."""
    for segment in reversed(resource.strip("/").split("/")):
        if isinstance(body.get(segment), list):
            return segment
    lists = [k for k, v in body.items() if isinstance(v, list)]
    return lists[0] if lists else resource
