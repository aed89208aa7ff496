"""Mailchimp Marketing API 3.0 over the shared retrying core.

- The API key's suffix is its data centre: `...-us21` -> `https://us21.api.mailchimp.com/3.0` (FACTS §2; the dc-less
  host is unverified, so it is never used). The key goes as `Authorization: Bearer <key>` (the docs accept it beside
  HTTP Basic, and it is the only scheme the OpenAPI file declares: FACTS §1), and only to that host: a batch's results
  are fetched from the URL Mailchimp gives (a pre-signed storage URL) without it.
- Errors are problem documents (`title`, `detail`, ...: FACTS §8). An error's text carries the `title` only: a
  `detail` may quote the member's e-mail address ("<email> is in a compliance state ...").
- Member writes go in batches (`POST /batches`, FACTS §5): the operations' paths carry subscriber hashes (MD5 of an
  e-mail), which never appear in a URL the client requests or a message it raises. A batch is polled until
  `finished`; its results (a gzipped tar of JSON arrays of `{status_code, operation_id, response}`) are read in
  memory, never written to disk. Operations run in no guaranteed order, so each phase that needs another's result
  is its own batch.
- No call quota is documented, only 10 simultaneous connections per user (FACTS §7): the client makes one at a time.
  A 429 (with or without a body) is retried by the core's backoff.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import ApiDataError

_DC = re.compile(r"-([a-z]+\d+)$")
BATCH_MAX_OPERATIONS = 500  # no cap is documented (FACTS §5); kept to a size whose results download quickly
POLL_DELAYS = (0.0, 1.0, 2.0, 4.0, 8.0, 15.0)  # then every 15 s
BATCH_TIMEOUT_S = 900.0  # a batch not finished by then fails the step; its writes are idempotent (re-run)


def data_centre(api_key: str) -> str:
    found = _DC.search(api_key.strip())
    if not found:
        raise ValueError("MAILCHIMP_API_KEY has no data-centre suffix (e.g. -us21): copy the whole key from Mailchimp")
    return found.group(1)


def base_url_for(api_key: str) -> str:
    return f"https://{data_centre(api_key)}.api.mailchimp.com/3.0"


def subscriber_hash(email: str) -> str:
    """A member's id: the MD5 of the lowercase e-mail address (FACTS §3)."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's id, not a secret


