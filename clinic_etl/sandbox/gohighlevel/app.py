"""The GoHighLevel API v2 simulator (contacts and workflows of one sub-account), a Starlette app whose state lives in a
SQLite file shared by every process (`DocState`).

What every request passes, in order: the bearer token (401 `UnauthorizedDTO`), the `Version` header (400 unless
`2021-07-28`, the only value the contacts and workflows specs list), the location's rate limits (100 requests per 10 s
and 200,000 a day, counted in the state file; 429; the `X-RateLimit-*` headers of FACTS §7 on every answer), a fault a
test queued, then the route. Bodies are validated against GHL's own schemas (`schema.py`, 422).

Routes: POST /contacts/upsert, GET and PUT /contacts/{id}, POST and DELETE /contacts/{id}/tags, POST and DELETE
/contacts/{id}/workflow/{workflowId}, GET /contacts/search/duplicate, GET /workflows/. Upsert matching follows the
location's "Allow Duplicate Contact" setting as the spec describes it: e-mail then phone (the priority is a setting),
never the name; when the e-mail matches one contact and the phone another, the first in priority is updated and the
other field ignored; `createNewIfDuplicateAllowed` creates only when the location allows duplicates. `tags` in an
upsert or update replaces every tag.

Choices where FACTS is silent (unverified against GHL): a token's location is fixed (another `locationId` is 403);
an unknown contact or workflow is 400 `{"statusCode": 400, "message": "... not found"}` (the spec declares 400, not
404); an update to an e-mail or phone another contact holds, with duplicates not allowed, is 400; the 429 body is
`{"statusCode": 429, "message": "Too Many Requests"}` with no `Retry-After`; adding a contact to a workflow it is in
already enrols it again (each enrolment is kept, for the tests to count); PUT keeps the fields it is not given.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clinic_etl.sandbox.docstate import DocState, Tx
from clinic_etl.sandbox.gohighlevel import schema

SANDBOX_GHL_TOKEN = "pit-sandbox-0000-0000-0000-000000000000"
SANDBOX_LOCATION_ID = "SbxLoc7QdW2mHa91Kx3Z"
SANDBOX_WORKFLOW_ID = "78559bb3-b920-461e-b010-7b2a2816d2a9"  # published: "New patient welcome"
DRAFT_WORKFLOW_ID = "5a2c81f0-3d4e-4b6a-9c1d-2f7e8a9b0c11"
VERSION = "2021-07-28"
BURST, BURST_S, DAILY = 100, 10.0, 200_000
_ID = string.ascii_letters + string.digits
_PATHS = [
    (re.compile(r"^/contacts/upsert$"), "/contacts/upsert"),
    (re.compile(r"^/contacts/search/duplicate$"), "/contacts/search/duplicate"),
    (re.compile(r"^/contacts/[^/]+/tags$"), "/contacts/{contactId}/tags"),
    (re.compile(r"^/contacts/[^/]+/workflow/[^/]+$"), "/contacts/{contactId}/workflow/{workflowId}"),
    (re.compile(r"^/contacts/[^/]+$"), "/contacts/{contactId}"),
    (re.compile(r"^/workflows/?$"), "/workflows/"),
]


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(now * 1000) % 1000:03d}Z"


def _digits(phone: object) -> str:
    return re.sub(r"\D", "", phone) if isinstance(phone, str) else ""


def _error(status: int, message: str | list[str], error: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if error:
        body["error"] = error
    return body


def _unauthorized() -> dict[str, Any]:
    return _error(401, "Invalid token: access token is invalid", "Unauthorized")


def _unprocessable(messages: list[str]) -> dict[str, Any]:
    return _error(422, messages, "Unprocessable Entity")


def _seed(tx: Tx) -> None:
    tx.set_meta("settings", json.dumps({"allow_duplicates": False, "priority": ["email", "phone"]}))
    for workflow_id, name, status in (
        (SANDBOX_WORKFLOW_ID, "New patient welcome", "published"),
        (DRAFT_WORKFLOW_ID, "Reactivation (draft)", "draft"),
    ):
        tx.put(
            "workflow",
            workflow_id,
            {
                "id": workflow_id,
                "name": name,
                "status": status,
                "version": 2,
                "locationId": SANDBOX_LOCATION_ID,
                "createdAt": "2026-06-02T01:12:40.000Z",
                "updatedAt": "2026-09-15T22:03:11.000Z",
            },
        )


class Answer:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status, self.body = status, body


class GhlSimulator:
    def __init__(self, state_path: str, clock: Callable[[], float], time_scale: float, token: str, location: str):
        self.state = DocState(state_path, _seed)
        self.clock = clock
        self.burst_s = BURST_S / time_scale
        self.day_s = 86400.0 / time_scale
        self.token, self.location = token, location

    # ---- the request pipeline
    async def endpoint(self, request: Request) -> Response:
        raw = await request.body()
        path, method = request.url.path, request.method.upper()
        if path.startswith("/__sandbox__/"):
            return self.admin(method, path, raw)
        with self.state.write() as tx:
            tx.count_call(f"{method} {self._template(path)}")
            answer, headers = self.guard(tx, request, method, path)
            if answer is None:
                answer = self.route(tx, method, path, request, raw)
        if answer.status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    @staticmethod
    def _template(path: str) -> str:
        return next((name for pattern, name in _PATHS if pattern.match(path)), path)

    def guard(self, tx: Tx, request: Request, method: str, path: str) -> tuple[Answer | None, dict[str, str]]:
        if request.headers.get("authorization", "") != f"Bearer {self.token}":
            return Answer(401, _unauthorized()), {}
        if request.headers.get("version") != VERSION:
            return Answer(400, _error(400, f"Version header must be {VERSION} for this API")), {}
        now = self.clock()
        burst_key, day_key = f"burst:{self.location}", f"day:{self.location}"
        refused = tx.hit(burst_key, now, self.burst_s, BURST)
        daily = tx.hit(day_key, now, self.day_s, DAILY) if refused is None else None
        burst_used = tx.window_count(burst_key, now, self.burst_s)
        day_used = tx.window_count(day_key, now, self.day_s)
        headers = {
            "X-RateLimit-Limit-Daily": str(DAILY),
            "X-RateLimit-Daily-Remaining": str(max(0, DAILY - day_used)),
            "X-RateLimit-Interval-Milliseconds": str(round(self.burst_s * 1000)),
            "X-RateLimit-Max": str(BURST),
            "X-RateLimit-Remaining": str(max(0, BURST - burst_used)),
        }
        if refused is not None or daily is not None:
            return Answer(429, _error(429, "Too Many Requests")), headers
        fault = tx.pop_fault(method, path)
        if fault is not None:
            status, with_body = fault
            if status == 429:
                headers["X-RateLimit-Remaining"] = "0"
            message = "Too Many Requests" if status == 429 else "Internal Server Error"
            return Answer(status, _error(status, message) if with_body else None), headers
        return None, headers

    def route(self, tx: Tx, method: str, path: str, request: Request, raw: bytes) -> Answer:
        parts = [p for p in path.split("/") if p]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return Answer(400, _error(400, "Unexpected token in JSON"))
        if parts == ["contacts", "upsert"] and method == "POST":
            return self.upsert(tx, body)
        if parts[:3] == ["contacts", "search", "duplicate"] and method == "GET":
            return self.duplicate(tx, request)
        if parts in (["workflows"],) and method == "GET":
            return self.workflows(tx, request)
        if len(parts) >= 2 and parts[0] == "contacts":
            contact = tx.get("contact", parts[1])
            if contact is None or contact["locationId"] != self.location:
                return Answer(400, _error(400, "Contact not found"))
            if len(parts) == 2 and method == "GET":
                return Answer(200, {"contact": contact})
            if len(parts) == 2 and method == "PUT":
                return self.update(tx, contact, body)
            if parts[2:] == ["tags"] and method in ("POST", "DELETE"):
                return self.tags(tx, contact, body, method)
            if len(parts) == 4 and parts[2] == "workflow" and method in ("POST", "DELETE"):
                return self.workflow(tx, contact, parts[3], body, method)
        return Answer(404, _error(404, f"Cannot {method} {path}", "Not Found"))

    # ---- contacts
    def _settings(self, tx: Tx) -> dict[str, Any]:
        return json.loads(tx.meta("settings") or "{}")

    def _find(self, tx: Tx, field: str, value: object, skip: str | None = None) -> dict[str, Any] | None:
        if field == "email" and isinstance(value, str) and value:
            found = tx.all("contact", f"email:{value.strip().lower()}")
        elif field == "phone" and _digits(value):
            found = [c for c in tx.all("contact") if _digits(c.get("phone")) == _digits(value)]
        else:
            return None
        return next((c for c in found if c["locationId"] == self.location and c["id"] != skip), None)

    def _save(self, tx: Tx, contact: dict[str, Any]) -> None:
        email = contact.get("email")
        tx.put("contact", contact["id"], contact, f"email:{email.strip().lower()}" if email else None)

    def _apply(self, contact: dict[str, Any], body: dict[str, Any], now: float) -> None:
        for key, value in body.items():
            if key in ("locationId", "createNewIfDuplicateAllowed"):
                continue
            contact[key] = value
        if isinstance(contact.get("email"), str):
            contact["emailLowerCase"] = contact["email"].lower()
        for key, lower in (("firstName", "firstNameLowerCase"), ("lastName", "lastNameLowerCase")):
            if isinstance(contact.get(key), str):
                contact[lower] = contact[key].lower()
        if "name" not in body and ("firstName" in body or "lastName" in body):
            contact["name"] = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p) or None
        if isinstance(contact.get("name"), str):
            contact["fullNameLowerCase"] = contact["name"].lower()
        contact["dateUpdated"] = _stamp(now)

    def _new(self, tx: Tx, now: float) -> dict[str, Any]:
        contact_id = "".join(secrets.choice(_ID) for _ in range(20))
        return {
            "id": contact_id,
            "locationId": self.location,
            "type": "lead",
            "tags": [],
            "customFields": [],
            "dnd": False,
            "dateAdded": _stamp(now),
            "dateUpdated": _stamp(now),
        }

    def upsert(self, tx: Tx, body: Any) -> Answer:
        wrong = schema.problems("UpsertContactDto", body)
        if wrong:
            return Answer(422, _unprocessable(wrong))
        if body["locationId"] != self.location:
            return Answer(403, _error(403, "The token does not have access to this location.", "Forbidden"))
        settings, now = self._settings(tx), self.clock()
        matched = None
        given = {k: v for k, v in body.items() if v is not None}
        if not (body.get("createNewIfDuplicateAllowed") and settings.get("allow_duplicates")):
            for field in settings.get("priority", ["email", "phone"]):
                matched = self._find(tx, field, body.get(field))
                if matched is not None:
                    other = "phone" if field == "email" else "email"
                    holder = self._find(tx, other, body.get(other))
                    if holder is not None and holder["id"] != matched["id"]:
                        given.pop(other, None)  # the second field is ignored: no merge, no duplicate
                    break
        contact = matched or self._new(tx, now)
        self._apply(contact, given, now)
        self._save(tx, contact)
        return Answer(200, {"new": matched is None, "contact": contact, "traceId": str(uuid.uuid4())})

    def update(self, tx: Tx, contact: dict[str, Any], body: Any) -> Answer:
        wrong = schema.problems("UpdateContactDto", body)
        if wrong:
            return Answer(422, _unprocessable(wrong))
        if not self._settings(tx).get("allow_duplicates"):
            for field in ("email", "phone"):
                if self._find(tx, field, body.get(field), skip=contact["id"]) is not None:
                    return Answer(
                        400, _error(400, f"Another contact already has this {field}: duplicates are not allowed")
                    )
        self._apply(contact, {k: v for k, v in body.items() if v is not None}, self.clock())
        self._save(tx, contact)
        return Answer(200, {"succeded": True, "contact": contact})

    def tags(self, tx: Tx, contact: dict[str, Any], body: Any, method: str) -> Answer:
        wrong = schema.problems("TagsDTO", body)
        if wrong:
            return Answer(422, _unprocessable(wrong))
        current = list(contact.get("tags") or [])
        if method == "POST":
            current += [t for t in body["tags"] if t not in current]
        else:
            current = [t for t in current if t not in body["tags"]]
        contact["tags"] = current
        contact["dateUpdated"] = _stamp(self.clock())
        self._save(tx, contact)
        return Answer(201 if method == "POST" else 200, {"tags": current})

    def workflow(self, tx: Tx, contact: dict[str, Any], workflow_id: str, body: Any, method: str) -> Answer:
        wrong = schema.problems("CreateWorkflowDto", body if body is not None else {})
        if wrong:
            return Answer(422, _unprocessable(wrong))
        found = tx.get("workflow", workflow_id)
        if found is None or found["locationId"] != self.location:
            return Answer(400, _error(400, "Workflow not found"))
        if method == "POST":
            number = tx.counter("enrolment")
            tx.put(
                "enrolment",
                str(number),
                {"contactId": contact["id"], "workflowId": workflow_id, "at": _stamp(self.clock())},
            )
        return Answer(200, {"succeded": True})

    def duplicate(self, tx: Tx, request: Request) -> Answer:
        params = request.query_params
        if params.get("locationId") != self.location:
            return Answer(403, _error(403, "The token does not have access to this location.", "Forbidden"))
        found = self._find(tx, "email", params.get("email")) or self._find(tx, "phone", params.get("number"))
        return Answer(200, {"contact": found})

    def workflows(self, tx: Tx, request: Request) -> Answer:
        if request.query_params.get("locationId") != self.location:
            return Answer(403, _error(403, "The token does not have access to this location.", "Forbidden"))
        return Answer(200, {"workflows": tx.all("workflow")})

    # ---- test-only admin
    def admin(self, method: str, path: str, raw: bytes) -> Response:
        name = path[len("/__sandbox__/") :].strip("/")
        spec = json.loads(raw) if raw else {}
        with self.state.write() as tx:
            if name == "stats" and method == "GET":
                return JSONResponse({"calls": tx.stats()})
            if name == "faults" and method == "POST":
                return JSONResponse(tx.queue_fault(spec))
            if name == "contacts" and method == "GET":
                return JSONResponse({"contacts": tx.all("contact")})
            if name == "contacts" and method == "POST":
                contact = self._new(tx, self.clock())
                self._apply(contact, spec, self.clock())
                self._save(tx, contact)
                return JSONResponse({"contact": contact})
            if name == "enrolments" and method == "GET":
                return JSONResponse({"enrolments": tx.all("enrolment")})
            if name == "settings" and method == "PUT":
                tx.set_meta("settings", json.dumps({**self._settings(tx), **spec}))
                return JSONResponse(self._settings(tx))
        return JSONResponse({"error": "unknown admin route"}, status_code=404)


def create_app(
    state_path: str,
    *,
    clock: Callable[[], float] = time.time,
    time_scale: float = 1.0,
    token: str = SANDBOX_GHL_TOKEN,
    location_id: str = SANDBOX_LOCATION_ID,
) -> Starlette:
    """The simulator over the state file `state_path` (created and seeded with the location's workflows on first use).
    `time_scale` > 1 runs the rate-limit windows that many times faster than real time."""
    sim = GhlSimulator(state_path, clock, time_scale, token, location_id)
    app = Starlette(routes=[Route("/{path:path}", sim.endpoint, methods=["GET", "POST", "PUT", "DELETE"])])
    app.state.ghl = sim
    return app
