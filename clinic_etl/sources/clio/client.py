"""Clio Manage API v4 over httpx (reference: /work/shared/reference/clio/FACTS.md and openapi.json).

- Regions are separate hosts (`https://app.clio.com`, `eu.`, `ca.`, `au.`): the API lives under `/api/v4`, OAuth at
  `/oauth/token` on the same host.
- OAuth2 refresh grant: the access token is cached and renewed shortly before the `expires_in` Clio returned
  (never a hard-coded 30 days), and once more if the API answers 401. Manage refresh tokens do not rotate; should
  an answer carry a new one anyway it is used from then on (in memory only). A refused refresh is an
  `AuthenticationError` naming CLIO_CLIENT_ID / CLIO_CLIENT_SECRET / CLIO_REFRESH_TOKEN, never their values.
- Every API request pins `X-API-VERSION` (API_VERSION) and carries a User-Agent; every list read sends `fields`
  (without it Clio returns only `id` and `etag`).
- Lists use cursor paging only: `order=id(asc)` where the route takes an `order`, `limit=200`, and
  `meta.paging.next` followed as served (same host and route, the request's `fields` and filters added back if
  missing, no cycle, a page cap), the records received checked against `meta.records` when the pages carry it.
  Offset paging is never asked for; an offset link reaching past Clio's 10,000-record cap is refused before it is sent.
- 429 `Retry-After` and 5xx go through the project's retrying core; `X-RateLimit-Remaining` 0 waits for
  `X-RateLimit-Reset` before the next call. The call budget's key is a digest, never a credential.
- Changes are read with `updated_since`; `watermark()` takes the next one from the records' own `updated_at`,
  never from the local clock.

Errors never quote a body (records hold client data) nor a secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from clinic_etl.http import constants as c
from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import ApiDataError, ApiStatusError, AuthenticationError
from clinic_etl.http.limits import CallBudget
from clinic_etl.http.paging import SetChanged, kind_of

log = logging.getLogger("clinic_etl.sources.clio")

DEFAULT_BASE_URL = "https://app.clio.com"
REGIONS = {
    "us": "https://app.clio.com",
    "eu": "https://eu.app.clio.com",
    "ca": "https://ca.app.clio.com",
    "au": "https://au.app.clio.com",
}
API_PATH = "/api/v4"
TOKEN_PATH = "oauth/token"
API_VERSION = "4.0.9"  # the minor version clinic_etl was written and tested against (FACTS §3): one place to bump
PAGE_LIMIT = 200  # Clio's largest `limit` (1-200)
CURSOR_ORDER = "id(asc)"  # the only order that gives cursor paging
OFFSET_CAP = 10_000  # offset paging stops at 10,000 records (paging docs); never paged into
IDS_PER_REQUEST = 100  # `ids[]` values per request: one page each, a URL far below any length limit
EARLY_RENEWAL_S = 300.0  # renew the access token this long before it expires (at most a tenth of its life)
FALLBACK_TOKEN_TTL_S = 3600.0  # lifetime assumed when a token answer carries no usable `expires_in`
MAX_ID = 2**63 - 1

# The query parameters clinic_etl may send to each index route, all of them taken from that route's parameters in
# openapi.json (a test checks them against the spec). `fields`, `limit`, `order` and `page_token` are the
# client's own. A filter outside this table is a programming error (ValueError), never sent.
ROUTE_FILTERS: dict[str, frozenset[str]] = {
    route: frozenset(names.split())
    for route, names in {
        "bills": "ids[] updated_since created_since issued_after issued_before state type client_id matter_id",
        "line_items": "ids[] updated_since created_since bill_id matter_id display",
        "allocations": "ids[] updated_since created_since bill_id contact_id matter_id parent_id status",
        "credit_memos": "ids[] updated_since created_since contact_id",
        "bank_accounts": "ids[] updated_since created_since type show_empty_accounts",
        "bank_transactions": "ids[] updated_since created_since bank_account_id client_id matter_id type",
        "contacts": "ids[] updated_since created_since type",
        "matters": "ids[] updated_since created_since client_id status",
    }.items()
}
# Index routes whose spec has no `order` parameter (cursor paging by id is their only order): none is sent.
UNORDERED = frozenset({"line_items"})
_OWN_PARAMS = frozenset({"fields", "limit", "order", "page_token", "offset"})
_PAGING_PARAMS = frozenset({"page_token", "offset", "limit", "order"})  # may differ in a `next` link

Params = Mapping[str, str | int | Sequence[str | int]] | Sequence[tuple[str, str | int]]


def host_of(base_url: str) -> str:
    """`https://eu.app.clio.com`, `https://eu.app.clio.com/`, `https://eu.app.clio.com/api/v4` -> the origin."""
    url = httpx.URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("the Clio base URL must be an absolute http(s) URL such as https://app.clio.com")
    path = url.path.rstrip("/").removesuffix(API_PATH)
    return f"{url.scheme}://{url.netloc.decode('ascii')}{path}"  # never a user:password part


def is_id(value: object) -> bool:
    """A Clio id as text: ASCII digits, no leading zero, within int64 (nothing else ever reaches a query)."""
    return isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,18}", value) is not None and int(value) <= MAX_ID


def utc_text(moment: datetime) -> str:
    """An aware datetime as the ISO-8601 UTC text Clio's `updated_since` takes (`Z`, no `+` to escape)."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp sent to Clio must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: object) -> datetime | None:
    """A served timestamp (offset or `Z`; naive taken as UTC) as an aware datetime, None if it is not one."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def watermark(records: Iterable[dict], previous: str | None = None) -> str | None:
    """The next `updated_since`: the latest `updated_at` among `records` (and `previous`), as served by Clio. Never
    the local clock: a clock ahead of Clio's would skip changes. Re-read with a small overlap and de-duplicate by id."""
    best, best_text = parse_instant(previous), previous
    for record in records:
        text = record.get("updated_at") if isinstance(record, dict) else None
        moment = parse_instant(text)
        if moment is not None and (best is None or moment > best):
            best, best_text = moment, text
    return best_text


