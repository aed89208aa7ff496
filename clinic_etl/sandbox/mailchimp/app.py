"""The Mailchimp Marketing API 3.0 simulator (one account, one audience, one customer journey), a Starlette app whose
state lives in a SQLite file shared by every process (`DocState`).

Every request: the API key as HTTP Basic (any user name) or a bearer token, for the data centre its suffix names (a
host `<dc>.api.mailchimp...` of another dc is 401 "API Key Invalid"); at most 10 simultaneous connections (429); a
fault a test queued (a 429 or 403 may come without a body, FACTS §7); then the route. Errors are problem documents
(`application/problem+json`: type, title, status, detail, instance; `X-Request-Id` and `Link: rel="describedBy"`).

Routes under /3.0: GET / (API root), GET /lists/{list_id}, GET and PUT /lists/{list_id}/members/{subscriber_hash}
(the hash, or the e-mail itself), GET and POST .../members/{subscriber_hash}/tags (204; `active` adds, creating the
tag, `inactive` removes), POST /customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger (204), POST
/batches, GET /batches and /batches/{batch_id}. A batch's operations run when it is submitted (each counted like a
direct call); it reads `pending`, then `finished` from the first poll on, with a `response_body_url` valid 10 minutes
(a pre-signed URL: no key needed, 403 once expired) to a gzipped tar of JSON arrays of
`{status_code, operation_id, response}` (`response` a JSON string).

Members follow FACTS §3: `status_if_new` applies only when the member is created; `status` on an unsubscribed or
cleaned member is refused ("Member In Compliance State"); an address on the account's compliance list, or one
permanently deleted ("Forgotten Email Not Subscribed"), cannot be added. Choices where the sources are silent
(unverified): those two refusals apply whatever the status asked for; a body field the spec does not list, a hash
that is not the e-mail's, or a merge field the audience lacks is 400 "Invalid Resource"; tags on a member not on the
audience are 404; a journey trigger for an address not on the journey's audience is 400 "Invalid Resource".
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import hashlib
import hmac
import io
import json
import re
import secrets
import tarfile
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

SANDBOX_MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us21"
SANDBOX_AUDIENCE_ID = "5e8d1a2b3c"
SANDBOX_JOURNEY_ID, SANDBOX_STEP_ID = 4021, 17
MERGE_FIELDS = ("FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY")
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
MEMBER_FIELDS = {
    "email_address",
    "status_if_new",
    "status",
    "merge_fields",
    "interests",
    "email_type",
    "language",
    "vip",
    "location",
    "marketing_permissions",
    "ip_signup",
    "timestamp_signup",
    "ip_opt",
    "timestamp_opt",
}
MAX_CONNECTIONS = 10
RESULTS_TTL_S = 600.0
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEMPLATES = [
    (re.compile(r"^/3\.0/lists/[^/]+/members/[^/]+/tags$"), "/3.0/lists/{list_id}/members/{subscriber_hash}/tags"),
    (re.compile(r"^/3\.0/lists/[^/]+/members/[^/]+$"), "/3.0/lists/{list_id}/members/{subscriber_hash}"),
    (re.compile(r"^/3\.0/lists/[^/]+$"), "/3.0/lists/{list_id}"),
    (
        re.compile(r"^/3\.0/customer-journeys/journeys/[^/]+/steps/[^/]+/actions/trigger$"),
        "/3.0/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger",
    ),
    (re.compile(r"^/3\.0/batches/[^/]+$"), "/3.0/batches/{batch_id}"),
    (re.compile(r"^/batch-results/.+$"), "/batch-results/{file}"),
]


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's member id


def _now_text(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def template(path: str) -> str:
    return next((name for pattern, name in _TEMPLATES if pattern.match(path)), path)


class Answer:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status, self.body = status, body


def problem(status: int, title: str, detail: str, **extra: Any) -> Answer:
    return Answer(
        status,
        {
            "type": ERRORS_DOC,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": str(uuid.uuid4()),
            **extra,
        },
    )


def not_found() -> Answer:
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


def invalid(field: str, message: str) -> Answer:
    return problem(
        400,
        "Invalid Resource",
        "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
        errors=[{"field": field, "message": message}],
    )


def _seed(tx: Tx, debtors: list[tuple[str, str]]) -> None:
    tx.set_meta("secret", secrets.token_hex(16))
    tx.put(
        "list",
        SANDBOX_AUDIENCE_ID,
        {
            "id": SANDBOX_AUDIENCE_ID,
            "web_id": 40217,
            "name": "Harbourside Allied Health patients",
            "double_optin": False,
            "email_type_option": False,
            "use_archive_bar": True,
            "merge_fields": list(MERGE_FIELDS),
            "contact": {"company": "Harbourside Allied Health", "city": "Sydney", "country": "AU"},
        },
    )
    tx.put(
        "journey",
        str(SANDBOX_JOURNEY_ID),
        {
            "id": SANDBOX_JOURNEY_ID,
            "list_id": SANDBOX_AUDIENCE_ID,
            "steps": [SANDBOX_STEP_ID],
            "name": "Overdue invoice reminder",
        },
    )
    for email, kind in debtors:  # the sandbox practice's awkward debtors (see `sandbox_debtors`)
        if kind in ("forgotten", "compliance"):
            tx.put("blocked", email.lower(), {"email": email.lower(), "kind": kind})
        else:
            _put_member(tx, SANDBOX_AUDIENCE_ID, _member(SANDBOX_AUDIENCE_ID, email, kind, {}, 1_790_000_000.0))


def _member(list_id: str, email: str, status: str, merge: dict[str, Any], now: float) -> dict[str, Any]:
    member_hash = subscriber_hash(email)
    return {
        "id": member_hash,
        "email_address": email,
        "unique_email_id": member_hash[:10],
        "contact_id": member_hash[:24],
        "full_name": " ".join(str(merge.get(k, "")) for k in ("FNAME", "LNAME")).strip(),
        "web_id": int(member_hash[:6], 16),
        "email_type": "html",
        "status": status,
        "merge_fields": {k: merge.get(k, "") for k in ("FNAME", "LNAME")},
        "interests": {},
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": "",
        "timestamp_opt": _now_text(now),
        "member_rating": 2,
        "last_changed": _now_text(now),
        "language": "",
        "vip": False,
        "email_client": "",
        "location": {},
        "source": "API - Generic",
        "tags_count": 0,
        "tags": [],
        "list_id": list_id,
    }


def _put_member(tx: Tx, list_id: str, member: dict[str, Any]) -> None:
    tx.put("member", f"{list_id}:{member['id']}", member, list_id)


class MailchimpSimulator:
    def __init__(
        self, state_path: str, clock: Callable[[], float], api_key: str, debtors: Callable[[], list[tuple[str, str]]]
    ) -> None:
        self.state = DocState(state_path, lambda tx: _seed(tx, debtors()))  # the debtors are looked up once, to seed
        self.clock = clock
        self.api_key = api_key
        self.dc = api_key.rsplit("-", 1)[-1]
        self.in_flight = 0

    # ---- pipeline
    async def endpoint(self, request: Request) -> Response:
        raw = await request.body()
        path, method = request.url.path, request.method.upper()
        if path.startswith("/__sandbox__/"):
            return self.admin(method, path, raw, request)
        if path.startswith("/batch-results/"):
            return self.results(path, request)
        denied = self.authenticate(request)
        if denied is not None:
            return self.reply(denied)
        if self.in_flight >= MAX_CONNECTIONS:
            return self.reply(
                problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")
            )
        self.in_flight += 1
        try:
            await asyncio.sleep(0)
            with self.state.write() as tx:
                tx.count_call(f"{method} {template(path)}")
                fault = tx.pop_fault(method, path)
                if fault is not None:
                    status, with_body = fault
                    if not with_body:
                        return Response(status_code=status)
                    return self.reply(
                        problem(
                            status, "Too Many Requests" if status == 429 else "Internal Server Error", "Injected fault."
                        )
                    )
                answer = self.route(tx, method, path, raw, request)
        finally:
            self.in_flight -= 1
        return self.reply(answer)

    @staticmethod
    def reply(answer: Answer) -> Response:
        if answer.status == 204:
            return Response(status_code=204)
        headers = {"X-Request-Id": str(uuid.uuid4())}
        if answer.status >= 400:
            headers["Link"] = '<https://api.mailchimp.com/schema/3.0/ProblemDetailDocument.json>; rel="describedBy"'
            return JSONResponse(answer.body, answer.status, headers, media_type="application/problem+json")
        return JSONResponse(answer.body, answer.status, headers)

    def authenticate(self, request: Request) -> Answer | None:
        header = request.headers.get("authorization", "")
        given = None
        if header[:6].lower() == "basic ":
            try:
                given = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                given = None
        elif header[:7].lower() == "bearer ":
            given = header[7:].strip()
        if not given:
            return problem(401, "API Key Missing", "Your request did not include an API key.")
        host_dc = (request.url.hostname or "").split(".")[0]
        wrong_dc = ".api.mailchimp" in (request.url.hostname or "") and host_dc != self.dc
        if given != self.api_key or wrong_dc:
            return problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return None

    def route(self, tx: Tx, method: str, path: str, raw: bytes, request: Request | None) -> Answer:
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "3.0":
            return not_found()
        parts = parts[1:]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return problem(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.")
        if not parts and method == "GET":
            return Answer(
                200,
                {
                    "account_id": "sbx0421",
                    "login_id": "sbx0421",
                    "account_name": "Harbourside Allied Health",
                    "role": "owner",
                    "pricing_plan_type": "monthly",
                },
            )
        if parts[:1] == ["lists"] and len(parts) >= 2:
            found = tx.get("list", parts[1])
            if found is None:
                return not_found()
            if len(parts) == 2 and method == "GET":
                return Answer(200, _fields(found, request.query_params.get("fields") if request else None))
            if len(parts) >= 4 and parts[2] == "members":
                return self.members(tx, method, found, parts[3], parts[4:], body)
        if (
            parts[:2] == ["customer-journeys", "journeys"]
            and len(parts) == 7
            and parts[3] == "steps"
            and method == "POST"
        ):
            return self.trigger(tx, parts[2], parts[4], parts[5:], body)
        if parts[:1] == ["batches"]:
            return self.batches(tx, method, parts[1:], body, request)
        return (
            not_found()
            if method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            else problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")
        )

    # ---- members and tags
    def members(self, tx: Tx, method: str, audience: dict, ref: str, rest: list[str], body: Any) -> Answer:
        list_id = audience["id"]
        member_hash = subscriber_hash(ref) if "@" in ref and not rest else ref.lower()
        member = tx.get("member", f"{list_id}:{member_hash}")
        if rest == ["tags"]:
            if member is None:
                return not_found()
            if method == "GET":
                tags = member.get("tags", [])
                return Answer(200, {"tags": tags, "total_items": len(tags)})
            if method == "POST":
                return self.tags(tx, list_id, member, body)
        if rest:
            return not_found()
        if method == "GET":
            return Answer(200, member) if member is not None else not_found()
        if method == "PUT":
            return self.upsert(tx, audience, member_hash, member, body)
        return problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")

    def upsert(self, tx: Tx, audience: dict, member_hash: str, member: dict | None, body: Any) -> Answer:
        if not isinstance(body, dict):
            return invalid("", "Schema describes object, NULL found instead")
        unknown = sorted(set(body) - MEMBER_FIELDS)
        if unknown:
            return invalid(unknown[0], "This field is not part of the schema")
        email = body.get("email_address")
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            return invalid("email_address", "Please provide a valid email address.")
        if subscriber_hash(email) != member_hash:
            return invalid("email_address", "The email address does not match the subscriber hash.")
        for field in ("status", "status_if_new"):
            if field in body and body[field] not in STATUSES:
                return invalid(field, f"Value is not one of the allowed values: {', '.join(STATUSES)}")
        if "status" not in body and "status_if_new" not in body and member is None:
            return invalid("status_if_new", "This value is required when the member is new")
        merge = body.get("merge_fields") or {}
        if not isinstance(merge, dict) or any(key not in audience["merge_fields"] for key in merge):
            return problem(
                400,
                "Invalid Resource",
                "Your merge fields were invalid.",
                errors=[{"field": "merge_fields", "message": "A merge field the audience does not have"}],
            )
        now = self.clock()
        if member is None:
            blocked = tx.get("blocked", email.strip().lower())
            if blocked is not None and blocked["kind"] == "forgotten":
                return problem(
                    400,
                    "Forgotten Email Not Subscribed",
                    f"{email} was permanently deleted and cannot be "
                    "re-imported. The contact must re-subscribe to get back on the list.",
                )
            if blocked is not None:
                return problem(
                    400,
                    "Member In Compliance State",
                    f"{email} is in a compliance state due to "
                    "unsubscribe, bounce, or compliance review and cannot be subscribed.",
                )
            member = _member(audience["id"], email.strip(), body.get("status") or body["status_if_new"], merge, now)
        else:
            wanted = body.get("status")
            if wanted in ("subscribed", "pending") and member["status"] in ("unsubscribed", "cleaned"):
                return problem(
                    400,
                    "Member In Compliance State",
                    f"{email} is in a compliance state due to "
                    "unsubscribe, bounce, or compliance review and cannot be subscribed.",
                )
            if wanted:
                member["status"] = wanted
            member["merge_fields"].update(merge)
            member["full_name"] = " ".join(str(member["merge_fields"].get(k, "")) for k in ("FNAME", "LNAME")).strip()
            member["last_changed"] = _now_text(now)
        for field in ("email_type", "language", "vip"):
            if field in body:
                member[field] = body[field]
        _put_member(tx, audience["id"], member)
        return Answer(200, member)

    def tags(self, tx: Tx, list_id: str, member: dict, body: Any) -> Answer:
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list):
            return invalid("tags", "Required fields were not provided: tags")
        for tag in tags:
            if (
                not isinstance(tag, dict)
                or not isinstance(tag.get("name"), str)
                or tag.get("status") not in ("active", "inactive")
            ):
                return invalid("tags", "Each tag needs a name and a status (active or inactive)")
        current = {t["name"]: t for t in member.get("tags", [])}
        for tag in tags:
            if tag["status"] == "active" and tag["name"] not in current:
                known = tx.get("tag", f"{list_id}:{tag['name']}")
                if known is None:
                    known = {"id": tx.counter("tag") + 100_000, "name": tag["name"]}
                    tx.put("tag", f"{list_id}:{tag['name']}", known, list_id)
                current[tag["name"]] = {**known, "date_added": _now_text(self.clock())}
            elif tag["status"] == "inactive":
                current.pop(tag["name"], None)
        member["tags"], member["tags_count"] = list(current.values()), len(current)
        _put_member(tx, list_id, member)
        return Answer(204)

    def trigger(self, tx: Tx, journey_id: str, step_id: str, rest: list[str], body: Any) -> Answer:
        journey = tx.get("journey", journey_id)
        if (
            rest != ["actions", "trigger"]
            or journey is None
            or not step_id.isdigit()
            or int(step_id) not in journey["steps"]
        ):
            return not_found()
        email = body.get("email_address") if isinstance(body, dict) else None
        if not isinstance(email, str):
            return invalid("email_address", "Required fields were not provided: email_address")
        member = tx.get("member", f"{journey['list_id']}:{subscriber_hash(email)}")
        if member is None:
            return invalid("email_address", "The contact is not a member of the journey's audience.")
        tx.put(
            "trigger",
            str(tx.counter("trigger")),
            {
                "journey_id": int(journey_id),
                "step_id": int(step_id),
                "member": member["id"],
                "status": member["status"],
                "at": _now_text(self.clock()),
            },
        )
        return Answer(204)

    # ---- batches
    def batches(self, tx: Tx, method: str, rest: list[str], body: Any, request: Request | None) -> Answer:
        if method == "GET" and not rest:
            found = tx.all("batch")
            return Answer(200, {"batches": found, "total_items": len(found)})
        if method == "GET" and len(rest) == 1:
            batch = tx.get("batch", rest[0])
            if batch is None:
                return not_found()
            if batch["status"] != "finished":
                batch.update(status="finished", completed_at=_now_text(self.clock()))
                tx.put("batch", batch["id"], batch)
            base = str(request.base_url).rstrip("/") if request is not None else ""
            return Answer(200, {**batch, "response_body_url": self._signed(tx, base, batch["id"])})
        if method != "POST" or rest:
            return not_found()
        operations = body.get("operations") if isinstance(body, dict) else None
        if not isinstance(operations, list) or not all(
            isinstance(op, dict) and isinstance(op.get("method"), str) and isinstance(op.get("path"), str)
            for op in operations
        ):
            return invalid("operations", "Each operation needs a method and a path")
        results = []
        for op in operations:
            op_body = op.get("body", "")
            if op_body is not None and not isinstance(op_body, str):
                answer = problem(400, "Invalid Resource", "An operation's body must be a string of JSON.")
            else:
                path = "/3.0/" + op["path"].lstrip("/")
                tx.count_call(f"{op['method'].upper()} {template(path)}")
                fault = tx.pop_fault(op["method"], path)
                if fault is not None:
                    answer = problem(
                        fault[0], "Internal Server Error" if fault[0] >= 500 else "Too Many Requests", "Injected fault."
                    )
                else:
                    answer = self.route(tx, op["method"].upper(), path, (op_body or "").encode(), None)
            results.append(
                {
                    "status_code": answer.status,
                    "operation_id": op.get("operation_id"),
                    "response": "" if answer.body is None else json.dumps(answer.body),
                }
            )
        batch_id = secrets.token_hex(5)
        now = _now_text(self.clock())
        tx.put_blob(batch_id, _tar(batch_id, results), self.clock() + 7 * 86400)
        batch = {
            "id": batch_id,
            "status": "pending",
            "total_operations": len(operations),
            "finished_operations": len(operations),
            "errored_operations": sum(1 for r in results if r["status_code"] >= 400),
            "submitted_at": now,
            "completed_at": "",
            "response_body_url": "",
            "_links": [],
        }
        tx.put("batch", batch_id, batch)
        return Answer(200, {**batch, "finished_operations": 0, "errored_operations": 0})

    def _signed(self, tx: Tx, base: str, batch_id: str) -> str:
        expires = int(self.clock() + RESULTS_TTL_S)
        signature = hmac.new((tx.meta("secret") or "").encode(), f"{batch_id}:{expires}".encode(), "sha256").hexdigest()
        return f"{base}/batch-results/{batch_id}-response.tar.gz?Expires={expires}&Signature={signature}"

    def results(self, path: str, request: Request) -> Response:
        batch_id = path.rsplit("/", 1)[-1].removesuffix("-response.tar.gz")
        with self.state.write() as tx:
            tx.count_call(f"GET {template(path)}")
            secret = (tx.meta("secret") or "").encode()
            blob = tx.blob(batch_id)
        expires = request.query_params.get("Expires", "0")
        wanted = hmac.new(secret, f"{batch_id}:{expires}".encode(), "sha256").hexdigest()
        if blob is None or not hmac.compare_digest(wanted, request.query_params.get("Signature", "")):
            return Response("<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml")
        if not expires.isdigit() or int(expires) < self.clock():
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                403,
                media_type="application/xml",
            )
        return Response(blob[0], 200, media_type="application/x-gzip")

    # ---- test-only admin
    def admin(self, method: str, path: str, raw: bytes, request: Request) -> Response:
        name = path[len("/__sandbox__/") :].strip("/")
        spec = json.loads(raw) if raw else {}
        with self.state.write() as tx:
            if name == "stats" and method == "GET":
                return JSONResponse({"calls": tx.stats()})
            if name == "faults" and method == "POST":
                return JSONResponse(tx.queue_fault(spec))
            if name == "members" and method == "GET":
                return JSONResponse({"members": tx.all("member")})
            if name == "members" and method == "POST":
                list_id = spec.get("list_id", SANDBOX_AUDIENCE_ID)
                member = _member(list_id, spec["email"], spec.get("status", "subscribed"), {}, self.clock())
                _put_member(tx, list_id, member)
                return JSONResponse(member)
            if name == "blocked" and method == "POST":
                tx.put("blocked", spec["email"].lower(), {"email": spec["email"].lower(), "kind": spec["kind"]})
                return JSONResponse({"ok": True})
            if name == "triggers" and method == "GET":
                return JSONResponse({"triggers": tx.all("trigger")})
        return JSONResponse({"error": "unknown admin route"}, status_code=404)


def _fields(document: dict[str, Any], fields: str | None) -> dict[str, Any]:
    if not fields:
        return document
    wanted = {f.strip().split(".")[0] for f in fields.split(",") if f.strip()}
    return {k: v for k, v in document.items() if k in wanted}


def _tar(batch_id: str, results: list[dict[str, Any]]) -> bytes:
    data = json.dumps(results).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(f"{batch_id}/0.json")
        info.size, info.mtime = len(data), int(time.time())
        archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def sandbox_debtors() -> list[tuple[str, str]]:
    """The sandbox practice's awkward debtors, the same on every run: among the patients with an invoice issued in the
    first half of October 2026 and never paid, two unsubscribed from the audience, one cleaned (bounced), one
    permanently deleted from it (forgotten) and one on the account's compliance list."""
    from clinic_etl.sandbox.cliniko import build_practice

    practice = build_practice()
    unpaid = {
        i["patient_id"]
        for i in practice.invoices
        if i["status"] == 10
        and not i["deleted_at"]
        and not i["archived_at"]
        and "2026-10-01" <= i["issue_date"] <= "2026-10-16"
    }
    emails = sorted(p["email"] for p in practice.patients if p["id"] in unpaid and p["email"] and not p["archived_at"])
    kinds = ("unsubscribed", "unsubscribed", "cleaned", "forgotten", "compliance")
    return [(emails[(7 + 13 * n) % len(emails)], kind) for n, kind in enumerate(kinds)] if len(emails) > 5 else []


def create_app(
    state_path: str,
    *,
    clock: Callable[[], float] = time.time,
    api_key: str = SANDBOX_MAILCHIMP_KEY,
    debtors: list[tuple[str, str]] | None = None,
) -> Starlette:
    """The simulator over the state file `state_path` (seeded on first use with the audience, the journey and the
    sandbox's awkward debtors, `sandbox_debtors()`, unless `debtors` is given)."""
    sim = MailchimpSimulator(state_path, clock, api_key, sandbox_debtors if debtors is None else lambda: debtors)
    app = Starlette(routes=[Route("/{path:path}", sim.endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
    app.state.mailchimp = sim
    return app