@dataclass(frozen=True)
class Result:
    """One operation's answer inside a batch."""

    status: int
    body: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def title(self) -> str:
        """The problem document's title (never its detail, which may quote an e-mail)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("title"), str):
            return self.body["title"][:100]
        return f"HTTP {self.status}"


class MailchimpClient(ApiClient):
    service = "Mailchimp"

    def __init__(
        self, api_key: str, base_url: str | None = None, *, poll_sleep: Callable[[float], None] = time.sleep, **kwargs
    ) -> None:
        if not api_key:
            raise ValueError("MAILCHIMP_API_KEY is not set")
        root = (base_url or base_url_for(api_key)).rstrip("/") + "/"
        self._authorization = f"Bearer {api_key.strip()}"
        self._poll_sleep = poll_sleep
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:12]
        super().__init__(root, headers={"Accept": "application/json"}, budget_key=f"mailchimp-{digest}", **kwargs)

    def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        target = self._http.base_url.join(url)
        api = (target.scheme, target.host, target.port) == (
            self.base_url.scheme,
            self.base_url.host,
            self.base_url.port,
        )
        if api:  # the key goes to the API host only, never to a batch's results URL
            headers = {"Authorization": self._authorization, **(headers or {})}
        return super()._send(method, url, headers=headers, **kwargs)

    def _detail(self, response: httpx.Response) -> str:
        if response.status_code == 401:
            return "the API key was refused: check MAILCHIMP_API_KEY (and that its -usN suffix is the account's)"
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict) and isinstance(body.get("title"), str):
            return body["title"][:100]
        return ""

    # ---- reads
    def audience(self, list_id: str) -> dict[str, Any]:
        """GET /lists/{list_id}: its name and `double_optin` (a 404 means MAILCHIMP_AUDIENCE_ID is wrong)."""
        return self.json_object(self.request("GET", f"lists/{list_id}", params={"fields": "id,name,double_optin"}))

    # ---- batches
    def run_batch(self, operations: list[dict[str, Any]]) -> dict[str, Result]:
        """Every operation (`method`, `path` relative to /3.0, `operation_id`, optional `body` as a dict), in batches
        of up to BATCH_MAX_OPERATIONS; returns each operation's result by its id."""
        results: dict[str, Result] = {}
        for start in range(0, len(operations), BATCH_MAX_OPERATIONS):
            results |= self._one_batch(operations[start : start + BATCH_MAX_OPERATIONS])
        return results

    def _one_batch(self, operations: list[dict[str, Any]]) -> dict[str, Result]:
        wire = [
            {
                "method": op["method"],
                "path": op["path"],
                "operation_id": op["operation_id"],
                **({"body": json.dumps(op["body"])} if op.get("body") is not None else {}),
            }
            for op in operations
        ]
        batch = self.json_object(self.request("POST", "batches", json={"operations": wire}))
        batch_id = batch.get("id")
        if not isinstance(batch_id, str) or not batch_id:
            raise ApiDataError(self.service, "POST", "/3.0/batches", "the answer has no batch id")
        status = self._wait_for(batch_id)
        if status.get("total_operations", len(wire)) != len(wire):
            raise ApiDataError(
                self.service, "GET", f"/3.0/batches/{batch_id}", "total_operations is not the number of operations sent"
            )
        found = self._results(str(status.get("response_body_url") or ""), batch_id)
        missing = {op["operation_id"] for op in wire} - set(found)
        if missing:
            raise ApiDataError(
                self.service, "GET", f"/3.0/batches/{batch_id}", f"{len(missing)} operation(s) have no result"
            )
        return found

    def _wait_for(self, batch_id: str) -> dict[str, Any]:
        waited, attempt = 0.0, 0
        while True:
            delay = POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)]
            if delay:
                self._poll_sleep(delay)
            waited += delay
            attempt += 1
            status = self.json_object(self.request("GET", f"batches/{batch_id}"))
            if status.get("status") == "finished":
                return status
            if waited >= BATCH_TIMEOUT_S:
                raise ApiDataError(
                    self.service,
                    "GET",
                    f"/3.0/batches/{batch_id}",
                    f"the batch is still {status.get('status')!r} after {waited:.0f} s; re-run (its writes are "
                    "idempotent)",
                )

    def _results(self, url: str, batch_id: str) -> dict[str, Result]:
        where = f"/3.0/batches/{batch_id}"
        if not url:
            raise ApiDataError(self.service, "GET", where, "a finished batch has no response_body_url")
        content = self.request("GET", url).content
        found: dict[str, Result] = {}
        try:
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(content)), mode="r:") as archive:
                for member in archive.getmembers():
                    handle = archive.extractfile(member) if member.isfile() else None
                    entries = _json_or_none(handle.read()) if handle is not None else None
                    for entry in entries if isinstance(entries, list) else [entries]:
                        if isinstance(entry, dict) and isinstance(entry.get("operation_id"), str):
                            found[entry["operation_id"]] = Result(int(entry.get("status_code", 0)), _parsed(entry))
        except (OSError, EOFError, tarfile.TarError):
            raise ApiDataError(self.service, "GET", where, "the batch results are not a gzipped tar of JSON") from None
        return found


def _json_or_none(raw: bytes) -> Any:
    """A results file's content (an array of operation results), or None for a file that is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _parsed(entry: dict[str, Any]) -> dict[str, Any] | None:
    """An operation's `response` is a JSON string (empty for a 204)."""
    raw = entry.get("response")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