def top_level_fields(fields: str) -> list[str]:
    """`id,client{id,name},total` -> ["id", "client", "total"]."""
    names, depth, current = [], 0, []
    for char in fields + ",":
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            name = "".join(current).strip()
            if name:
                names.append(name)
            current = []
            continue
        if depth == 0 and char not in "{}":
            current.append(char)
    return names


class ClioOAuth(ApiClient):
    """The token endpoint (same host as the API, outside `/api/v4`)."""

    service = "Clio OAuth"

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        return error[:60] if isinstance(error, str) else ""


class RefreshRefused(AuthenticationError):
    """Clio refused the refresh grant: the credentials need fixing by a person, retrying cannot help."""


class ClioClient(ApiClient):
    service = "Clio"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        client_id: str = "",
        client_secret: str = "",
        refresh_token: str = "",
        *,
        transport: httpx.BaseTransport | None = None,
        budget: CallBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_retries: int = c.MAX_RETRIES,
        user_agent: str = c.USER_AGENT,
    ) -> None:
        missing = [
            name
            for name, value in (
                ("CLIO_CLIENT_ID", client_id),
                ("CLIO_CLIENT_SECRET", client_secret),
                ("CLIO_REFRESH_TOKEN", refresh_token),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} not set: register an app in Clio's developer portal of the firm's region "
                "and authorise it once to obtain a refresh token"
            )
        self.host = host_of(base_url or DEFAULT_BASE_URL)
        grant = hashlib.sha256(f"{client_id}\0{refresh_token}".encode()).hexdigest()[:12]
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        super().__init__(
            self.host + API_PATH + "/",
            transport=transport,
            headers=headers,
            budget=budget,
            budget_key=f"clio-{httpx.URL(self.host).host}-{grant}",  # a digest: no credential reaches the budget
            max_retries=max_retries,
            sleep=sleep,
            clock=clock,
        )
        self._oauth = ClioOAuth(
            self.host + "/", transport=transport, headers=headers, max_retries=max_retries, sleep=sleep, clock=clock
        )
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._token: str | None = None
        self._renew_at = 0.0
        self._remaining: int | None = None
        self._reset: float | None = None
        self.refreshes = 0  # token grants obtained (for tests and benchmarks)

    def close(self) -> None:
        self._oauth.close()
        super().close()

    # ---- OAuth
    def access_token(self) -> str:
        """The cached access token, renewed first when it has expired or is about to."""
        if self._token is None or self._clock() >= self._renew_at:
            self._refresh()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _refresh(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        asked = self._clock()
        try:
            response = self._oauth.request("POST", TOKEN_PATH, data=form)
        except ApiStatusError as error:
            if error.status_code in (400, 401, 403):
                raise self._refused(error) from None
            raise
        body = self._oauth.json_object(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise ApiDataError(self._oauth.service, "POST", response.request.url.path, "the answer has no access_token")
        ttl = _seconds(body.get("expires_in"))
        if ttl is None:
            log.warning("Clio's token answer has no usable expires_in; assuming %.0f s", FALLBACK_TOKEN_TTL_S)
            ttl = FALLBACK_TOKEN_TTL_S
        self._token = token
        self._renew_at = asked + ttl - min(EARLY_RENEWAL_S, ttl / 10)
        self.refreshes += 1
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            # Manage refresh tokens do not rotate (FACTS §2); if one is issued anyway, the old may be dead
            log.warning("Clio issued a new refresh token: using it for this run; CLIO_REFRESH_TOKEN may need updating")
            self._refresh_token = rotated

    def _refused(self, error: ApiStatusError) -> RefreshRefused:
        code = _oauth_error_code(error.response)
        code = f" ({code})" if code else ""
        if error.status_code == 400:
            advice = (
                f"Clio refused the refresh token{code}: it was revoked or issued to another app or region; "
                f"re-authorise the app at {self.host} and set CLIO_REFRESH_TOKEN (issued to this CLIO_CLIENT_ID "
                "and CLIO_CLIENT_SECRET)"
            )
        else:
            advice = (
                f"Clio refused the app's credentials{code}: check CLIO_CLIENT_ID and CLIO_CLIENT_SECRET (an app "
                f"registered in the region of {self.host}) and that CLIO_REFRESH_TOKEN was issued to that app"
            )
        return RefreshRefused(self._oauth.service, error.response, advice)

    # ---- hooks of the retrying core
    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.access_token()  # renewed here, outside the core's retries, so a refresh is never retried twice over
        return super().request(method, url, **kwargs)

    def _request_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "X-API-VERSION": API_VERSION}

    def _on_auth_error(self, error: ApiStatusError) -> bool:
        if isinstance(error, RefreshRefused):
            return False
        log.warning("Clio refused the access token (HTTP 401); refreshing it once")
        self._token = None
        self._refresh()
        return True

    def _detail(self, response: httpx.Response) -> str:
        if response.status_code == 401:
            return (
                "the access token was refused: check that CLIO_CLIENT_ID, CLIO_CLIENT_SECRET and CLIO_REFRESH_TOKEN "
                f"belong to an app of this region ({self.host}) and that the grant was not revoked"
            )
        if response.status_code == 410:
            return f"X-API-VERSION {API_VERSION} is invalid or retired: bump clio.client.API_VERSION and re-test"
        try:
            body = response.json()
        except ValueError:
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            kind, message = error.get("type"), error.get("message")
            text = ": ".join(part for part in (kind, message) if isinstance(part, str) and part)
            return text[:200]
        return super()._detail(response)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self._pace()
        response = super()._send(method, url, **kwargs)
        self._note_limits(response)
        return response

    def _pace(self) -> None:
        """The last answer said no request is left in this window: wait for its reset instead of drawing a 429."""
        if self._remaining is None or self._remaining > 0 or self._reset is None:
            return
        wait = self._reset - self._clock()
        self._remaining = None
        if 0 < wait <= c.MAX_RETRY_AFTER:
            log.info("Clio rate limit reached (X-RateLimit-Remaining 0): waiting %.1f s for the reset", wait)
            self._sleep(wait + 0.5)

    def _note_limits(self, response: httpx.Response) -> None:
        remaining, reset = response.headers.get("X-RateLimit-Remaining"), response.headers.get("X-RateLimit-Reset")
        self._remaining = int(remaining) if remaining and remaining.strip().isdigit() else None
        try:
            self._reset = float(reset) if reset else None
        except ValueError:
            self._reset = None
        echoed = response.headers.get("X-API-VERSION")
        if echoed and echoed.strip() != API_VERSION:
            log.warning("Clio answered with X-API-VERSION %s, not the pinned %s", echoed[:20], API_VERSION)

    # ---- lists
    def pages(self, resource: str, fields: str, params: Params = ()) -> Iterator[list[dict]]:
        """Every page of `/api/v4/<resource>.json`, each record once, read and checked in full before the first page
        is yielded: `fields` (required), `limit=200`, `order=id(asc)` where the route takes an order, and `params`
        (filters the route's spec offers). The pages must be JSON objects with a `data` list of objects; paging
        follows `meta.paging.next` as served, checked (same host and route, the request's fields and filters added
        if lacking, no cycle, never an offset past the cap, at most the pages `meta.records` allows). When the pages
        carry `meta.records`, the distinct records received must number exactly that; a count that moves between pages
        (the set changed during the read) makes the list be read once more from the start. Any disagreement is an
        ApiDataError (never retried: the run is refused)."""
        query = self._query(resource, fields, params)
        wanted = [name for name in top_level_fields(fields) if name not in ("id", "etag")]
        try:
            read = self._read_list(resource, query, wanted)
        except SetChanged as change:
            log.warning("%s; reading the list again from the start", change.describe())
            try:
                read = self._read_list(resource, query, wanted)
            except SetChanged as again:
                raise self._data_error(
                    again.path,
                    f"{change.describe()}, then again when re-read ({again.describe()}): the set keeps changing "
                    "during paging",
                ) from None
        yield from read

    def list(self, resource: str, fields: str, params: Params = ()) -> list[dict]:
        return [row for page in self.pages(resource, fields, params) for row in page]

    def changed_since(self, resource: str, since: datetime, fields: str, params: Params = ()) -> list[dict]:
        """The records of `resource` updated after `since` (Clio's `updated_since`), with `params`. Pass `since` a
        little before the last watermark (an overlap) and de-duplicate by id."""
        return self.list(resource, fields, [*_pairs(params), ("updated_since", utc_text(since))])

    def list_by_ids(self, resource: str, ids: Iterable[str], fields: str, params: Params = ()) -> list[dict]:
        """The records with the given ids (`ids[]`, in batches); an id that is not a well-formed Clio id is never
        sent. Records Clio no longer serves (deleted) are simply absent."""
        wanted = sorted({str(i) for i in ids if is_id(str(i))}, key=int)
        rows: list[dict] = []
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            batch = [("ids[]", i) for i in wanted[start : start + IDS_PER_REQUEST]]
            rows += self.list(resource, fields, [*_pairs(params), *batch])
        return rows

    def _query(self, resource: str, fields: str, params: Params) -> list[tuple[str, str]]:
        if resource not in ROUTE_FILTERS:
            raise ValueError(f"clinic_etl reads no Clio list route {resource!r}")
        if not isinstance(fields, str) or not top_level_fields(fields):
            raise ValueError("Clio needs `fields` on every request (otherwise it returns only id and etag)")
        query: list[tuple[str, str]] = [("fields", fields), ("limit", str(PAGE_LIMIT))]
        if resource not in UNORDERED:
            query.append(("order", CURSOR_ORDER))
        for name, value in _pairs(params):
            if name in _OWN_PARAMS or name not in ROUTE_FILTERS[resource]:
                raise ValueError(f"/{resource}.json takes no {name!r} filter from clinic_etl (see ROUTE_FILTERS)")
            query.append((name, value))
        return query

    def _data_error(self, path: str, problem: str) -> ApiDataError:
        return ApiDataError(self.service, "GET", path, problem)

    def _same_origin(self, url: httpx.URL) -> bool:
        base = self.base_url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def _read_list(self, resource: str, query: list[tuple[str, str]], wanted: list[str]) -> list[list[dict]]:
        url = f"{resource}.json"
        path = ""
        pages: list[list[dict]] = []
        seen: dict[str, dict] = {}
        visited: set[tuple] = set()
        total: int | None = None
        cap = c.MAX_PAGES
        while True:
            number = len(pages) + 1
            if number > cap:
                raise self._data_error(
                    path, f"meta.paging.next goes on past page {cap} although meta.records says {total}"
                )
            response = self.request("GET", url, params=query if number == 1 else None)
            path = path or response.request.url.path
            visited.add(_page_key(response.request.url))
            body = self.json_object(response)
            meta = body.get("meta")
            if meta is not None and not isinstance(meta, dict):
                raise self._data_error(path, f"page {number}'s meta is a {kind_of(meta)}, not an object")
            records = self._records_of(meta or {}, path, number)
            if number == 1:
                total = records
                if total is not None:
                    cap = min(math.ceil(total / PAGE_LIMIT) + 1, c.MAX_PAGES)
            elif records != total:
                if records is None or total is None:
                    raise self._data_error(path, f"meta.records is given on some pages only (page {number})")
                raise SetChanged(path, total, records, number, "meta.records")

            rows = body.get("data")
            if not isinstance(rows, list):
                raise self._data_error(path, f"page {number} has no `data` list")
            fresh: list[dict] = []
            for position, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise self._data_error(path, f"page {number} holds a record that is not an object")
                if wanted and not any(name in row for name in wanted):
                    raise self._data_error(
                        path, f"page {number} holds a record without any requested field (fields ignored?)"
                    )
                record_id = _record_key(row, number, position)
                if record_id not in seen:
                    seen[record_id] = row
                    fresh.append(row)
                elif seen[record_id] != row:
                    raise self._data_error(
                        path, f"record {record_id} came twice with different content (again on page {number})"
                    )
            pages.append(fresh)

            following = self._next_url(meta or {}, path, number, visited, query)
            if following is None:
                break
            if not rows:
                raise self._data_error(path, f"page {number} is empty but meta.paging.next goes on")
            url = str(following)
        if total is not None and len(seen) != total:
            raise self._data_error(
                path, f"meta.records says {total} but {len(seen)} records were received ({len(pages)} pages)"
            )
        return pages

    def _records_of(self, meta: dict, path: str, number: int) -> int | None:
        if "records" not in meta or meta["records"] is None:
            return None
        records = meta["records"]
        if isinstance(records, bool) or not isinstance(records, int) or records < 0:
            raise self._data_error(path, f"page {number}'s meta.records is not a count")
        return records

    def _next_url(
        self, meta: dict, path: str, number: int, visited: set[tuple], query: list[tuple[str, str]]
    ) -> httpx.URL | None:
        """The checked `meta.paging.next` of a page, or None on the last page."""
        paging = meta.get("paging")
        if paging is None:
            return None
        if not isinstance(paging, dict):
            raise self._data_error(path, f"page {number}'s meta.paging is a {kind_of(paging)}, not an object")
        raw = paging.get("next")
        if raw is None or raw == "":
            return None
        try:
            url = httpx.URL(raw) if isinstance(raw, str) and raw.strip() else None
        except (httpx.InvalidURL, TypeError, ValueError):
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise self._data_error(path, f"meta.paging.next of page {number} is not an absolute URL")
        if not self._same_origin(url):
            raise self._data_error(
                path, f"meta.paging.next of page {number} leaves the API host ({url.host[:60]}); refusing"
            )
        if url.path.removesuffix(".json") != path.removesuffix(".json"):
            raise self._data_error(path, f"meta.paging.next of page {number} leads to another route; refusing")
        served = {k for k, _ in url.params.multi_items()}
        lost = [(k, v) for k, v in query if k not in _PAGING_PARAMS and k not in served]
        if lost:  # a `next` that does not carry the request's fields or filters gets them back, never drops them
            log.warning("Clio's next page link for %s lacks %s; adding them", path, sorted({k for k, _ in lost}))
            url = url.copy_with(params=[*url.params.multi_items(), *lost])
        if "offset" in url.params:
            offset = url.params["offset"]
            limit = url.params.get("limit", str(PAGE_LIMIT))
            if not offset.isdigit() or not limit.isdigit() or int(offset) + int(limit) > OFFSET_CAP:
                raise self._data_error(
                    path,
                    f"meta.paging.next of page {number} is an offset page past Clio's {OFFSET_CAP:,}-record cap "
                    "(cursor paging was asked for)",
                )
            log.warning("Clio answered %s with offset paging although order=%s was asked for", path, CURSOR_ORDER)
        if _page_key(url) in visited:
            raise self._data_error(path, f"meta.paging.next of page {number} points back to a page already read")
        return url


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        if isinstance(value, list | tuple):
            pairs += [(name, str(v)) for v in value]
        else:
            pairs.append((name, str(value)))
    return pairs


def _oauth_error_code(response: httpx.Response) -> str:
    """The OAuth `error` code of a refusal (`invalid_grant`), only when it looks like one: nothing else is quoted."""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else ""


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        seconds = float(value)  # type: ignore[arg-type]
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    return None


def _record_key(row: dict, page: int, position: int) -> str:
    """A record's id as text; one without an id is kept under its position, never merged with another."""
    value = row.get("id")
    return str(value) if value not in (None, "") and not isinstance(value, bool) else f"<no id> {page}:{position}"


def _page_key(url: httpx.URL) -> tuple:
    """A page's identity for cycle detection: origin, route and the query in any order."""
    return (url.scheme, url.host, url.port, url.path.removesuffix(".json"), tuple(sorted(url.params.multi_items())))
