"""GoHighLevel (LeadConnector) API v2 over the shared retrying core: a Private Integration Token as a bearer token,
the `Version: 2021-07-28` header on every call (the only value the contacts and workflows specs list; FACTS §1), the
location id in the body of an upsert, and the location's limits (100 requests per 10 s, 200,000 a day: FACTS §7) held
by client-side call budgets shared by every process on the machine.

A 429's wait: `Retry-After` if GHL sends one (unverified: FACTS §7), else the burst interval it reports in
`X-RateLimit-Interval-Milliseconds`, else the core's backoff; with `X-RateLimit-Daily-Remaining: 0` the day's quota is
spent and the step stops instead. Error texts carry GHL's `message` (a string, or an array
of strings on 422: FACTS §8) with e-mails and phones scrubbed, never the request body.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import httpx

from clinic_etl.engage.redact import scrub
from clinic_etl.http.client import ApiClient
from clinic_etl.http.errors import ApiDataError, ApiStatusError, RateLimitError

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
API_VERSION = "2021-07-28"  # contacts, workflows and campaigns: the only value of the `Version` enum
BURST_CALLS, BURST_WINDOW_S = 100, 10.0  # per location, per 10 seconds
DAILY_CALLS = 200_000  # per location, per day


class GhlClient(ApiClient):
    service = "GoHighLevel"

    def __init__(self, token: str, location_id: str, base_url: str | None = None, **kwargs: Any) -> None:
        if not token:
            raise ValueError("GHL_TOKEN is not set: create a Private Integration Token in the sub-account")
        if not location_id:
            raise ValueError("GHL_LOCATION_ID is not set: the sub-account's location id")
        self.location_id = location_id
        digest = hashlib.sha256(f"{location_id}:{token}".encode()).hexdigest()[:12]
        super().__init__(
            (base_url or DEFAULT_BASE_URL).rstrip("/") + "/",
            headers={"Accept": "application/json", "Version": API_VERSION, "Authorization": f"Bearer {token}"},
            budget_key=f"gohighlevel-{digest}",
            **kwargs,
        )

    # ---- errors
    def _detail(self, response: httpx.Response) -> str:
        if response.status_code == 401:
            return (
                "the token was refused: check GHL_TOKEN (the sub-account's Private Integration Token, contacts.write)"
            )
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        message = body.get("message")
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        text = message if isinstance(message, str) and message else body.get("error")
        return scrub(text) if isinstance(text, str) else ""

    def _error(self, response: httpx.Response) -> ApiStatusError:
        error = super()._error(response)
        if isinstance(error, RateLimitError) and response.headers.get("X-RateLimit-Daily-Remaining") == "0":
            error.retry_after = 86400.0  # the day's quota: not waited for (the step stops, to be re-run tomorrow)
        elif isinstance(error, RateLimitError) and error.retry_after is None:
            interval = response.headers.get("X-RateLimit-Interval-Milliseconds")
            with contextlib.suppress(ValueError):
                error.retry_after = max(0.0, float(interval) / 1000) if interval else None
        return error

    def _object(self, response: httpx.Response, key: str) -> dict[str, Any]:
        body = self.json_object(response)
        found = body.get(key)
        if not isinstance(found, dict) or not isinstance(found.get("id"), str) or not found["id"]:
            request = response.request
            raise ApiDataError(self.service, request.method, request.url.path, f"the answer has no `{key}.id`")
        return found

    # ---- contacts
    def upsert_contact(self, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """POST /contacts/upsert: GHL matches an existing contact by the location's duplicate setting (e-mail, phone)
        and updates it, or creates one. Returns (`new`, the contact)."""
        response = self.request("POST", "contacts/upsert", json={**body, "locationId": self.location_id})
        contact = self._object(response, "contact")
        return bool(self.json_object(response).get("new")), contact

    def update_contact(self, contact_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /contacts/{id} (no locationId in the body: FACTS §3); GHL's answer (`succeded`, the contact)."""
        return self.json_object(self.request("PUT", f"contacts/{contact_id}", json=body))

    def add_tags(self, contact_id: str, tags: list[str]) -> None:
        """POST /contacts/{id}/tags: adds these tags, keeps the others (upsert's `tags` would replace them all)."""
        self.request("POST", f"contacts/{contact_id}/tags", json={"tags": tags})

    def add_to_workflow(self, contact_id: str, workflow_id: str) -> None:
        """POST /contacts/{id}/workflow/{workflowId} with an empty CreateWorkflowDto (start now)."""
        self.request("POST", f"contacts/{contact_id}/workflow/{workflow_id}", json={})
