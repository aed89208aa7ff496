"""Cliniko API v1 over httpx: Basic auth with the API key, the shard from the key's suffix, a User-Agent
with a contact e-mail, `links.next` paging checked against `total_entries`, `q[]` filters, 429 waits on
`X-RateLimit-Reset`."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from clinic_etl.http.client import ApiClient
from clinic_etl.http.constants import MAX_PAGES, USER_AGENT
from clinic_etl.http.errors import ApiDataError
from clinic_etl.http.paging import SetChanged, kind_of

log = logging.getLogger("clinic_etl.sources.cliniko")

_SHARD = re.compile(r"^[a-z]{2}\d{1,2}$", re.IGNORECASE)
MAX_PER_PAGE = 100
#: list reads sent at once: Cliniko sets no limit on concurrent requests, only the 200 a minute that the call budget
#: holds (every request waits its turn there, whichever thread sends it); a few in flight hide the network's latency
MAX_IN_FLIGHT = 4


def shard_of(api_key: str) -> str:
    """`...-au2` -> `au2`; a key without a valid suffix is an old key on au1."""
    suffix = api_key.rsplit("-", 1)[-1] if "-" in api_key else ""
    return suffix.lower() if _SHARD.match(suffix) else "au1"


def base_url_for(api_key: str) -> str:
    return f"https://api.{shard_of(api_key)}.cliniko.com/v1"


class ClinikoClient(ApiClient):
    service = "Cliniko"

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        user_agent: str = USER_AGENT,
        max_in_flight: int = MAX_IN_FLIGHT,
        **kwargs: Any,
    ):
        self.max_in_flight = max(1, max_in_flight)
        if not api_key:
            raise ValueError("CLINIKO_API_KEY is not set: create a key in Cliniko (My Info > Manage API keys)")
        super().__init__(
            (base_url or base_url_for(api_key)).rstrip("/") + "/",
            auth=httpx.BasicAuth(api_key, ""),
            headers={"Accept": "application/json", "User-Agent": user_agent},
            budget_key=f"cliniko-{shard_of(api_key)}-{hashlib.sha256(api_key.encode()).hexdigest()[:12]}",
            **kwargs,
        )

    def _detail(self, response: httpx.Response) -> str:
        if response.status_code == 401:  # the key's value never appears, nor the body
            return "the API key was refused: check CLINIKO_API_KEY (a key of an active Cliniko user, with its shard)"
        return super()._detail(response)

    def _same_origin(self, url: httpx.URL) -> bool:
        base = self.base_url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def pages(self, resource: str, filters: Iterable[str] = (), *, sort: str = "id") -> Iterator[list[dict]]:
        """Every page of a list route, following `links.next` (never building page URLs ourselves), each record
        once. The whole list is read and checked before the first page is yielded: every page must be JSON with
        the list and a `total_entries`, paging must not cycle or outrun the total, and the distinct records
        received must number exactly the total. Cliniko reports the total of the filtered set on every page: if
        it changes during paging the set changed under us, so the list is read once more from the start. Any
        disagreement raises ApiDataError (not retried: the day is refused)."""
        params: list[tuple[str, str]] = [("per_page", str(MAX_PER_PAGE)), ("sort", sort)]
        params += [("q[]", f) for f in filters]
        try:
            read = self._read_list(resource, params)
        except SetChanged as change:
            log.warning("%s; reading the list again from the start", change.describe())
            try:
                read = self._read_list(resource, params)
            except SetChanged as again:
                raise self._data_error(
                    again.path,
                    f"{change.describe()}, then again when re-read ({again.describe()}): the set keeps "
                    "changing during paging",
                ) from None
        yield from read

    def _data_error(self, path: str, problem: str) -> ApiDataError:
        return ApiDataError(self.service, "GET", path, problem)

    def _read_list(self, resource: str, params: list[tuple[str, str]]) -> list[list[dict]]:
        """One pass over a list route, from its first page to its last; raises SetChanged if the total moves."""
        key = _list_key(resource)
        url: str = resource
        path = ""
        pages: list[list[dict]] = []
        seen: dict[str, dict] = {}
        visited: set[tuple] = set()
        total: int | None = None
        cap = MAX_PAGES
        while True:
            number = len(pages) + 1
            if number > cap:
                raise self._data_error(
                    path,
                    f"links.next goes on past page {cap} although total_entries says {total} ({MAX_PER_PAGE} per page)",
                )
            response = self.request("GET", url, params=params if number == 1 else None)
            path = path or response.request.url.path
            visited.add(_page_key(response.request.url))
            body = self.json_object(response)

            page_total = self._total_of(body, path, number)
            if total is None:
                total = page_total
                cap = min(math.ceil(total / MAX_PER_PAGE) + 1, MAX_PAGES)
            elif page_total != total:
                raise SetChanged(path, total, page_total, number, "total_entries")

            if key not in body:
                raise self._data_error(path, f"page {number} has no `{key}` list")
            rows = body[key]
            if not isinstance(rows, list):
                raise self._data_error(path, f"page {number}'s `{key}` is a {kind_of(rows)}, not a list")
            if not rows and len(seen) < total:
                raise self._data_error(
                    path, f"total_entries says {total} but {len(seen)} records were received (page {number} was empty)"
                )
            fresh: list[dict] = []
            for position, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise self._data_error(path, f"page {number} holds a `{key}` entry that is not an object")
                # a record without an id is kept (the ledger quarantines it by position), never merged with another
                record_id = str(row["id"]) if row.get("id") not in (None, "") else f"<no id> {number}:{position}"
                if record_id not in seen:
                    seen[record_id] = row
                    fresh.append(row)
                elif seen[record_id] != row:
                    raise self._data_error(
                        path, f"record {record_id} came twice with different content (again on page {number})"
                    )
            pages.append(fresh)

            following = self._next_url(body, path, number, visited)
            if following is None:
                break
            url = str(following)
        if len(seen) != total:
            raise self._data_error(
                path, f"total_entries says {total} but {len(seen)} records were received ({len(pages)} pages)"
            )
        return pages

    def _total_of(self, body: dict, path: str, number: int) -> int:
        if "total_entries" not in body:
            raise self._data_error(path, f"page {number} has no total_entries")
        total = body["total_entries"]
        if isinstance(total, bool) or not isinstance(total, int):
            raise self._data_error(path, f"page {number}'s total_entries is a {kind_of(total)}, not an integer")
        if total < 0:
            raise self._data_error(path, f"page {number}'s total_entries is negative ({total})")
        return total

    def _next_url(self, body: dict, path: str, number: int, visited: set[tuple]) -> httpx.URL | None:
        """The checked `links.next` of a page, or None on the last page."""
        links = body.get("links")
        if links is None:
            return None
        if not isinstance(links, dict):
            raise self._data_error(path, f"page {number}'s links is a {kind_of(links)}, not an object")
        this = links.get("self")
        if isinstance(this, str):
            with contextlib.suppress(httpx.InvalidURL, TypeError, ValueError):
                visited.add(_page_key(httpx.URL(this)))
        raw = links.get("next")
        if raw is None:
            return None
        try:
            url = httpx.URL(raw) if isinstance(raw, str) and raw.strip() else None
        except (httpx.InvalidURL, TypeError, ValueError):
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise self._data_error(path, f"links.next of page {number} is not an absolute URL")
        if not self._same_origin(url):
            raise self._data_error(path, f"links.next of page {number} leaves the API host ({url.host[:60]}); refusing")
        if url.path != path and not path.startswith(url.path.rstrip("/") + "/"):
            # the same route, or its parent collection: Cliniko's own example of a `/cancelled` list pages on
            # through the parent route (reference/cliniko/examples/individual_appointments_cancelled_list.json)
            raise self._data_error(path, f"links.next of page {number} leads to another route; refusing")
        if _page_key(url) in visited:
            raise self._data_error(path, f"links.next of page {number} points back to a page already read (a cycle)")
        return url

    def list(self, resource: str, filters: Iterable[str] = (), *, sort: str = "id") -> list[dict]:
        return [row for page in self.pages(resource, filters, sort=sort) for row in page]

    def lists(self, queries: Sequence[tuple[str, Sequence[str]]]) -> list[list[dict]]:
        """`list(resource, filters)` of each query, up to `max_in_flight` read at once (each list's pages in turn,
        as its `links.next` leads), answered in the order asked. The first error of any query is raised."""
        if self.max_in_flight == 1 or len(queries) < 2:
            return [self.list(resource, filters) for resource, filters in queries]
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(queries))) as pool:
            futures = [pool.submit(self.list, resource, filters) for resource, filters in queries]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:  # the reads not yet started are not sent
                    future.cancel()
                raise

    def list_by_ids(self, resource: str, field: str, ids: Iterable[str], extra: Iterable[str] = ()) -> list[dict]:
        """`q[]=<field>:=1,2,3` in batches short enough for any URL length limit, read at once (`lists`)."""
        return [row for rows in self.lists(self.by_ids(resource, field, ids, extra)) for row in rows]

    @staticmethod
    def by_ids(resource: str, field: str, ids: Iterable[str], extra: Iterable[str] = ()) -> list[tuple[str, list[str]]]:
        """The queries of `list_by_ids`: 50 ids to a query."""
        ids = sorted({str(i) for i in ids if i}, key=lambda v: (len(v), v))
        chunks = (",".join(ids[start : start + 50]) for start in range(0, len(ids), 50))
        return [(resource, [f"{field}:={chunk}", *extra]) for chunk in chunks]


_STATE_SEGMENTS = frozenset({"inactive", "deleted", "archived", "cancelled"})


def _list_key(resource: str) -> str:
    """The array key of a list route: `invoices/7/invoice_items` -> `invoice_items`, `practitioners/inactive` ->
    `practitioners`, `appointments/70644/invoices/deleted` -> `invoices`."""
    segments = [s for s in resource.split("?", 1)[0].strip("/").split("/") if s and not s.isdigit()]
    named = [s for s in segments if s not in _STATE_SEGMENTS]
    return (named or segments or [resource])[-1]


def _page_key(url: httpx.URL) -> tuple:
    """A page's identity for cycle detection: origin, path and the query in any order (`page` defaults to 1)."""
    query = sorted(url.params.multi_items())
    if "page" not in url.params:
        query = sorted([*query, ("page", "1")])
    return (url.scheme, url.host, url.port, url.path, tuple(query))
